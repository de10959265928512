/* Filling tensors: the kernels of kernels/init.cl and their host C twin, both through kernels/distributions.h. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distributions.h"
#include "features/features.h"

extern const char oi_kernel_init[];
const oi_program oi_program_init = {"kernels/init.cl", oi_kernel_init, 0};

/* Below this probability mass, p = lower + width u would fall under float's normal range near 2^-24 width. */
#define TRUNCATED_MIN_MASS 1e-30
/* Device chunk for oclinit_init_fill_host on a device: 64 MiB. */
#define FILL_HOST_CHUNK_ELEMENTS ((uint64_t)1 << 24)

static double normal_cdf(double x) {
    return 0.5 * erfc(-x / sqrt(2.0));
}

/* The kernel parameters of a truncated normal (see oi_trunc_normal in kernels/distributions.h). */
static oclinit_status trunc_normal_params(const oclinit_distribution *d, oi_trunc_normal_params *p) {
    double alpha = ((double)d->a - d->mean) / d->std, beta = ((double)d->b - d->mean) / d->std;
    double scale = d->std;
    if (alpha + beta > 0) { /* mirror so the interval reaches no further into the upper tail than the lower */
        double t = alpha;
        alpha = -beta;
        beta = -t;
        scale = -scale;
    }
    double lower = normal_cdf(alpha), upper = normal_cdf(-beta);
    double width = beta <= 0 ? normal_cdf(beta) - lower : 1.0 - upper - lower;
    if (!(width >= TRUNCATED_MIN_MASS))
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "the interval [a, b] = [%g, %g] holds a probability of %.3g under normal(mean=%g, std=%g); "
                       "at least %g is needed to sample it in float32",
                       d->a, d->b, width, d->mean, d->std, TRUNCATED_MIN_MASS);
    p->lower = (float)lower;
    p->width = (float)width;
    p->upper = (float)upper;
    p->mean = d->mean;
    p->scale = (float)scale;
    p->a = d->a;
    p->b = d->b;
    return OCLINIT_SUCCESS;
}

oclinit_status oi_distribution_check(const oclinit_distribution *d) {
    int64_t elements;
    if (!d) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "distribution is NULL");
    if (d->rows <= 0 || d->columns <= 0)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the shape must be at least 1 x 1, got %lld x %lld",
                       (long long)d->rows, (long long)d->columns);
    if (__builtin_mul_overflow(d->rows, d->columns, &elements) || elements > INT64_MAX / (int64_t)sizeof(float))
        return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "a %lld x %lld float32 tensor does not fit in 2^63 bytes",
                       (long long)d->rows, (long long)d->columns);
    switch (d->kind) {
    case OCLINIT_DISTRIBUTION_CONSTANT:
        if (!isfinite(d->value))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the constant must be finite, got %g", d->value);
        return OCLINIT_SUCCESS;
    case OCLINIT_DISTRIBUTION_EYE: return OCLINIT_SUCCESS;
    case OCLINIT_DISTRIBUTION_UNIFORM:
        if (!(d->a < d->b) || !isfinite(d->b - d->a))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "uniform needs finite a < b (in float32), got a=%g b=%g",
                           d->a, d->b);
        return OCLINIT_SUCCESS;
    case OCLINIT_DISTRIBUTION_NORMAL:
    case OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL:
        if (!isfinite(d->mean))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "mean must be a finite float32 number, got %g", d->mean);
        if (!(d->std > 0) || !isfinite(d->std))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "std must be a finite number > 0 (in float32), got %g",
                           d->std);
        /* Box-Muller's radius is at most sqrt(-2 ln 2^-24) < 5.8 (kernels/distributions.h): beyond that, samples
         * would round to infinity. */
        if (d->kind == OCLINIT_DISTRIBUTION_NORMAL && fabs((double)d->mean) + 5.8 * (double)d->std > FLT_MAX)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "normal(mean=%g, std=%g) would draw values beyond float32's range (|mean| + 5.8 std must "
                           "stay within %g)",
                           d->mean, d->std, FLT_MAX);
        if (d->kind == OCLINIT_DISTRIBUTION_NORMAL) return OCLINIT_SUCCESS;
        if (!(d->a < d->b))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "truncation needs a < b, got a=%g b=%g", d->a, d->b);
        oi_trunc_normal_params unused;
        return trunc_normal_params(d, &unused);
    }
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown distribution kind %d", (int)d->kind);
}

static oclinit_status check_range(const oclinit_distribution *d, uint64_t first, uint64_t count) {
    oclinit_status status = oi_distribution_check(d);
    if (status != OCLINIT_SUCCESS) return status;
    uint64_t total = (uint64_t)d->rows * (uint64_t)d->columns;
    if (first > total || count > total - first)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "elements [%llu, %llu + %llu) lie outside the %lld x %lld tensor", (unsigned long long)first,
                       (unsigned long long)first, (unsigned long long)count, (long long)d->rows, (long long)d->columns);
    return OCLINIT_SUCCESS;
}

/* ---- Host twin ------------------------------------------------------------------------------------------ */

/* Diagonal elements d (flat index d (columns + 1)) that fall inside [first, first + count). */
static void eye_diagonal_range(const oclinit_distribution *d, uint64_t first, uint64_t count, uint64_t *begin,
                               uint64_t *end) {
    uint64_t stride = (uint64_t)d->columns + 1;
    uint64_t diagonal = (uint64_t)(d->rows < d->columns ? d->rows : d->columns);
    *begin = (first + stride - 1) / stride;
    *end = (first + count + stride - 1) / stride;
    if (*end > diagonal) *end = diagonal;
    if (*begin > *end) *begin = *end;
}

void oi_init_fill_host_twin(const oclinit_distribution *d, uint64_t seed, uint64_t stream, uint64_t first,
                            uint64_t count, float *out) {
    if (count == 0) return;
    if (d->kind == OCLINIT_DISTRIBUTION_CONSTANT || d->kind == OCLINIT_DISTRIBUTION_EYE) {
        float value = d->kind == OCLINIT_DISTRIBUTION_CONSTANT ? d->value : 0.0f;
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < (int64_t)count; i++) out[i] = value;
        if (d->kind == OCLINIT_DISTRIBUTION_EYE) {
            uint64_t begin, end;
            eye_diagonal_range(d, first, count, &begin, &end);
            for (uint64_t k = begin; k < end; k++) out[k * ((uint64_t)d->columns + 1) - first] = 1.0f;
        }
        return;
    }
    oi_sampler sampler = {d->kind, d->a, d->b - d->a, d->mean, d->std, {0}};
    if (d->kind == OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL) {
        oi_trunc_normal_params p;
        trunc_normal_params(d, &p);
        const float values[7] = {p.lower, p.width, p.upper, p.mean, p.scale, p.a, p.b};
        memcpy(sampler.trunc, values, sizeof values);
    }
    oi_init_twin_fill(&sampler, seed, stream, first, count, out);
}

/* ---- Device --------------------------------------------------------------------------------------------- */

/* Kernel arguments in the order of kernels/init.cl: the buffer, then 64-bit integers, then floats. */
static oclinit_status set_kernel_args(cl_kernel kernel, cl_mem buffer, const cl_ulong *integers, cl_uint integer_count,
                                      const cl_float *floats, cl_uint float_count) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_uint arg = 0;
    OI_CL_CHECK(clSetKernelArg(kernel, arg++, sizeof buffer, &buffer));
    for (cl_uint k = 0; k < integer_count; k++)
        OI_CL_CHECK(clSetKernelArg(kernel, arg++, sizeof *integers, &integers[k]));
    for (cl_uint k = 0; k < float_count; k++) OI_CL_CHECK(clSetKernelArg(kernel, arg++, sizeof *floats, &floats[k]));
cleanup:
    return status;
}

/* Enqueues the fill without waiting for it (oclinit_init_write_npy overlaps it with writing the file). */
oclinit_status oi_init_enqueue_fill(oclinit_runtime_t rt, const oclinit_distribution *d, uint64_t seed, uint64_t stream,
                                    uint64_t first, uint64_t count, cl_mem buffer, size_t offset) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_kernel kernel = NULL;
    size_t items;
    if (count == 0) return OCLINIT_SUCCESS;

    if (d->kind == OCLINIT_DISTRIBUTION_CONSTANT || d->kind == OCLINIT_DISTRIBUTION_EYE) {
        cl_float value = d->kind == OCLINIT_DISTRIBUTION_CONSTANT ? d->value : 0.0f;
        OI_CL_CHECK(clEnqueueFillBuffer(rt->queue, buffer, &value, sizeof value, offset * sizeof(float),
                                        count * sizeof(float), 0, NULL, NULL));
        uint64_t begin, end;
        eye_diagonal_range(d, first, count, &begin, &end);
        if (d->kind == OCLINIT_DISTRIBUTION_CONSTANT || begin == end) goto cleanup;
        const cl_ulong integers[5] = {offset, first, count, (cl_ulong)d->columns, begin};
        OI_CHECK(oi_runtime_kernel(rt, &oi_program_init, "oi_init_eye_diagonal", &kernel));
        OI_CHECK(set_kernel_args(kernel, buffer, integers, 5, NULL, 0));
        items = (size_t)(end - begin);
        OI_CL_CHECK(clEnqueueNDRangeKernel(rt->queue, kernel, 1, NULL, &items, NULL, 0, NULL, NULL));
        goto cleanup;
    }

    const cl_ulong integers[5] = {offset, first, count, seed, stream};
    if (d->kind == OCLINIT_DISTRIBUTION_UNIFORM) {
        const cl_float params[2] = {d->a, d->b - d->a};
        OI_CHECK(oi_runtime_kernel(rt, &oi_program_init, "oi_init_uniform", &kernel));
        OI_CHECK(set_kernel_args(kernel, buffer, integers, 5, params, 2));
    } else if (d->kind == OCLINIT_DISTRIBUTION_NORMAL) {
        const cl_float params[2] = {d->mean, d->std};
        OI_CHECK(oi_runtime_kernel(rt, &oi_program_init, "oi_init_normal", &kernel));
        OI_CHECK(set_kernel_args(kernel, buffer, integers, 5, params, 2));
    } else {
        oi_trunc_normal_params p;
        OI_CHECK(trunc_normal_params(d, &p));
        const cl_float params[7] = {p.lower, p.width, p.upper, p.mean, p.scale, p.a, p.b};
        OI_CHECK(oi_runtime_kernel(rt, &oi_program_init, "oi_init_trunc_normal", &kernel));
        OI_CHECK(set_kernel_args(kernel, buffer, integers, 5, params, 7));
    }
    uint64_t blocks = (first + count - 1) / 4 - first / 4 + 1;
    items = (size_t)((blocks + rt->lanes - 1) / rt->lanes);
    OI_CL_CHECK(clEnqueueNDRangeKernel(rt->queue, kernel, 1, NULL, &items, NULL, 0, NULL, NULL));
cleanup:
    return status;
}

oclinit_status oclinit_init_fill_buffer(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                        uint64_t seed, uint64_t stream, uint64_t first, uint64_t count, cl_mem buffer,
                                        size_t buffer_offset) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t buffer_size;
    if (oi_runtime_on_host(runtime))
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "filling a cl_mem needs an OpenCL device, not the host C path");
    OI_REQUIRE(distribution, "distribution");
    OI_REQUIRE(buffer, "buffer");
    OI_CHECK(check_range(distribution, first, count));
    OI_CL_CHECK(clGetMemObjectInfo(buffer, CL_MEM_SIZE, sizeof buffer_size, &buffer_size, NULL));
    if (buffer_offset > buffer_size / sizeof(float) || count > buffer_size / sizeof(float) - buffer_offset)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%llu elements at offset %zu do not fit a buffer of %zu bytes",
                       (unsigned long long)count, buffer_offset, buffer_size);
    OI_CHECK(oi_init_enqueue_fill(runtime, distribution, seed, stream, first, count, buffer, buffer_offset));
    OI_CL_CHECK(clFinish(runtime->queue));
cleanup:
    return status;
}

oclinit_status oclinit_init_fill_host(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                      uint64_t seed, uint64_t stream, uint64_t first, uint64_t count, float *out) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_mem buffer = NULL;
    OI_REQUIRE(distribution, "distribution");
    OI_REQUIRE(out || count == 0, "out");
    OI_CHECK(check_range(distribution, first, count));
    if (oi_runtime_on_host(runtime)) {
        oi_init_fill_host_twin(distribution, seed, stream, first, count, out);
        return OCLINIT_SUCCESS;
    }
    uint64_t chunk = count < FILL_HOST_CHUNK_ELEMENTS ? count : FILL_HOST_CHUNK_ELEMENTS;
    if (chunk == 0) return OCLINIT_SUCCESS;
    OI_CHECK(oi_buffer_create(runtime, (size_t)chunk * sizeof(float), &buffer));
    for (uint64_t done = 0; done < count; done += chunk) {
        uint64_t n = count - done < chunk ? count - done : chunk;
        OI_CHECK(oi_init_enqueue_fill(runtime, distribution, seed, stream, first + done, n, buffer, 0));
        OI_CL_CHECK(clEnqueueReadBuffer(runtime->queue, buffer, CL_TRUE, 0, (size_t)n * sizeof(float), out + done, 0,
                                        NULL, NULL));
    }
cleanup:
    if (buffer) clReleaseMemObject(buffer);
    return status;
}
