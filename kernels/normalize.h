/* Per-feature statistics and the normalizing transformation, shared by kernels/normalize.cl and the host
 * twin in host/normalize.c, so device and host give the same bits.
 *
 * Data are row-major (rows x features) float32: element (r, f) at x[r * features + f].
 *
 * Fitting works on chunks of OI_FIT_CHUNK_ROWS rows. For one chunk and one feature: shift s = the chunk's
 * first value and y = x - s; a first pass gives min, max and the sum of y, a second pass over the same rows
 * (still in cache) the sum of (y - mean_y)^2; both sums Kahan-compensated. The caller merges the chunks in
 * double (Chan et al.'s pairwise update). Nothing squares a large number, so data around 1e6 with a spread
 * of 0.1 keep their std; the division by the chunk's row count is a multiplication by a reciprocal the
 * caller computes, so no device division (allowed 2.5 ulp) enters. */
#ifndef OCLINIT_NORMALIZE_H
#define OCLINIT_NORMALIZE_H

#include "compat.h"

#define OI_FIT_CHUNK_ROWS 1024
#define OI_CHUNK_STATS_FIELDS 5

/* For OI_LANES consecutive features at once: lane l is feature first_feature + l. */
typedef struct oi_chunk_stats {
    oi_fvec shift, mean, m2, min, max; /* mean and m2 of y = x - shift */
} oi_chunk_stats;

OI_INLINE oi_chunk_stats oi_fit_chunk(OI_GLOBAL const float *x, oi_u64 features, oi_u64 first_feature, oi_u32 rows,
                                      float inverse_rows) {
    OI_GLOBAL const float *columns = x + first_feature;
    oi_chunk_stats s;
    s.shift = oi_load_lanes(columns);
    s.min = s.shift;
    s.max = s.shift;
    oi_fvec sum = oi_splat_f(0.0f), carry = oi_splat_f(0.0f);
    for (oi_u32 r = 0; r < rows; r++) {
        oi_fvec v = oi_load_lanes(columns + r * features);
        s.min = oi_select(v < s.min, v, s.min);
        s.max = oi_select(v > s.max, v, s.max);
        oi_fvec term = (v - s.shift) - carry;
        oi_fvec next = sum + term;
        carry = (next - sum) - term;
        sum = next;
    }
    s.mean = sum * inverse_rows;
    oi_fvec m2 = oi_splat_f(0.0f);
    carry = oi_splat_f(0.0f);
    for (oi_u32 r = 0; r < rows; r++) {
        oi_fvec d = (oi_load_lanes(columns + r * features) - s.shift) - s.mean;
        oi_fvec term = d * d - carry;
        oi_fvec next = m2 + term;
        carry = (next - m2) - term;
        m2 = next;
    }
    s.m2 = m2;
    return s;
}

/* y = (x - anchor) * scale + offset, with the low anchor below threshold and the high one above: min-max
 * anchors at (min, lo) and (max, hi) so both ends of the training range map exactly; z-score has one anchor
 * (threshold +inf). Works on scalars and OpenCL vectors alike. */
#define OI_NORMALIZE(x, threshold, low_anchor, low_offset, high_anchor, high_offset, scale)                       \
    oi_select((x) < (threshold), ((x) - (low_anchor)) * (scale) + (low_offset),                                    \
              ((x) - (high_anchor)) * (scale) + (high_offset))

/* The parameter arrays of OI_NORMALIZE, in this order, each features (+ OI_LANES - 1 on the device) long. */
enum {
    OI_PARAM_THRESHOLD,
    OI_PARAM_LOW_ANCHOR,
    OI_PARAM_LOW_OFFSET,
    OI_PARAM_HIGH_ANCHOR,
    OI_PARAM_HIGH_OFFSET,
    OI_PARAM_SCALE,
    OI_PARAM_COUNT
};

#endif
