/* A tensor in chunks, for the writers that stream it to a file (.npy, safetensors), in the file's dtype: the device
 * makes chunks k + 1 and k + 2 (and rounds them to bf16 or f16 itself, so that half the bytes come back) while the
 * caller consumes chunk k, so making and writing overlap, and the device always has the next chunk queued; on the host
 * C path the chunks are made in turn, in pieces that are rounded while they are still in cache. Also the running
 * statistics of what was consumed. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "features/features.h"

/* The host C path makes a chunk in pieces of 64 KiB of float32, each rounded by the thread that made it while it is
 * in that core's cache. */
#define PIECE ((size_t)1 << 14)
#define DEVICE_PIECE ((uint64_t)1 << 20) /* 4 MiB of float32, a multiple of 16 */
#define ADOPTED OI_SLOTS                 /* regions of the caller's memory with buffers over them */
/* Float32 bytes per chunk unless asked. On the host path small enough that a writer's OI_SLOTS of them cost little
 * memory (bench/README.md, "Slots, not tensors"). On a device larger: the two chunks queued there must outlast the
 * moments the thread that feeds the queue waits for a core, which it shares with the writer and, on a CPU device, the
 * device's own threads; with 16 MiB PoCL ran dry between chunks (bench/README.md, "A deeper queue on a device, and huge
 * pages"). */
#define HOST_CHUNK_BYTES ((size_t)16 << 20)
#define DEVICE_CHUNK_BYTES ((size_t)64 << 20)

typedef struct adopted {
    char *memory;
    size_t bytes;
    cl_mem buffer;
} adopted;

struct oi_chunker {
    oclinit_runtime_t runtime;
    oclinit_dtype dtype;
    size_t size; /* bytes per element of dtype */
    bool on_device;
    uint64_t chunk;               /* elements, a multiple of 4 so no Philox block is made twice */
    void *host[3];                /* chunks in dtype, where the caller does not place them */
    float *pieces;                /* host C path, dtype other than F32: a piece per thread */
    int threads;                  /* of make_on_host, for which pieces has room */
    cl_mem device[2], rounded[2]; /* float32 chunks, and the same in dtype (other than F32); 16-element multiples */
    adopted adopted[ADOPTED];     /* where the device makes chunks in place (oi_chunker_adopt) */
    int adoptions;
    cl_mem mapped_from[2]; /* the adopted buffer chunk k is mapped from, for pair k % 2, until it has arrived */
    void *mapped[2];
};

void oi_chunker_free(oi_chunker *c) {
    if (!c) return;
    for (int k = 0; k < 3; k++) free(c->host[k]);
    free(c->pieces);
    for (int k = 0; k < c->adoptions; k++) clReleaseMemObject(c->adopted[k].buffer);
    for (int k = 0; k < 2; k++) {
        if (c->device[k]) clReleaseMemObject(c->device[k]);
        if (c->rounded[k]) clReleaseMemObject(c->rounded[k]);
    }
    free(c);
}

static oclinit_status host_buffer(size_t bytes, void **buffer) {
    *buffer = malloc(bytes);
    if (!*buffer)
        return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate a chunk of %.1f MiB of host memory",
                       (double)bytes / 1048576.0);
    return OCLINIT_SUCCESS;
}

oclinit_status oi_chunker_create(oclinit_runtime_t runtime, oclinit_dtype dtype, size_t chunk_bytes, uint64_t most,
                                 oi_chunker **chunker) {
    oclinit_status status = OCLINIT_SUCCESS;
    if (dtype != OCLINIT_DTYPE_F32 && dtype != OCLINIT_DTYPE_BF16 && dtype != OCLINIT_DTYPE_F16)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "tensors are made in f32, bf16 or f16, not %s",
                       oclinit_dtype_str(dtype));
    oi_chunker *c = calloc(1, sizeof *c);
    if (!c) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating a chunker");
    c->runtime = runtime;
    c->dtype = dtype;
    c->size = oclinit_dtype_size(dtype);
    c->on_device = !oi_runtime_on_host(runtime);
    if (!chunk_bytes) chunk_bytes = c->on_device ? DEVICE_CHUNK_BYTES : HOST_CHUNK_BYTES;
    c->chunk = chunk_bytes / sizeof(float) / 4 * 4;
    if (c->chunk == 0) c->chunk = 4;
    if (c->chunk > most) c->chunk = most > 0 ? most : 1;
    if (c->chunk > SIZE_MAX / sizeof(float) - 16) {
        status = oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "a chunk of %llu elements is too large for this machine",
                         (unsigned long long)c->chunk);
        goto cleanup;
    }
    size_t padded = ((size_t)c->chunk + 15) / 16 * 16;
    for (int k = 0; k < 2 && c->on_device; k++) {
        OI_CHECK(oi_buffer_create(runtime, padded * sizeof(float), &c->device[k]));
        if (dtype != OCLINIT_DTYPE_F32) OI_CHECK(oi_buffer_create(runtime, padded * c->size, &c->rounded[k]));
    }
    c->threads = omp_get_max_threads();
    if (!c->on_device && dtype != OCLINIT_DTYPE_F32)
        OI_CHECK(host_buffer((size_t)c->threads * PIECE * sizeof(float), (void **)&c->pieces));
    *chunker = c;
    c = NULL;
cleanup:
    oi_chunker_free(c);
    return status;
}

uint64_t oi_chunker_elements(const oi_chunker *c) {
    return c->chunk;
}

/* Memory the caller's place() will hand out: on a CPU device (oi_buffer_over) the samplers then make their chunks
 * there and map them, rather than read them back. Elsewhere nothing changes. */
static void adopt(oi_chunker *c, void *memory, size_t bytes) {
    if (!c->on_device || c->adoptions == ADOPTED) return;
    cl_mem buffer = oi_buffer_over(c->runtime, memory, bytes);
    if (buffer) c->adopted[c->adoptions++] = (adopted){memory, bytes, buffer};
}

oclinit_status oi_chunker_start_slots(oi_chunker *c, oi_slots **slots) {
    oclinit_status status = oi_slots_start((size_t)c->chunk * c->size, slots);
    for (int k = 0; k < OI_SLOTS && status == OCLINIT_SUCCESS; k++) {
        size_t bytes;
        void *memory = oi_slots_memory(*slots, k, &bytes);
        adopt(c, memory, bytes);
    }
    return status;
}

/* The adopted region that holds [dest, dest + bytes) whole, at a multiple of the element size; NULL when none does. */
static const adopted *adopted_at(const oi_chunker *c, const void *dest, size_t bytes) {
    for (int k = 0; k < c->adoptions; k++) {
        const adopted *a = &c->adopted[k];
        const char *p = dest;
        if (p >= a->memory && bytes <= a->bytes && (size_t)(p - a->memory) <= a->bytes - bytes &&
            (size_t)(p - a->memory) % c->size == 0)
            return a;
    }
    return NULL;
}

/* Where chunk k goes: the caller's place, or the chunker's own buffer k % 3 (made on first use). */
static oclinit_status destination(oi_chunker *c, oi_chunk_place_fn place, void *user, uint64_t first, uint64_t n,
                                  uint64_t k, void **dest) {
    if (place) {
        *dest = place(user, first, (size_t)n);
        return OCLINIT_SUCCESS;
    }
    int slot = c->on_device ? (int)(k % 3) : 0;
    oclinit_status status = c->host[slot] ? OCLINIT_SUCCESS : host_buffer((size_t)c->chunk * c->size, &c->host[slot]);
    *dest = c->host[slot];
    return status;
}

/* float32 to the dtype on all cores. */
static void round_all(oclinit_dtype dtype, const float *in, void *out, size_t count, size_t size) {
    int64_t pieces = (int64_t)((count + PIECE - 1) / PIECE);
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < pieces; k++) {
        size_t first = (size_t)k * PIECE, n = count - first < PIECE ? count - first : PIECE;
        oi_float_to_dtype_streamed(dtype, in + first, (char *)out + first * size, n);
    }
}

/* The host C path: [first, first + n) straight into dest in float32, else piece by piece on all cores, each piece
 * made and rounded by one thread (the twin's own parallel loop then runs on that thread alone), taken as threads come
 * free: a writer thread takes a core now and then, and fixed shares would leave the other cores waiting. */
static void make_on_host(oi_chunker *c, const oclinit_distribution *d, uint64_t seed, uint64_t stream, uint64_t first,
                         uint64_t n, void *dest) {
    if (c->dtype == OCLINIT_DTYPE_F32) {
        oi_init_fill_host_twin(d, seed, stream, first, n, dest);
        return;
    }
    int64_t pieces = (int64_t)((n + PIECE - 1) / PIECE);
#pragma omp parallel for schedule(dynamic) num_threads(c->threads)
    for (int64_t k = 0; k < pieces; k++) {
        uint64_t done = (uint64_t)k * PIECE;
        size_t m = n - done < PIECE ? (size_t)(n - done) : PIECE;
        float *piece = c->pieces + (size_t)omp_get_thread_num() * PIECE;
        oi_init_fill_host_twin(d, seed, stream, first + done, m, piece);
        oi_float_to_dtype_streamed(c->dtype, piece, (char *)dest + done * c->size, m);
    }
}

/* Enqueues chunk [first, first + n) into device buffer pair b and its read into dest; ready fires when it is there. In
 * a 16-bit dtype the device makes the samples rounded where it can (oi_init_fills_in), else rounds the float32 fill
 * after each DEVICE_PIECE of it, so that on a CPU device it reads what is still in the caches. */
static oclinit_status enqueue_chunk(oi_chunker *c, const oclinit_distribution *d, uint64_t seed, uint64_t stream,
                                    uint64_t first, uint64_t n, int b, void *dest, cl_event *ready) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_command_queue queue = oclinit_runtime_get_queue(c->runtime);
    cl_mem device = c->device[b], rounded = c->rounded[b];
    const adopted *in_place = adopted_at(c, dest, (size_t)n * c->size);
    if (in_place && oi_init_fills_in(c->runtime, d, c->dtype)) {
        /* made where the caller wants it; the map makes it visible there (unmapped once it has arrived) */
        size_t offset = (size_t)((char *)dest - in_place->memory);
        cl_int error;
        OI_CHECK(oi_init_enqueue_fill_in(c->runtime, d, seed, stream, first, n, c->dtype, in_place->buffer,
                                         offset / c->size));
        void *mapped = clEnqueueMapBuffer(queue, in_place->buffer, CL_FALSE, CL_MAP_READ, offset, (size_t)n * c->size,
                                          0, NULL, ready, &error);
        OI_CL_CHECK(error);
        c->mapped_from[b] = in_place->buffer;
        c->mapped[b] = mapped;
        OI_CL_CHECK(clFlush(queue));
        goto cleanup;
    }
    if (rounded && oi_init_fills_in(c->runtime, d, c->dtype)) {
        OI_CHECK(oi_init_enqueue_fill_in(c->runtime, d, seed, stream, first, n, c->dtype, rounded, 0));
    } else {
        uint64_t piece = rounded ? DEVICE_PIECE : n;
        for (uint64_t done = 0; done < n; done += piece) {
            uint64_t m = n - done < piece ? n - done : piece;
            OI_CHECK(oi_init_enqueue_fill(c->runtime, d, seed, stream, first + done, m, device, (size_t)done));
            if (rounded) OI_CHECK(oi_dtype_enqueue_convert(c->runtime, c->dtype, device, rounded, done, m));
        }
    }
    OI_CL_CHECK(
        clEnqueueReadBuffer(queue, rounded ? rounded : device, CL_FALSE, 0, (size_t)n * c->size, dest, 0, NULL, ready));
    OI_CL_CHECK(clFlush(queue));
cleanup:
    return status;
}

/* Chunk k of [begin, end) onto the device, if there is one: into buffer pair k % 2 and dest[k % 3]. */
static oclinit_status enqueue_next(oi_chunker *c, const oclinit_distribution *d, uint64_t seed, uint64_t stream,
                                   uint64_t begin, uint64_t end, uint64_t k, oi_chunk_place_fn place, void *user,
                                   void *dest[3], cl_event ready[2]) {
    oclinit_status status = OCLINIT_SUCCESS;
    if (k >= (end - begin + c->chunk - 1) / c->chunk) return status;
    uint64_t first = begin + k * c->chunk, n = end - first < c->chunk ? end - first : c->chunk;
    OI_CHECK(destination(c, place, user, first, n, k, &dest[k % 3]));
    OI_CHECK(enqueue_chunk(c, d, seed, stream, first, n, (int)(k % 2), dest[k % 3], &ready[k % 2]));
cleanup:
    return status;
}

/* Ends pair b's map of an adopted buffer, if it has one: the chunk stays where it was made. */
static oclinit_status unmap(oi_chunker *c, int b) {
    oclinit_status status = OCLINIT_SUCCESS;
    if (!c->mapped_from[b]) return status;
    OI_CL_CHECK(
        clEnqueueUnmapMemObject(oclinit_runtime_get_queue(c->runtime), c->mapped_from[b], c->mapped[b], 0, NULL, NULL));
cleanup:
    c->mapped_from[b] = NULL;
    return status;
}

oclinit_status oi_chunker_run_range(oi_chunker *c, const oclinit_distribution *d, uint64_t seed, uint64_t stream,
                                    uint64_t begin, uint64_t end, oi_chunk_place_fn place, oi_chunk_fn consume,
                                    void *user) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_event ready[2] = {NULL, NULL};
    float *whole = NULL;
    void *dest[3] = {NULL, NULL, NULL};
    uint64_t total = 0;
    OI_CHECK(oi_distribution_check(d));
    oclinit_shape_get_elements(&d->shape, &total);
    if (end > total) end = total;
    if (begin > end) begin = end;
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
    for (uint64_t k = 0; on_device && k < 2; k++)
        OI_CHECK(enqueue_next(c, d, seed, stream, begin, end, k, place, user, dest, ready));
    for (uint64_t first = begin, k = 0; first < end; first += chunk, k++) {
        uint64_t n = end - first < chunk ? end - first : chunk;
        void **mine = &dest[k % 3];
        if (on_device) {
            OI_CL_CHECK(clWaitForEvents(1, &ready[k % 2]));
            clReleaseEvent(ready[k % 2]);
            ready[k % 2] = NULL;
            OI_CHECK(unmap(c, (int)(k % 2)));
            OI_CHECK(enqueue_next(c, d, seed, stream, begin, end, k + 2, place, user, dest, ready));
        } else if (whole && !place && c->dtype == OCLINIT_DTYPE_F32) {
            *mine = whole + first; /* already what the caller wants, where it can read it */
        } else {
            OI_CHECK(destination(c, place, user, first, n, k, mine));
            if (whole)
                round_all(c->dtype, whole + first, *mine, (size_t)n, c->size);
            else
                make_on_host(c, d, seed, stream, first, n, *mine);
        }
        OI_CHECK(consume(user, first, *mine, (size_t)n));
    }
cleanup:
    for (int b = 0; b < 2; b++) unmap(c, b);
    if (c->on_device) clFinish(oclinit_runtime_get_queue(c->runtime)); /* nothing may still write into dest */
    for (int k = 1; k >= 0; k--)
        if (ready[k]) clReleaseEvent(ready[k]);
    free(whole);
    return status;
}

oclinit_status oi_chunker_run(oi_chunker *c, const oclinit_distribution *d, uint64_t seed, uint64_t stream,
                              oi_chunk_fn consume, void *user) {
    return oi_chunker_run_range(c, d, seed, stream, 0, UINT64_MAX, NULL, consume, user);
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
