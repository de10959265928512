/* Normalization throughput: fitting and applying z-score to rows x features float32 (default 10^7 x 16,
 * 640 MB), on data already in a device buffer, beside the device's write limit (the store-only kernel over the
 * same buffer) and beside the host twin on all cores. GB/s counts the bytes each step must move: fitting reads
 * the data once, applying reads and writes it. Median of --repeat runs after a warm-up.
 *
 *   build/bench/bench_normalize [--rows N] [--features F] [--repeat R] [--device D] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "timing.h"

typedef struct job {
    oclinit_runtime_t runtime;
    size_t rows, features;
    cl_mem buffer;
    oclinit_table_t table; /* host data for the twin */
    oclinit_normalizer_t fitted;
} job;

static oclinit_status store(void *context) {
    job *j = context;
    return bench_store(j->runtime, j->buffer, j->rows * j->features / 16 * 16);
}

static oclinit_status fit_device(void *context) {
    job *j = context;
    oclinit_normalizer_t n = NULL;
    oclinit_status status =
        oclinit_normalizer_fit_buffer(j->runtime, OCLINIT_NORMALIZE_ZSCORE, 0, 1, j->buffer, j->rows, j->features, &n);
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

static void report(const char *what, const char *where, timing t, double bytes, double limit) {
    double rate = bytes / t.median / 1e9;
    printf("%-24s %-7s %8.2f GB/s", what, where, rate);
    if (limit > 0)
        printf("  (%3.0f %% of the store-only kernel)", 100 * rate / limit);
    else
        printf("%33s", "");
    printf("   median %8.2f ms  (min %.2f, max %.2f)\n", t.median * 1e3, t.min * 1e3, t.max * 1e3);
}

int main(int argc, char **argv) {
    size_t rows = 10000000, features = 16;
    int repeat = 5;
    const char *device = NULL;
    static const struct option options[] = {
        {"rows", required_argument, NULL, 'n'},   {"features", required_argument, NULL, 'f'},
        {"repeat", required_argument, NULL, 'r'}, {"device", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'n')
            rows = strtoull(optarg, NULL, 0);
        else if (c == 'f')
            features = strtoull(optarg, NULL, 0);
        else if (c == 'r')
            repeat = atoi(optarg);
        else if (c == 'd')
            device = optarg;
        else {
            printf("Usage: bench_normalize [--rows N] [--features F] [--repeat R] [--device D]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (rows < 2 || features < 1 || repeat < 1) {
        fprintf(stderr, "bench_normalize: needs --rows >= 2, --features >= 1, --repeat >= 1\n");
        return 2;
    }

    job j = {.rows = rows, .features = features};
    size_t count = rows * features, bytes = count * sizeof(float);
    oclinit_status status = oclinit_runtime_create(device, &j.runtime);
    if (status == OCLINIT_SUCCESS && !oclinit_runtime_get_context(j.runtime)) {
        fprintf(stderr, "bench_normalize: needs an OpenCL device, not the host C path\n");
        return 1;
    }
    j.table = calloc(1, sizeof *j.table);
    if (j.table) j.table->data = malloc(bytes);
    if (status != OCLINIT_SUCCESS || !j.table || !j.table->data) {
        fprintf(stderr, "bench_normalize: %s: %s\n", oclinit_status_str(status), oclinit_error_detail());
        return 1;
    }
    j.table->rows = rows;
    j.table->features = j.table->columns = features;
    j.table->label_column = OI_NO_LABEL;
    /* Data far from zero on very different scales: feature f is 10^(f mod 5) (3 + N(0, 1)). */
    oclinit_distribution d = {
        .kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 3, .std = 1, .rows = (int64_t)rows, .columns = (int64_t)features};
    status = oclinit_init_fill_host(j.runtime, &d, 1, 0, 0, count, j.table->data);
    for (size_t i = 0; i < count; i++) j.table->data[i] *= (float)(1 << (2 * (i % features % 5)));
    if (status == OCLINIT_SUCCESS) status = oi_buffer_create(j.runtime, bytes, &j.buffer);
    if (status == OCLINIT_SUCCESS)
        status = clEnqueueWriteBuffer(j.runtime->queue, j.buffer, CL_TRUE, 0, bytes, j.table->data, 0, NULL, NULL) ==
                         CL_SUCCESS
                     ? oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_ZSCORE, 0, 1, j.table, &j.fitted)
                     : OCLINIT_ERROR_IO;
    if (status != OCLINIT_SUCCESS) {
        fprintf(stderr, "bench_normalize: %s: %s\n", oclinit_status_str(status), oclinit_error_detail());
        return 1;
    }

    const oclinit_device_info *info = oclinit_runtime_get_device(j.runtime);
    printf("bench_normalize: z-score on %zu x %zu float32 (%.0f MB), median of %d runs after a warm-up\n", rows,
           features, bytes / 1e6, repeat);
    printf("device: %s (%s)\n\n", info->name, info->platform_name);
    timing limit = bench_measure(store, &j, repeat);
    double limit_rate = bytes / limit.median / 1e9;
    report("store-only kernel", "device", limit, (double)bytes, 0);
    report("fit (1 read)", "device", bench_measure(fit_device, &j, repeat), (double)bytes, limit_rate);
    report("apply (read + write)", "device", bench_measure(apply_device, &j, repeat), 2.0 * bytes, limit_rate);
    report("fit (1 read)", "host", bench_measure(fit_host, &j, repeat), (double)bytes, limit_rate);
    report("apply (read + write)", "host", bench_measure(apply_host, &j, repeat), 2.0 * bytes, limit_rate);

    oclinit_normalizer_free(j.fitted);
    clReleaseMemObject(j.buffer);
    oclinit_table_free(j.table);
    oclinit_runtime_free(j.runtime);
    return 0;
}
