/* Init throughput: the samplers writing into a device buffer and into host memory (the C twin on all cores),
 * beside the device's write limit: a kernel that only stores (bench/fill.cl); and orthogonal's QR on the host. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cblas.h>

#include "bench.h"

extern const char bench_kernel_fill[];

typedef struct job {
    oclinit_runtime_t runtime;
    oclinit_distribution distribution;
    uint64_t elements;
    cl_mem buffer;
    cl_kernel store;
    float *host;
} job;

static oclinit_status device_fill(void *context) {
    job *j = context;
    return oclinit_init_fill_buffer(j->runtime, &j->distribution, 1, 0, 0, j->elements, j->buffer, 0);
}

static oclinit_status host_fill(void *context) {
    job *j = context;
    return oclinit_init_fill_host(NULL, &j->distribution, 1, 0, 0, j->elements, j->host);
}

static oclinit_status store_only(void *context) {
    job *j = context;
    cl_command_queue queue = oclinit_runtime_get_queue(j->runtime);
    float value = 0.5f;
    size_t items = (size_t)j->elements / 16;
    if (clSetKernelArg(j->store, 0, sizeof j->buffer, &j->buffer) != CL_SUCCESS ||
        clSetKernelArg(j->store, 1, sizeof value, &value) != CL_SUCCESS ||
        clEnqueueNDRangeKernel(queue, j->store, 1, NULL, &items, NULL, 0, NULL, NULL) != CL_SUCCESS ||
        clFinish(queue) != CL_SUCCESS)
        return OCLINIT_ERROR_IO;
    return OCLINIT_SUCCESS;
}

/* orthogonal of an n x n tensor through the public fill, normal draw on the host C path and QR included. */
typedef struct orthogonal_job {
    oclinit_distribution distribution;
    uint64_t elements;
    float *out;
} orthogonal_job;

static oclinit_status orthogonal_fill(void *context) {
    orthogonal_job *j = context;
    return oclinit_init_fill_host(NULL, &j->distribution, 1, 0, 0, j->elements, j->out);
}

size_t bench_orthogonal_size(const bench_config *cfg) {
    return cfg->quick ? 1024 : 4096;
}

/* init-orthogonal, and max |Q^T Q - I| of its result in double (OpenBLAS's dsyrk) as a note. */
static oclinit_status bench_orthogonal(const bench_config *cfg, bench_results *results) {
    size_t n = bench_orthogonal_size(cfg);
    char detail[48];
    orthogonal_job j = {.elements = (uint64_t)n * n};
    oclinit_scheme scheme = oclinit_scheme_default(OCLINIT_SCHEME_ORTHOGONAL);
    oclinit_status status = oclinit_scheme_resolve(&scheme, (int64_t)n, (int64_t)n, &j.distribution);
    if (status == OCLINIT_SUCCESS) status = bench_say(cfg, "init-orthogonal on the host, %zu x %zu", n, n);
    if (status != OCLINIT_SUCCESS) return status;
    j.out = malloc(n * n * sizeof(float));
    double *q = malloc(n * n * sizeof(double)), *gram = malloc(n * n * sizeof(double));
    if (!j.out || !q || !gram) status = OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
    if (status == OCLINIT_SUCCESS) {
        snprintf(detail, sizeof detail, "%zu x %zu", n, n);
        timing t = bench_measure(orthogonal_fill, &j, cfg->repeat);
        bench_add(results, "init-orthogonal", "host", (double)(n * n), t, (double)(n * n) / 1e6, "M samples/s", detail);
        if (!isnan(t.median)) { /* the fill worked: check its result */
            for (size_t i = 0; i < n * n; i++) q[i] = j.out[i];
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)n, (blasint)n, 1.0, q, (blasint)n, 0.0, gram,
                        (blasint)n);
            double worst = 0;
            for (size_t r = 0; r < n; r++)
                for (size_t c = r; c < n; c++) worst = fmax(worst, fabs(gram[r * n + c] - (r == c)));
            bench_note(results, "init-orthogonal %s: max |Q^T Q - I| = %.3g (oclinit, float32 result)", detail, worst);
        }
    }
    free(gram);
    free(q);
    free(j.out);
    return status;
}

size_t bench_init_sizes(const bench_config *cfg, double *sizes) {
    size_t n = 0;
    for (int log2 = 16; log2 <= (cfg->quick ? 24 : 28); log2 += cfg->quick ? 4 : 2) sizes[n++] = ldexp(1, log2);
    return n;
}

static oclinit_status build_store_kernel(oclinit_runtime_t runtime, cl_kernel *kernel) {
    cl_int error;
    cl_device_id device;
    cl_context context = oclinit_runtime_get_context(runtime);
    const char *source = bench_kernel_fill;
    cl_program program = clCreateProgramWithSource(context, 1, &source, NULL, &error);
    if (error == CL_SUCCESS) error = clGetContextInfo(context, CL_CONTEXT_DEVICES, sizeof device, &device, NULL);
    if (error == CL_SUCCESS) error = clBuildProgram(program, 1, &device, "", NULL, NULL);
    if (error == CL_SUCCESS) *kernel = clCreateKernel(program, "store_constant", &error);
    if (program) clReleaseProgram(program); /* the kernel keeps it alive */
    return error == CL_SUCCESS ? OCLINIT_SUCCESS : OCLINIT_ERROR_KERNEL_BUILD;
}

oclinit_status bench_init(const bench_config *cfg, bench_results *results) {
    static const struct {
        const char *benchmark;
        oclinit_scheme_kind kind;
    } schemes[] = {{"init-uniform", OCLINIT_SCHEME_UNIFORM},
                   {"init-he-normal", OCLINIT_SCHEME_KAIMING_NORMAL},
                   {"init-trunc-normal", OCLINIT_SCHEME_TRUNC_NORMAL}};
    double sizes[16];
    size_t count = bench_init_sizes(cfg, sizes);
    uint64_t most = (uint64_t)sizes[count - 1];
    job j = {.runtime = cfg->runtime};
    cl_int error;
    oclinit_status status = build_store_kernel(cfg->runtime, &j.store);
    if (status == OCLINIT_SUCCESS) {
        j.buffer = clCreateBuffer(oclinit_runtime_get_context(cfg->runtime), CL_MEM_READ_WRITE, most * sizeof(float),
                                  NULL, &error);
        if (error != CL_SUCCESS) status = OCLINIT_ERROR_OUT_OF_DEVICE_MEMORY;
    }
    j.host = malloc(most * sizeof(float));
    if (!j.host) status = OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
    for (size_t i = 0; i < count && status == OCLINIT_SUCCESS; i++) {
        j.elements = (uint64_t)sizes[i];
        if ((status = bench_say(cfg, "init: store-only kernel, %.0f elements", sizes[i])) != OCLINIT_SUCCESS) break;
        timing limit = bench_measure(store_only, &j, cfg->repeat);
        for (size_t s = 0; s < 3 && status == OCLINIT_SUCCESS; s++) {
            oclinit_scheme scheme = oclinit_scheme_default(schemes[s].kind);
            /* A (4096, n / 4096) layer, drawn as one long row-major run of samples. */
            status = oclinit_scheme_resolve(&scheme, 4096, (int64_t)(j.elements / 4096), &j.distribution);
            if (status != OCLINIT_SUCCESS) break;
            j.distribution.shape = oclinit_shape_matrix((int64_t)j.elements, 1);
            bench_add(results, schemes[s].benchmark, "fill-limit", sizes[i], limit, sizes[i] / 1e9, "G samples/s",
                      NULL);
            if ((status = bench_say(cfg, "%s on the device, %.0f elements", schemes[s].benchmark, sizes[i]))) break;
            bench_add(results, schemes[s].benchmark, "device", sizes[i], bench_measure(device_fill, &j, cfg->repeat),
                      sizes[i] / 1e9, "G samples/s", NULL);
            if ((status = bench_say(cfg, "%s on the host, %.0f elements", schemes[s].benchmark, sizes[i]))) break;
            bench_add(results, schemes[s].benchmark, "host", sizes[i], bench_measure(host_fill, &j, cfg->repeat),
                      sizes[i] / 1e9, "G samples/s", NULL);
        }
    }
    if (j.buffer) clReleaseMemObject(j.buffer);
    if (j.store) clReleaseKernel(j.store);
    free(j.host);
    return status == OCLINIT_SUCCESS ? bench_orthogonal(cfg, results) : status;
}
