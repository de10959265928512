/* SGEMM: CLBlast on the device against OpenBLAS on the host, square n^3 and the large network's shapes, as the
 * network makes its products (blas: the device's cache file from `oclinit tune` applied). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef struct job {
    oclinit_runtime_t runtime;
    oi_gemm_shape shape;
    cl_mem a, b, c;
    float *host_a, *host_b, *host_c;
} job;

static oclinit_status clblast(void *context) {
    job *j = context;
    oclinit_status status = oi_gemm_device_packed(j->runtime, &j->shape, j->a, j->b, j->c);
    if (status == OCLINIT_SUCCESS && clFinish(oclinit_runtime_get_queue(j->runtime)) != CL_SUCCESS)
        status = OCLINIT_ERROR_BLAS;
    return status;
}

static oclinit_status openblas(void *context) {
    job *j = context;
    const oi_gemm_shape *s = &j->shape;
    oi_gemm_host(s, j->host_a, oi_gemm_lda(s), j->host_b, oi_gemm_ldb(s), j->host_c, s->n);
    return OCLINIT_SUCCESS;
}

static oclinit_status measure(const bench_config *cfg, bench_results *results, job *j, const char *benchmark,
                              double size, const char *detail) {
    const oi_gemm_shape *s = &j->shape;
    double gflop = 2.0 * (double)s->m * (double)s->n * (double)s->k / 1e9;
    oclinit_status status = bench_say(cfg, "%s %s on the device (CLBlast)", benchmark, detail);
    if (status != OCLINIT_SUCCESS) return status;
    int runs = bench_runs(benchmark, cfg->repeat);
    timing t = bench_measure(clblast, j, runs);
    if (t.median != t.median) return OCLINIT_ERROR_BLAS;
    bench_add(results, benchmark, "device", size, t, gflop, "GFLOP/s", detail);
    if ((status = bench_say(cfg, "%s %s on the host (OpenBLAS)", benchmark, detail)) != OCLINIT_SUCCESS) return status;
    bench_add(results, benchmark, "host", size, bench_measure(openblas, j, runs), gflop, "GFLOP/s", detail);
    return OCLINIT_SUCCESS;
}

oclinit_status bench_gemm(const bench_config *cfg, bench_results *results) {
    static const size_t full[] = {128, 256, 512, 1024, 2048}, quick[] = {256, 1024};
    const size_t *squares = cfg->quick ? quick : full, square_count = cfg->quick ? 2 : 5;
    const size_t most = 2048 * 2048; /* floats in the largest operand of any shape here */
    cl_context context = oclinit_runtime_get_context(cfg->runtime);
    job j = {.runtime = cfg->runtime};
    cl_int error = CL_SUCCESS, e2 = CL_SUCCESS, e3 = CL_SUCCESS;
    oclinit_status status = OCLINIT_SUCCESS;
    j.host_a = malloc(most * sizeof(float));
    j.host_b = malloc(most * sizeof(float));
    j.host_c = malloc(most * sizeof(float));
    oclinit_distribution normal = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .std = 1, .shape = {2, {(int64_t)most, 1}}};
    if (!j.host_a || !j.host_b || !j.host_c) status = OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
    if (status == OCLINIT_SUCCESS) status = oclinit_init_fill_host(NULL, &normal, 1, 0, 0, most, j.host_a);
    if (status == OCLINIT_SUCCESS) status = oclinit_init_fill_host(NULL, &normal, 1, 1, 0, most, j.host_b);
    if (status == OCLINIT_SUCCESS) {
        cl_mem_flags flags = CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR;
        j.a = clCreateBuffer(context, flags, most * sizeof(float), j.host_a, &error);
        j.b = clCreateBuffer(context, flags, most * sizeof(float), j.host_b, &e2);
        j.c = clCreateBuffer(context, CL_MEM_READ_WRITE, most * sizeof(float), NULL, &e3);
        if (error || e2 || e3) status = OCLINIT_ERROR_OUT_OF_DEVICE_MEMORY;
    }
    for (size_t i = 0; i < square_count && status == OCLINIT_SUCCESS; i++) {
        char detail[48];
        size_t n = squares[i];
        snprintf(detail, sizeof detail, "%zu x %zu x %zu NN", n, n, n);
        j.shape = (oi_gemm_shape){n, n, n, false, false};
        status = measure(cfg, results, &j, "gemm", (double)n, detail);
    }
    /* The network's shapes: the large ones tuning times (the first of them is 1024^3, measured above) and the
     * thin ones of its output layer: z3 = A2 w3^T, dw3 = dz3^T A2, dA2 = dz3 w3. */
    oi_gemm_shape shapes[OCLINIT_TUNING_SHAPES + 2] = {
        {2048, 1, 1024, false, true}, {1, 1024, 2048, true, false}, {2048, 1024, 1, false, false}};
    memcpy(shapes + 3, oi_tuning_shapes() + 1, (OCLINIT_TUNING_SHAPES - 1) * sizeof *shapes);
    for (size_t i = 0; i < OCLINIT_TUNING_SHAPES + 2 && status == OCLINIT_SUCCESS; i++) {
        char detail[48];
        j.shape = shapes[i];
        snprintf(detail, sizeof detail, "%zu x %zu x %zu %c%c", j.shape.m, j.shape.n, j.shape.k,
                 j.shape.transpose_a ? 'T' : 'N', j.shape.transpose_b ? 'T' : 'N');
        status = measure(cfg, results, &j, "gemm-network", (double)(j.shape.m * j.shape.n * j.shape.k), detail);
    }
    if (j.a) clReleaseMemObject(j.a);
    if (j.b) clReleaseMemObject(j.b);
    if (j.c) clReleaseMemObject(j.c);
    free(j.host_a);
    free(j.host_b);
    free(j.host_c);
    return status;
}
