/* A tensor in chunks, for the writers that stream it to a file (.npy, safetensors): the device makes chunk k + 1
 * while the caller consumes chunk k, so making and writing overlap; on the host C path the chunks are made in turn.
 * Also the running statistics of what was consumed. */
#include <math.h>
#include <stdlib.h>

#include "features/features.h"

struct oi_chunker {
    oclinit_runtime_t runtime;
    bool on_device;
    uint64_t chunk; /* elements, a multiple of 4 so no Philox block is made twice */
    float *host[2];
    cl_mem device;
};

void oi_chunker_free(oi_chunker *c) {
    if (!c) return;
    free(c->host[0]);
    free(c->host[1]);
    if (c->device) clReleaseMemObject(c->device);
    free(c);
}

oclinit_status oi_chunker_create(oclinit_runtime_t runtime, size_t chunk_bytes, uint64_t most, oi_chunker **chunker) {
    oclinit_status status = OCLINIT_SUCCESS;
    oi_chunker *c = calloc(1, sizeof *c);
    if (!c) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating a chunker");
    c->runtime = runtime;
    c->on_device = !oi_runtime_on_host(runtime);
    c->chunk = (chunk_bytes ? chunk_bytes : OI_DEFAULT_CHUNK_BYTES) / sizeof(float) / 4 * 4;
    if (c->chunk == 0) c->chunk = 4;
    if (c->chunk > most) c->chunk = most > 0 ? most : 1;
    if (c->chunk > SIZE_MAX / sizeof(float)) {
        status = oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "a chunk of %llu elements is too large for this machine",
                         (unsigned long long)c->chunk);
        goto cleanup;
    }
    size_t bytes = (size_t)c->chunk * sizeof(float);
    if (c->on_device) OI_CHECK(oi_buffer_create(runtime, bytes, &c->device));
    for (int k = 0; k < (c->on_device ? 2 : 1); k++) {
        c->host[k] = malloc(bytes);
        if (!c->host[k]) {
            status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate a chunk of %.1f MiB of host memory",
                             (double)bytes / 1048576.0);
            goto cleanup;
        }
    }
    *chunker = c;
    c = NULL;
cleanup:
    oi_chunker_free(c);
    return status;
}

/* Enqueues chunk [first, first + n) and its read into host[slot]; ready[slot] fires when it is there. */
static oclinit_status enqueue_chunk(oi_chunker *c, const oclinit_distribution *d, uint64_t seed, uint64_t stream,
                                    uint64_t first, uint64_t n, int slot, cl_event *ready) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_command_queue queue = oclinit_runtime_get_queue(c->runtime);
    OI_CHECK(oi_init_enqueue_fill(c->runtime, d, seed, stream, first, n, c->device, 0));
    OI_CL_CHECK(
        clEnqueueReadBuffer(queue, c->device, CL_FALSE, 0, (size_t)n * sizeof(float), c->host[slot], 0, NULL, ready));
    OI_CL_CHECK(clFlush(queue));
cleanup:
    return status;
}

oclinit_status oi_chunker_run_range(oi_chunker *c, const oclinit_distribution *d, uint64_t seed, uint64_t stream,
                                    uint64_t begin, uint64_t end, oi_chunk_fn consume, void *user) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_event ready[2] = {NULL, NULL};
    float *whole = NULL;
    uint64_t total = 0;
    OI_CHECK(oi_distribution_check(d));
    oclinit_shape_get_elements(&d->shape, &total);
    if (end > total) end = total;
    /* orthogonal is one QR of the whole tensor, handed out in chunks. */
    if (d->kind == OCLINIT_DISTRIBUTION_ORTHOGONAL && begin < end) {
        size_t bytes;
        OI_CHECK(oi_size_bytes("orthogonal's tensor", (size_t)total, 1, sizeof(float), &bytes));
        whole = malloc(bytes);
        if (!whole) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "orthogonal: %zu bytes for the tensor", bytes);
        OI_CHECK(oi_orthogonal_make(c->runtime, d, seed, stream, whole));
    }
    bool on_device = c->on_device && !whole;
    uint64_t chunk = c->chunk;
    if (on_device && begin < end)
        OI_CHECK(enqueue_chunk(c, d, seed, stream, begin, chunk < end - begin ? chunk : end - begin, 0, &ready[0]));
    for (uint64_t first = begin, k = 0; first < end; first += chunk, k++) {
        uint64_t n = end - first < chunk ? end - first : chunk;
        float *data = whole ? whole + first : c->host[on_device ? k % 2 : 0];
        if (on_device) {
            OI_CL_CHECK(clWaitForEvents(1, &ready[k % 2]));
            clReleaseEvent(ready[k % 2]);
            ready[k % 2] = NULL;
            uint64_t next = first + n;
            if (next < end)
                OI_CHECK(enqueue_chunk(c, d, seed, stream, next, end - next < chunk ? end - next : chunk,
                                       (int)((k + 1) % 2), &ready[(k + 1) % 2]));
        } else if (!whole) {
            oi_init_fill_host_twin(d, seed, stream, first, n, data);
        }
        OI_CHECK(consume(user, first, data, (size_t)n));
    }
cleanup:
    if (c->on_device) clFinish(oclinit_runtime_get_queue(c->runtime)); /* nothing may still write into host[] */
    for (int k = 1; k >= 0; k--)
        if (ready[k]) clReleaseEvent(ready[k]);
    free(whole);
    return status;
}

oclinit_status oi_chunker_run(oi_chunker *c, const oclinit_distribution *d, uint64_t seed, uint64_t stream,
                              oi_chunk_fn consume, void *user) {
    return oi_chunker_run_range(c, d, seed, stream, 0, UINT64_MAX, consume, user);
}

void oi_running_stats_add(oi_running_stats *s, const float *x, size_t n) {
    /* Chan et al.'s pairwise merge of a chunk's mean and sum of squared deviations: stable for any count. */
    double sum = 0, min = INFINITY, max = -INFINITY;
    if (n == 0) return;
    if (s->count == 0) s->min = INFINITY, s->max = -INFINITY;
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

oclinit_stats oi_running_stats_get(const oi_running_stats *s) {
    oclinit_stats out = {s->count, s->mean, s->count ? sqrt(s->m2 / (double)s->count) : NAN, s->min, s->max};
    return out;
}
