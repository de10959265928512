/* The host twin of kernels/init.cl: the same shared code (kernels/distributions.h) run on 16 Philox blocks at
 * once as GCC vectors, compiled for AVX-512, AVX2 and plain x86-64 (target_clones picks one at load time),
 * and on every core (OpenMP). Lanes are independent and every operation is exact or correctly rounded, so it
 * gives the kernels' bits whatever the instruction set. */
#define OI_HOST_LANES 16
#include "distributions.h"
#include "features/features.h"

#define CHUNK_BLOCKS 4096 /* blocks per OpenMP work item: 16384 floats, 64 KiB */

static oi_block sample(const oi_sampler *s, oi_philox_words w) {
    switch (s->kind) {
    case OCLINIT_DISTRIBUTION_UNIFORM: return oi_uniform_block(w, s->a, s->width);
    case OCLINIT_DISTRIBUTION_NORMAL: return oi_normal_block(w, s->mean, s->std);
    default: {
        oi_trunc_normal_params p = {s->trunc[0], s->trunc[1], s->trunc[2], s->trunc[3],
                                    s->trunc[4], s->trunc[5], s->trunc[6]};
        return oi_trunc_normal_block(w, p);
    }
    }
}

/* Blocks [begin, end) of the tensor's stream; elements outside [first, first + count) are not written. */
OI_HOST_CLONES static void
fill_blocks(const oi_sampler *s, uint64_t seed, uint64_t stream, uint64_t first, uint64_t count, uint64_t begin,
            uint64_t end, float *out) {
    static const oi_wide lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    for (uint64_t block = begin; block < end; block += OI_HOST_LANES) {
        oi_block b = sample(s, oi_philox_block(seed, stream, oi_splat_wide(block) + lane));
        float values[4][OI_HOST_LANES];
        for (int k = 0; k < 4; k++) memcpy(values[k], &b.v[k], sizeof values[k]);
        uint64_t start = 4 * block;
        if (start >= first && start + 4 * OI_HOST_LANES <= first + count) {
            float *dst = out + (start - first);
            for (int l = 0; l < OI_HOST_LANES; l++)
                for (int k = 0; k < 4; k++) dst[4 * l + k] = values[k][l];
            continue;
        }
        for (int l = 0; l < OI_HOST_LANES; l++) {
            for (int k = 0; k < 4; k++) {
                uint64_t i = start + 4 * (uint64_t)l + (uint64_t)k;
                if (i >= first && i - first < count) out[i - first] = values[k][l];
            }
        }
    }
}

void oi_init_twin_fill(const oi_sampler *s, uint64_t seed, uint64_t stream, uint64_t first, uint64_t count,
                       float *out) {
    if (count == 0) return;
    uint64_t first_block = first / 4, last_block = (first + count - 1) / 4 + 1;
    int64_t chunks = (int64_t)((last_block - first_block + CHUNK_BLOCKS - 1) / CHUNK_BLOCKS);
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        uint64_t begin = first_block + (uint64_t)c * CHUNK_BLOCKS;
        uint64_t end = begin + CHUNK_BLOCKS < last_block ? begin + CHUNK_BLOCKS : last_block;
        fill_blocks(s, seed, stream, first, count, begin, end, out);
    }
}
