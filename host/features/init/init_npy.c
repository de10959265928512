/* Writing a layer to a .npy file in chunks: the device fills chunk c+1 while the host writes chunk c; the
 * file appears only when complete (host/output_file.c). */
#include <math.h>
#include <stdlib.h>

#include "features/features.h"

#define DEFAULT_CHUNK_BYTES ((size_t)64 << 20)

typedef struct running_stats {
    uint64_t count;
    double mean, m2, min, max;
} running_stats;

/* Chan et al.'s pairwise merge of a chunk's mean and sum of squared deviations: stable for any count. */
static void stats_add_chunk(running_stats *s, const float *x, size_t n) {
    double sum = 0, min = INFINITY, max = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
    }
    double mean = sum / (double)n, m2 = 0;
    for (size_t i = 0; i < n; i++) m2 += (x[i] - mean) * (x[i] - mean);
    double total = (double)s->count + (double)n, delta = mean - s->mean;
    s->m2 += m2 + delta * delta * (double)s->count * (double)n / total;
    s->mean += delta * (double)n / total;
    s->count += n;
    if (min < s->min) s->min = min;
    if (max > s->max) s->max = max;
}

oclinit_status oclinit_init_write_npy(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                      uint64_t seed, uint64_t stream, const char *path,
                                      const oclinit_write_options *options) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_write_options opts = {0};
    char header[OI_NPY_HEADER_MAX];
    oi_output *out = NULL;
    float *host[2] = {NULL, NULL};
    cl_mem device = NULL;
    cl_event ready[2] = {NULL, NULL};
    running_stats stats = {0, 0, 0, INFINITY, -INFINITY};
    bool on_device = !oi_runtime_on_host(runtime);

    OI_REQUIRE(distribution, "distribution");
    OI_REQUIRE(path, "path");
    if (options) opts = *options;
    OI_CHECK(oi_distribution_check(distribution));
    uint64_t total = (uint64_t)distribution->rows * (uint64_t)distribution->columns;
    size_t header_size = oi_npy_header(header, distribution->rows, distribution->columns, "<f4");
    /* Chunks hold whole Philox blocks (4 elements) so no block is computed twice. */
    uint64_t chunk = (opts.chunk_bytes ? opts.chunk_bytes : DEFAULT_CHUNK_BYTES) / sizeof(float) / 4 * 4;
    if (chunk == 0) chunk = 4;
    if (chunk > total) chunk = total;
    if (chunk > SIZE_MAX / sizeof(float))
        return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "a chunk of %llu elements is too large for this machine",
                       (unsigned long long)chunk);

    /* The device buffer first: if the device cannot hold a chunk, no file is touched. */
    if (on_device) OI_CHECK(oi_buffer_create(runtime, (size_t)chunk * sizeof(float), &device));
    out = malloc(sizeof *out);
    if (!out) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating an output file");
        goto cleanup;
    }
    OI_CHECK(oi_output_open(path, out));
    OI_CHECK(oi_output_reserve(out, header_size + total * sizeof(float)));
    for (int k = 0; k < (on_device ? 2 : 1); k++) {
        host[k] = malloc((size_t)chunk * sizeof(float));
        if (!host[k]) {
            status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate a chunk of %.1f MiB of host memory",
                             (double)chunk * sizeof(float) / 1048576.0);
            goto cleanup;
        }
    }
    OI_CHECK(oi_output_write(out, header, header_size));

    uint64_t chunks = (total + chunk - 1) / chunk;
    if (on_device) {
        OI_CHECK(oi_init_enqueue_fill(runtime, distribution, seed, stream, 0, chunk, device, 0));
        OI_CL_CHECK(clEnqueueReadBuffer(runtime->queue, device, CL_FALSE, 0, (size_t)chunk * sizeof(float), host[0], 0,
                                        NULL, &ready[0]));
        OI_CL_CHECK(clFlush(runtime->queue));
    }
    for (uint64_t c = 0; c < chunks; c++) {
        uint64_t first = c * chunk, n = total - first < chunk ? total - first : chunk;
        float *data = host[on_device ? c % 2 : 0];
        if (on_device) {
            OI_CL_CHECK(clWaitForEvents(1, &ready[c % 2]));
            clReleaseEvent(ready[c % 2]);
            ready[c % 2] = NULL;
            if (c + 1 < chunks) { /* the device makes the next chunk while this one is written */
                uint64_t next = first + n, next_n = total - next < chunk ? total - next : chunk;
                OI_CHECK(oi_init_enqueue_fill(runtime, distribution, seed, stream, next, next_n, device, 0));
                OI_CL_CHECK(clEnqueueReadBuffer(runtime->queue, device, CL_FALSE, 0, (size_t)next_n * sizeof(float),
                                                host[(c + 1) % 2], 0, NULL, &ready[(c + 1) % 2]));
                OI_CL_CHECK(clFlush(runtime->queue));
            }
        } else {
            oi_init_fill_host_twin(distribution, seed, stream, first, n, data);
        }
        OI_CHECK(oi_output_write(out, data, (size_t)n * sizeof(float)));
        if (opts.stats) stats_add_chunk(&stats, data, (size_t)n);
        oclinit_progress progress = {.done = first + n, .total = total};
        if (opts.progress && opts.progress(opts.user, &progress) != 0) {
            status = oi_fail(OCLINIT_ERROR_CANCELLED, "writing %s was cancelled; nothing was written", path);
            goto cleanup;
        }
    }
    OI_CHECK(oi_output_commit(out));
    if (opts.stats) {
        opts.stats->count = stats.count;
        opts.stats->mean = stats.mean;
        opts.stats->std = sqrt(stats.m2 / (double)stats.count);
        opts.stats->min = stats.min;
        opts.stats->max = stats.max;
    }
cleanup:
    if (runtime && runtime->queue) clFinish(runtime->queue); /* no command may still write into host[] */
    for (int k = 1; k >= 0; k--)
        if (ready[k]) clReleaseEvent(ready[k]);
    free(host[1]);
    free(host[0]);
    if (out) oi_output_abort(out);
    free(out);
    if (device) clReleaseMemObject(device);
    return status;
}
