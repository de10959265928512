/* Writing a tensor to a .npy file in chunks (features/init/chunks.c), made straight into the writer thread's slots
 * (core/slots.c): while the device (or the host C path) makes the next chunks, the thread writes the ones before, with
 * O_DIRECT where the file system allows it. The file appears only when complete (core/output.c). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/features.h"

typedef struct npy_writer {
    oi_slots *slots;
    oi_slot_target to; /* the data's first byte in the file */
    oi_running_stats stats;
    const oclinit_write_options *options;
    uint64_t total;
    const char *path;
} npy_writer;

static void *place_chunk(void *user, uint64_t first, size_t count) {
    npy_writer *w = user;
    oi_slot_target to = w->to;
    to.offset += first * sizeof(float);
    return oi_slots_place(w->slots, to, count * sizeof(float));
}

static oclinit_status write_chunk(void *user, uint64_t first, const void *data, size_t count) {
    oclinit_status status = OCLINIT_SUCCESS;
    npy_writer *w = user;
    if (w->options->stats) oi_running_stats_add(&w->stats, data, count); /* before the thread may write it */
    OI_CHECK(oi_slots_hand(w->slots, data));
    oclinit_progress progress = {.done = first + count, .total = w->total};
    if (w->options->progress && w->options->progress(w->options->user, &progress) != 0)
        return oi_fail(OCLINIT_ERROR_CANCELLED, "writing %s was cancelled; nothing was written", w->path);
cleanup:
    return status;
}

oclinit_status oclinit_init_write_npy(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                      uint64_t seed, uint64_t stream, const char *path,
                                      const oclinit_write_options *options) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_write_options opts = {0};
    char header[OI_NPY_HEADER_MAX];
    oi_chunker *chunker = NULL;
    oi_output out = {.fd = -1};
    npy_writer w = {NULL, {-1, -1, 0, path}, {0}, &opts, 0, path};

    OI_REQUIRE(distribution, "distribution");
    OI_REQUIRE(path, "path");
    if (options) opts = *options;
    OI_CHECK(oi_distribution_check(distribution));
    oclinit_shape_get_elements(&distribution->shape, &w.total);
    size_t header_size = oi_npy_header(header, distribution->shape.rank, distribution->shape.dims, "<f4");
    /* The buffers first: if the device cannot hold a chunk, no file is touched. */
    OI_CHECK(oi_chunker_create(runtime, OCLINIT_DTYPE_F32, opts.chunk_bytes, w.total, &chunker));
    OI_CHECK(oi_chunker_start_slots(chunker, &w.slots));
    /* The header through the temporary file's own cycle; the data then from the thread, into the same file. */
    OI_CHECK(oi_output_open(path, &out));
    OI_CHECK(oi_output_reserve(&out, header_size + w.total * sizeof(float)));
    OI_CHECK(oi_output_write(&out, header, header_size));
    OI_CHECK(oi_output_finish(&out));
    w.to.fd = open(out.temporary, O_WRONLY | O_CLOEXEC);
    if (w.to.fd < 0) {
        status = oi_fail(OCLINIT_ERROR_IO, "cannot open %s: %s", out.temporary, strerror(errno));
        goto cleanup;
    }
    w.to = oi_slot_target_open(w.to.fd, out.temporary, path);
    w.to.offset = header_size;
    status = oi_chunker_run_range(chunker, distribution, seed, stream, 0, w.total, place_chunk, write_chunk, &w);
    OI_CHECK(oi_slots_close(w.slots, &w.to, status));
    OI_CHECK(oi_output_publish(&out));
    if (opts.stats) *opts.stats = oi_running_stats_get(&w.stats);
cleanup:
    oi_slots_stop(w.slots); /* before the file it may still be writing goes */
    oi_output_abort(&out);
    oi_chunker_free(chunker); /* before the slots its buffers lie over */
    oi_slots_free(w.slots);
    return status;
}
