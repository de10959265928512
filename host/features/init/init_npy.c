/* Writing a tensor to a .npy file in chunks (features/init/chunks.c: the device makes chunks k + 1 and k + 2 while
 * chunk k is written); the file appears only when complete (core/output.c). */
#include <math.h>
#include <stdlib.h>

#include "features/features.h"

typedef struct npy_writer {
    oi_output *out;
    oi_running_stats stats;
    const oclinit_write_options *options;
    uint64_t total;
    const char *path;
} npy_writer;

static oclinit_status write_chunk(void *user, uint64_t first, const void *data, size_t count) {
    oclinit_status status = OCLINIT_SUCCESS;
    npy_writer *w = user;
    OI_CHECK(oi_output_write(w->out, data, count * sizeof(float)));
    if (w->options->stats) oi_running_stats_add(&w->stats, data, count);
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
    npy_writer w = {NULL, {0}, &opts, 0, path};

    OI_REQUIRE(distribution, "distribution");
    OI_REQUIRE(path, "path");
    if (options) opts = *options;
    OI_CHECK(oi_distribution_check(distribution));
    oclinit_shape_get_elements(&distribution->shape, &w.total);
    size_t header_size = oi_npy_header(header, distribution->shape.rank, distribution->shape.dims, "<f4");
    /* The buffers first: if the device cannot hold a chunk, no file is touched. */
    OI_CHECK(oi_chunker_create(runtime, OCLINIT_DTYPE_F32, opts.chunk_bytes, w.total, &chunker));
    w.out = malloc(sizeof *w.out);
    if (!w.out) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating an output file");
        goto cleanup;
    }
    OI_CHECK(oi_output_open(path, w.out));
    OI_CHECK(oi_output_reserve(w.out, header_size + w.total * sizeof(float)));
    OI_CHECK(oi_output_write(w.out, header, header_size));
    OI_CHECK(oi_chunker_run(chunker, distribution, seed, stream, write_chunk, &w));
    OI_CHECK(oi_output_commit(w.out));
    if (opts.stats) *opts.stats = oi_running_stats_get(&w.stats);
cleanup:
    oi_chunker_free(chunker);
    if (w.out) oi_output_abort(w.out);
    free(w.out);
    return status;
}
