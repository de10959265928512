/* Filling tensors: the kernels of kernels/init.cl and their host C twin, both through kernels/distributions.h. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distributions.h"
#define OI_DTYPE_WORD uint32_t
#include "dtype.h" /* the kernels' dtype codes */
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

/* Normal samples stay within |mean| + 5.8 std: Box-Muller's radius is at most sqrt(-2 ln 2^-24) < 5.8
 * (kernels/distributions.h); beyond float's range they would round to infinity. */
static oclinit_status normal_check(float mean, float std) {
    if (!isfinite(mean))
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "mean must be a finite float32 number, got %g", mean);
    if (!(std > 0) || !isfinite(std))
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "std must be a finite number > 0 (in float32), got %g", std);
    if (fabs((double)mean) + 5.8 * (double)std > FLT_MAX)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "normal(mean=%g, std=%g) would draw values beyond float32's range (|mean| + 5.8 std must stay "
                       "within %g)",
                       mean, std, FLT_MAX);
    return OCLINIT_SUCCESS;
}

oclinit_status oi_distribution_check(const oclinit_distribution *d) {
    oclinit_status status = OCLINIT_SUCCESS;
    uint64_t elements;
    if (!d) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "distribution is NULL");
    OI_CHECK(oclinit_shape_get_elements(&d->shape, &elements));
    const int64_t *dims = d->shape.dims;
    switch (d->kind) {
    case OCLINIT_DISTRIBUTION_CONSTANT:
        if (!isfinite(d->value))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the constant must be finite, got %g", d->value);
        return OCLINIT_SUCCESS;
    case OCLINIT_DISTRIBUTION_EYE:
        if (d->shape.rank < 2 || d->groups < 1 || dims[0] % d->groups != 0 || !isfinite(d->value))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "eye needs 2 or more dimensions, groups >= 1 dividing shape[0] and a finite gain, got %d "
                           "dimensions, %lld groups, gain %g",
                           d->shape.rank, (long long)d->groups, d->value);
        return OCLINIT_SUCCESS;
    case OCLINIT_DISTRIBUTION_ORTHOGONAL:
        if (d->shape.rank < 2 || d->rows < 1 || elements % (uint64_t)d->rows != 0 || !isfinite(d->value))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "orthogonal needs 2 or more dimensions, rows dividing the elements and a finite gain, got "
                           "%d dimensions, %lld rows, gain %g",
                           d->shape.rank, (long long)d->rows, d->value);
        return OCLINIT_SUCCESS;
    case OCLINIT_DISTRIBUTION_SPARSE:
        if (d->shape.rank != 2 || d->zeros < 0 || d->zeros > dims[0])
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "sparse needs 2 dimensions and 0 to shape[0] zeros per column, got %d dimensions, %lld "
                           "zeros",
                           d->shape.rank, (long long)d->zeros);
        return normal_check(0.0f, d->std);
    case OCLINIT_DISTRIBUTION_UNIFORM:
        if (!(d->a < d->b) || !isfinite(d->b - d->a))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "uniform needs finite a < b (in float32), got a=%g b=%g",
                           d->a, d->b);
        return OCLINIT_SUCCESS;
    case OCLINIT_DISTRIBUTION_NORMAL: return normal_check(d->mean, d->std);
    case OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL: {
        if (!isfinite(d->mean))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "mean must be a finite float32 number, got %g", d->mean);
        if (!(d->std > 0) || !isfinite(d->std))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "std must be a finite number > 0 (in float32), got %g",
                           d->std);
        if (!(d->a < d->b))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "truncation needs a < b, got a=%g b=%g", d->a, d->b);
        oi_trunc_normal_params unused;
        return trunc_normal_params(d, &unused);
    }
    }
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown distribution kind %d", (int)d->kind);
cleanup:
    return status;
}

static oclinit_status check_range(const oclinit_distribution *d, uint64_t first, uint64_t count) {
    uint64_t total = 0;
    oclinit_status status = oi_distribution_check(d);
    if (status != OCLINIT_SUCCESS) return status;
    oclinit_shape_get_elements(&d->shape, &total);
    if (first > total || count > total - first) {
        char shape[OCLINIT_MAX_RANK * 24];
        oclinit_shape_format(&d->shape, shape, sizeof shape);
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "elements [%llu, %llu + %llu) lie outside the %s tensor",
                       (unsigned long long)first, (unsigned long long)first, (unsigned long long)count, shape);
    }
    return OCLINIT_SUCCESS;
}

/* eye and dirac: ones (times the gain) at [g out/groups + k, k, centre of the kernel] for group g and k below
 * min(out/groups, in). The n-th of them lies at flat index (n / per_group) group_stride + (n % per_group)
 * diagonal_stride + centre, which grows with n. */
typedef struct eye_lattice {
    uint64_t ones, per_group, group_stride, diagonal_stride, centre;
} eye_lattice;

static eye_lattice eye_lattice_of(const oclinit_distribution *d) {
    eye_lattice e;
    uint64_t receptive = 1, centre = 0;
    for (int k = 2; k < d->shape.rank; k++) {
        centre = centre * (uint64_t)d->shape.dims[k] + (uint64_t)d->shape.dims[k] / 2;
        receptive *= (uint64_t)d->shape.dims[k];
    }
    uint64_t out = (uint64_t)d->shape.dims[0] / (uint64_t)d->groups, in = (uint64_t)d->shape.dims[1];
    e.per_group = out < in ? out : in;
    e.ones = e.per_group * (uint64_t)d->groups;
    e.group_stride = out * in * receptive;
    e.diagonal_stride = (in + 1) * receptive;
    e.centre = centre;
    return e;
}

static uint64_t eye_position(const eye_lattice *e, uint64_t n) {
    return n / e->per_group * e->group_stride + n % e->per_group * e->diagonal_stride + e->centre;
}

/* The ones n in [begin, end) that fall inside [first, first + count), by bisection on the growing positions. */
static void eye_range(const eye_lattice *e, uint64_t first, uint64_t count, uint64_t *begin, uint64_t *end) {
    uint64_t bounds[2] = {first, first + count};
    for (int k = 0; k < 2; k++) {
        uint64_t low = 0, high = e->ones;
        while (low < high) {
            uint64_t middle = low + (high - low) / 2;
            if (eye_position(e, middle) < bounds[k])
                low = middle + 1;
            else
                high = middle;
        }
        bounds[k] = low;
    }
    *begin = bounds[0];
    *end = bounds[1];
}

/* ---- Host twin ------------------------------------------------------------------------------------------ */

void oi_init_fill_host_twin(const oclinit_distribution *d, uint64_t seed, uint64_t stream, uint64_t first,
                            uint64_t count, float *out) {
    if (count == 0) return;
    if (d->kind == OCLINIT_DISTRIBUTION_CONSTANT || d->kind == OCLINIT_DISTRIBUTION_EYE) {
        float value = d->kind == OCLINIT_DISTRIBUTION_CONSTANT ? d->value : 0.0f;
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < (int64_t)count; i++) out[i] = value;
        if (d->kind == OCLINIT_DISTRIBUTION_EYE) {
            eye_lattice e = eye_lattice_of(d);
            uint64_t begin, end;
            eye_range(&e, first, count, &begin, &end);
            for (uint64_t n = begin; n < end; n++) out[eye_position(&e, n) - first] = d->value;
        }
        return;
    }
    if (d->kind == OCLINIT_DISTRIBUTION_SPARSE) {
        oi_sampler normal = {OCLINIT_DISTRIBUTION_NORMAL, 0, 0, 0.0f, d->std, {0}};
        oi_init_twin_fill(&normal, seed, stream, first, count, out);
        oi_sparse_twin_zero(d, seed, stream, first, count, out);
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

static bool is_sampler(oclinit_distribution_kind kind) {
    return kind == OCLINIT_DISTRIBUTION_UNIFORM || kind == OCLINIT_DISTRIBUTION_NORMAL ||
           kind == OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL;
}

bool oi_init_fills_in(oclinit_runtime_t rt, const oclinit_distribution *d, oclinit_dtype dtype) {
    return dtype == OCLINIT_DTYPE_F32 ||
           ((dtype == OCLINIT_DTYPE_BF16 || dtype == OCLINIT_DTYPE_F16) && is_sampler(d->kind) && rt->lanes >= 4);
}

/* Enqueues the fill without waiting for it (oclinit_init_write_npy overlaps it with writing the file). */
oclinit_status oi_init_enqueue_fill(oclinit_runtime_t rt, const oclinit_distribution *d, uint64_t seed, uint64_t stream,
                                    uint64_t first, uint64_t count, cl_mem buffer, size_t offset) {
    return oi_init_enqueue_fill_in(rt, d, seed, stream, first, count, OCLINIT_DTYPE_F32, buffer, offset);
}

oclinit_status oi_init_enqueue_fill_in(oclinit_runtime_t rt, const oclinit_distribution *d, uint64_t seed,
                                       uint64_t stream, uint64_t first, uint64_t count, oclinit_dtype dtype,
                                       cl_mem buffer, size_t offset) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_kernel kernel = NULL;
    size_t items;
    if (count == 0) return OCLINIT_SUCCESS;
    if (!oi_init_fills_in(rt, d, dtype))
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "this device makes %s samples in float32 only",
                       oclinit_distribution_kind_str(d->kind));

    if (d->kind == OCLINIT_DISTRIBUTION_ORTHOGONAL)
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "orthogonal is made whole, on the host (oi_orthogonal_make)");
    if (d->kind == OCLINIT_DISTRIBUTION_CONSTANT || d->kind == OCLINIT_DISTRIBUTION_EYE) {
        cl_float value = d->kind == OCLINIT_DISTRIBUTION_CONSTANT ? d->value : 0.0f;
        OI_CL_CHECK(clEnqueueFillBuffer(rt->queue, buffer, &value, sizeof value, offset * sizeof(float),
                                        count * sizeof(float), 0, NULL, NULL));
        if (d->kind == OCLINIT_DISTRIBUTION_CONSTANT) goto cleanup;
        eye_lattice e = eye_lattice_of(d);
        uint64_t begin, end;
        eye_range(&e, first, count, &begin, &end);
        if (begin == end) goto cleanup;
        const cl_ulong integers[7] = {offset, first, begin, e.per_group, e.group_stride, e.diagonal_stride, e.centre};
        OI_CHECK(oi_runtime_kernel(rt, &oi_program_init, "oi_init_eye", &kernel));
        OI_CHECK(set_kernel_args(kernel, buffer, integers, 7, &d->value, 1));
        items = (size_t)(end - begin);
        OI_CL_CHECK(clEnqueueNDRangeKernel(rt->queue, kernel, 1, NULL, &items, NULL, 0, NULL, NULL));
        goto cleanup;
    }

    const cl_ulong integers[6] = {
        offset, first,
        count,  seed,
        stream, dtype == OCLINIT_DTYPE_BF16 ? OI_DTYPE_BF16 : dtype == OCLINIT_DTYPE_F16 ? OI_DTYPE_F16 : OI_DTYPE_F32};
    if (d->kind == OCLINIT_DISTRIBUTION_UNIFORM) {
        const cl_float params[2] = {d->a, d->b - d->a};
        OI_CHECK(oi_runtime_kernel(rt, &oi_program_init, "oi_init_uniform", &kernel));
        OI_CHECK(set_kernel_args(kernel, buffer, integers, 6, params, 2));
    } else if (d->kind == OCLINIT_DISTRIBUTION_NORMAL || d->kind == OCLINIT_DISTRIBUTION_SPARSE) {
        const cl_float params[2] = {d->kind == OCLINIT_DISTRIBUTION_SPARSE ? 0.0f : d->mean, d->std};
        OI_CHECK(oi_runtime_kernel(rt, &oi_program_init, "oi_init_normal", &kernel));
        OI_CHECK(set_kernel_args(kernel, buffer, integers, 6, params, 2));
    } else {
        oi_trunc_normal_params p;
        OI_CHECK(trunc_normal_params(d, &p));
        const cl_float params[7] = {p.lower, p.width, p.upper, p.mean, p.scale, p.a, p.b};
        OI_CHECK(oi_runtime_kernel(rt, &oi_program_init, "oi_init_trunc_normal", &kernel));
        OI_CHECK(set_kernel_args(kernel, buffer, integers, 6, params, 7));
    }
    uint64_t blocks = (first + count - 1) / 4 - first / 4 + 1;
    items = (size_t)((blocks + rt->lanes - 1) / rt->lanes);
    OI_CL_CHECK(clEnqueueNDRangeKernel(rt->queue, kernel, 1, NULL, &items, NULL, 0, NULL, NULL));
    if (d->kind == OCLINIT_DISTRIBUTION_SPARSE)
        OI_CHECK(oi_sparse_enqueue_zero(rt, d, seed, stream, first, count, buffer, offset));
cleanup:
    return status;
}

/* orthogonal is one QR of the whole tensor: a slice is cut from the whole, made on runtime's device or the host. */
static oclinit_status orthogonal_slice(oclinit_runtime_t runtime, const oclinit_distribution *d, uint64_t seed,
                                       uint64_t stream, uint64_t first, uint64_t count, float *out) {
    oclinit_status status = OCLINIT_SUCCESS;
    uint64_t total = 0;
    float *whole = NULL;
    oclinit_shape_get_elements(&d->shape, &total);
    if (first == 0 && count == total) return oi_orthogonal_make(runtime, d, seed, stream, out);
    size_t bytes;
    OI_CHECK(oi_size_bytes("orthogonal's tensor", (size_t)total, 1, sizeof(float), &bytes));
    whole = malloc(bytes);
    if (!whole) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "orthogonal: %zu bytes for the whole tensor", bytes);
    OI_CHECK(oi_orthogonal_make(runtime, d, seed, stream, whole));
    memcpy(out, whole + first, (size_t)count * sizeof(float));
cleanup:
    free(whole);
    return status;
}

oclinit_status oclinit_init_fill_buffer(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                        uint64_t seed, uint64_t stream, uint64_t first, uint64_t count, cl_mem buffer,
                                        size_t buffer_offset) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t buffer_size;
    float *host = NULL;
    if (oi_runtime_on_host(runtime))
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "filling a cl_mem needs an OpenCL device, not the host C path");
    OI_REQUIRE(distribution, "distribution");
    OI_REQUIRE(buffer, "buffer");
    OI_CHECK(check_range(distribution, first, count));
    OI_CL_CHECK(clGetMemObjectInfo(buffer, CL_MEM_SIZE, sizeof buffer_size, &buffer_size, NULL));
    if (buffer_offset > buffer_size / sizeof(float) || count > buffer_size / sizeof(float) - buffer_offset)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%llu elements at offset %zu do not fit a buffer of %zu bytes",
                       (unsigned long long)count, buffer_offset, buffer_size);
    if (distribution->kind == OCLINIT_DISTRIBUTION_ORTHOGONAL) {
        host = malloc((size_t)count * sizeof(float) + 1);
        if (!host)
            return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "orthogonal: %llu elements", (unsigned long long)count);
        OI_CHECK(orthogonal_slice(runtime, distribution, seed, stream, first, count, host));
        OI_CL_CHECK(clEnqueueWriteBuffer(runtime->queue, buffer, CL_TRUE, buffer_offset * sizeof(float),
                                         (size_t)count * sizeof(float), host, 0, NULL, NULL));
        goto cleanup;
    }
    OI_CHECK(oi_init_enqueue_fill(runtime, distribution, seed, stream, first, count, buffer, buffer_offset));
    OI_CL_CHECK(clFinish(runtime->queue));
cleanup:
    free(host);
    return status;
}

oclinit_status oclinit_init_fill_host(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                      uint64_t seed, uint64_t stream, uint64_t first, uint64_t count, float *out) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_mem buffer = NULL;
    OI_REQUIRE(distribution, "distribution");
    OI_REQUIRE(out || count == 0, "out");
    OI_CHECK(check_range(distribution, first, count));
    if (distribution->kind == OCLINIT_DISTRIBUTION_ORTHOGONAL)
        return orthogonal_slice(runtime, distribution, seed, stream, first, count, out);
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
