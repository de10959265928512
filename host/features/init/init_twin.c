/* The host twin of kernels/init.cl: the same shared code (kernels/distributions.h) run on several Philox blocks at
 * once as GCC vectors, and on every core (OpenMP). The block loop is compiled once per instruction set: here for
 * plain x86-64, and through init_twin_avx2.c and init_twin_avx512.c with -mavx2 and -mavx512f
 * (host/CMakeLists.txt); oi_init_twin_fill picks one at run time. A whole file per ISA, rather than target_clones,
 * lets Philox's products be one instruction (oi_mul_low32, kernels/compat.h) and each ISA have the lanes that
 * suit its registers: 16 on AVX-512 (32 registers of 8 words), 8 on AVX2 (16 of 4: at 16 the loop spills and
 * trunc-normal runs at half the speed), 16 on plain x86-64 (4 and 8 are no faster). Lanes are independent and
 * every operation is exact or correctly rounded, so it gives the kernels' bits whatever the instruction set and
 * the number of lanes. */
#ifndef OI_TWIN_ISA
#define OI_TWIN_ISA plain
#define OI_HOST_LANES 16
#define OI_TWIN_DISPATCH 1
#endif
#include "distributions.h"
#include "features/features.h"

#define TWIN_CAT_(a, b) a##b
#define TWIN_CAT(a, b) TWIN_CAT_(a, b)
#define TWIN_BLOCKS TWIN_CAT(oi_init_twin_blocks_, OI_TWIN_ISA)

/* Blocks [begin, end) of the tensor's stream; elements outside [first, first + count) are not written. */
typedef void twin_blocks(const oi_sampler *s, uint64_t seed, uint64_t stream, uint64_t first, uint64_t count,
                         uint64_t begin, uint64_t end, float *out);
twin_blocks oi_init_twin_blocks_avx512, oi_init_twin_blocks_avx2, oi_init_twin_blocks_plain;

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

/* flatten: the lane helpers inlined, so that no vector crosses a call */
__attribute__((flatten)) void TWIN_BLOCKS(const oi_sampler *s, uint64_t seed, uint64_t stream, uint64_t first,
                                          uint64_t count, uint64_t begin, uint64_t end, float *out) {
    oi_wide lane;
    for (int l = 0; l < OI_HOST_LANES; l++) lane[l] = (uint64_t)l;
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

#ifdef OI_TWIN_DISPATCH
#define CHUNK_BLOCKS 4096 /* blocks per OpenMP work item: 16384 floats, 64 KiB; a multiple of every ISA's lanes */

oi_twin_isa oi_init_twin_isa = OI_TWIN_BEST;

void oi_init_twin_fill(const oi_sampler *s, uint64_t seed, uint64_t stream, uint64_t first, uint64_t count,
                       float *out) {
    if (count == 0) return;
    bool avx512 = __builtin_cpu_supports("avx512f"), avx2 = __builtin_cpu_supports("avx2");
    twin_blocks *blocks = oi_init_twin_isa == OI_TWIN_PLAIN                ? oi_init_twin_blocks_plain
                          : avx512 && oi_init_twin_isa != OI_TWIN_AVX2     ? oi_init_twin_blocks_avx512
                          : avx2                                           ? oi_init_twin_blocks_avx2
                                                                           : oi_init_twin_blocks_plain;
    uint64_t first_block = first / 4, last_block = (first + count - 1) / 4 + 1;
    int64_t chunks = (int64_t)((last_block - first_block + CHUNK_BLOCKS - 1) / CHUNK_BLOCKS);
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        uint64_t begin = first_block + (uint64_t)c * CHUNK_BLOCKS;
        uint64_t end = begin + CHUNK_BLOCKS < last_block ? begin + CHUNK_BLOCKS : last_block;
        blocks(s, seed, stream, first, count, begin, end, out);
    }
}
#endif
