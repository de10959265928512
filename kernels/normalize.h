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

typedef struct oi_chunk_stats {
    float shift, mean, m2, min, max; /* mean and m2 of y = x - shift */
} oi_chunk_stats;

OI_INLINE oi_chunk_stats oi_fit_chunk(OI_GLOBAL const float *x, oi_u64 features, oi_u64 feature, oi_u32 rows,
                                      float inverse_rows) {
    OI_GLOBAL const float *column = x + feature;
    oi_chunk_stats s;
    s.shift = column[0];
    s.min = s.shift;
    s.max = s.shift;
    float sum = 0.0f, carry = 0.0f;
    for (oi_u32 r = 0; r < rows; r++) {
        float v = column[r * features];
        s.min = v < s.min ? v : s.min;
        s.max = v > s.max ? v : s.max;
        float term = (v - s.shift) - carry;
        float next = sum + term;
        carry = (next - sum) - term;
        sum = next;
    }
    s.mean = sum * inverse_rows;
    float m2 = 0.0f;
    carry = 0.0f;
    for (oi_u32 r = 0; r < rows; r++) {
        float d = (column[r * features] - s.shift) - s.mean;
        float term = d * d - carry;
        float next = m2 + term;
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
    ((x) < (threshold) ? ((x) - (low_anchor)) * (scale) + (low_offset) : ((x) - (high_anchor)) * (scale) + (high_offset))

/* The parameter arrays of OI_NORMALIZE, in this order, each features (+ OI_LANES - 1 on the device) long. */
enum { OI_PARAM_THRESHOLD, OI_PARAM_LOW_ANCHOR, OI_PARAM_LOW_OFFSET, OI_PARAM_HIGH_ANCHOR, OI_PARAM_HIGH_OFFSET,
       OI_PARAM_SCALE, OI_PARAM_COUNT };

#endif
