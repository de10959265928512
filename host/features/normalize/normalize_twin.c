/* The host twin of the fitting kernel, 16 features at a time: kernels/normalize.h's oi_fit_chunk on GCC
 * vectors (one lane per feature, as the kernel's lanes), compiled for AVX-512, AVX2 and plain x86-64 and on
 * every core. Lanes never interact, so each feature's statistics have the kernel's bits. */
#define OI_HOST_LANES 16
#include "features/features.h"
#include "normalize.h"

OI_HOST_CLONES static void
fit_groups(const float *x, size_t features, size_t groups, oi_u32 rows, float inverse_rows, float *partials) {
    for (size_t g = 0; g < groups; g++) {
        oi_chunk_stats s = oi_fit_chunk(x, features, g * OI_HOST_LANES, rows, inverse_rows);
        const oi_fvec fields[OI_CHUNK_STATS_FIELDS] = {s.shift, s.mean, s.m2, s.min, s.max, s.scale};
        for (int k = 0; k < OI_CHUNK_STATS_FIELDS; k++) {
            float lanes[OI_HOST_LANES];
            memcpy(lanes, &fields[k], sizeof lanes);
            for (size_t l = 0; l < OI_HOST_LANES; l++)
                partials[(g * OI_HOST_LANES + l) * OI_CHUNK_STATS_FIELDS + k] = lanes[l];
        }
    }
}

size_t oi_normalize_twin_fit(const float *x, size_t rows, size_t features, float inverse_full, float inverse_last,
                             float *partials) {
    size_t groups = features / OI_HOST_LANES, chunks = (rows + OI_FIT_CHUNK_ROWS - 1) / OI_FIT_CHUNK_ROWS;
    if (groups == 0) return 0;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < (int64_t)chunks; c++) {
        size_t first = (size_t)c * OI_FIT_CHUNK_ROWS;
        bool last = (size_t)c == chunks - 1;
        oi_u32 n = (oi_u32)(last ? rows - first : OI_FIT_CHUNK_ROWS);
        fit_groups(x + first * features, features, groups, n, last ? inverse_last : inverse_full,
                   partials + (size_t)c * features * OI_CHUNK_STATS_FIELDS);
    }
    return groups * OI_HOST_LANES;
}
