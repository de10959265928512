/* Normalization throughput: fitting and applying z-score to rows x 16 float32 already in a device buffer, and
 * on the host (the C twin on all cores). GB/s counts the bytes each step must move: fitting reads the data
 * once, applying reads and writes it. */
#include <math.h>
#include <stdlib.h>

#include "bench.h"

enum { FEATURES = 16 };

typedef struct job {
    oclinit_runtime_t runtime;
    size_t rows;
    cl_mem buffer;
    oclinit_table_t table;
    oclinit_normalizer_t fitted;
} job;

static oclinit_status fit_device(void *context) {
    job *j = context;
    oclinit_normalizer_t n = NULL;
    oclinit_status status =
        oclinit_normalizer_fit_buffer(j->runtime, OCLINIT_NORMALIZE_ZSCORE, 0, 1, j->buffer, j->rows, FEATURES, &n);
    oclinit_normalizer_free(n);
    return status;
}

static oclinit_status apply_device(void *context) {
    job *j = context;
    return oclinit_normalizer_apply_buffer(j->runtime, j->fitted, j->buffer, j->buffer, j->rows);
}

static oclinit_status fit_host(void *context) {
    job *j = context;
    oclinit_normalizer_t n = NULL;
    oclinit_status status = oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_ZSCORE, 0, 1, j->table, &n);
    oclinit_normalizer_free(n);
    return status;
}

static oclinit_status apply_host(void *context) {
    job *j = context;
    return oclinit_normalizer_apply(NULL, j->fitted, j->table);
}

size_t bench_normalize_sizes(const bench_config *cfg, double *sizes) {
    size_t n = 0;
    for (int log2 = 16; log2 <= (cfg->quick ? 24 : 26); log2 += cfg->quick ? 4 : 2) sizes[n++] = ldexp(1, log2);
    return n;
}

static oclinit_status measure_size(const bench_config *cfg, bench_results *results, size_t elements, float *data) {
    job j = {.runtime = cfg->runtime, .rows = elements / FEATURES};
    size_t bytes = elements * sizeof(float);
    cl_int error;
    oclinit_status status = oclinit_table_create(j.rows, FEATURES, data, &j.table);
    if (status == OCLINIT_SUCCESS) {
        j.buffer = clCreateBuffer(oclinit_runtime_get_context(cfg->runtime), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                  bytes, data, &error);
        if (error != CL_SUCCESS) status = OCLINIT_ERROR_OUT_OF_DEVICE_MEMORY;
    }
    if (status == OCLINIT_SUCCESS)
        status = oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_ZSCORE, 0, 1, j.table, &j.fitted);
    static const struct {
        const char *benchmark, *backend;
        bench_job job;
        double moves; /* bytes moved per byte of data */
    } steps[] = {{"normalize-fit", "device", fit_device, 1},
                 {"normalize-fit", "host", fit_host, 1},
                 {"normalize-apply", "device", apply_device, 2},
                 {"normalize-apply", "host", apply_host, 2}};
    for (size_t s = 0; s < 4 && status == OCLINIT_SUCCESS; s++) {
        status = bench_say(cfg, "%s on the %s, %zu x %d", steps[s].benchmark, steps[s].backend, j.rows, FEATURES);
        if (status == OCLINIT_SUCCESS)
            bench_add(results, steps[s].benchmark, steps[s].backend, (double)elements,
                      bench_measure(steps[s].job, &j, cfg->repeat), steps[s].moves * (double)bytes / 1e9, "GB/s", NULL);
    }
    oclinit_normalizer_free(j.fitted);
    if (j.buffer) clReleaseMemObject(j.buffer);
    oclinit_table_free(j.table);
    return status;
}

oclinit_status bench_normalize(const bench_config *cfg, bench_results *results) {
    double sizes[16];
    size_t count = bench_normalize_sizes(cfg, sizes);
    size_t most = (size_t)sizes[count - 1];
    float *data = malloc(most * sizeof(float));
    if (!data) return OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
    /* Data far from zero on very different scales: feature f is 4^(f mod 5) (3 + N(0, 1)). */
    oclinit_distribution d = {
        .kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 3, .std = 1, .shape = {2, {(int64_t)most, 1}}};
    oclinit_status status = oclinit_init_fill_host(NULL, &d, 1, 0, 0, most, data);
    for (size_t i = 0; i < most; i++) data[i] *= (float)(1 << (2 * (i % FEATURES % 5)));
    for (size_t i = 0; i < count && status == OCLINIT_SUCCESS; i++)
        status = measure_size(cfg, results, (size_t)sizes[i], data);
    free(data);
    return status;
}
