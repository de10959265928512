/* Per-feature statistics and the normalizing transformation, shared by kernels/normalize.cl and the host
 * twin in host/normalize.c, so device and host give the same bits.
 *
 * Data are row-major (rows x features) float32: element (r, f) at x[r * features + f].
 *
 * Fitting works on chunks of OI_FIT_CHUNK_ROWS rows. For one chunk and one feature: a first pass gives min and
 * max, and from them a power of two, scale, that brings the largest magnitude into [2, 4); then with shift s =
 * the chunk's first value times scale and y = x scale - s, a second pass gives the sum of y and a third (the
 * chunk still in cache) the sum of (y - mean_y)^2, both Kahan-compensated. The caller merges the chunks in
 * double (Chan et al.'s pairwise update), dividing scale out again. Nothing squares a large number, so data
 * around 1e6 with a spread of 0.1 keep their std; and the scaled values neither overflow when squared nor
 * underflow, so any finite data (up to 3.4e38, down to the smallest denormal) have their statistics.
 * Multiplying by a power of two is exact, and so are the roundings of scaled sums and products: where the
 * unscaled arithmetic neither overflows nor underflows, the statistics are exactly those it would give. The
 * division by the chunk's row count is a multiplication by a reciprocal the caller computes, so no device
 * division (allowed 2.5 ulp) enters. */
#ifndef OCLINIT_NORMALIZE_H
#define OCLINIT_NORMALIZE_H

#include "compat.h"

#define OI_FIT_CHUNK_ROWS 1024
#define OI_CHUNK_STATS_FIELDS 6

/* For OI_LANES consecutive features at once: lane l is feature first_feature + l. */
typedef struct oi_chunk_stats {
    oi_fvec shift, mean, m2, min, max, scale; /* shift, mean and m2 of y = x scale - shift; min and max of x */
} oi_chunk_stats;

/* The power of two that brings max(|min|, |max|) into [2, 4), or 2^127 below 2^-126 (zero and denormals):
 * 2^(128 - e) for the largest magnitude's biased exponent e, always a normal float. */
OI_INLINE oi_fvec oi_fit_scale(oi_fvec min, oi_fvec max) {
    oi_fvec low = oi_bits_fvec(oi_fvec_bits(min) & 0x7fffffffu), high = oi_bits_fvec(oi_fvec_bits(max) & 0x7fffffffu);
    oi_fvec largest = oi_select(high > low, high, low);
    largest = oi_select(largest < FLT_MIN, oi_splat_f(FLT_MIN), largest);
    return oi_bits_fvec((255u - (oi_fvec_bits(largest) >> 23)) << 23);
}

OI_INLINE oi_chunk_stats oi_fit_chunk(OI_GLOBAL const float *x, oi_u64 features, oi_u64 first_feature, oi_u32 rows,
                                      float inverse_rows) {
    OI_GLOBAL const float *columns = x + first_feature;
    oi_chunk_stats s;
    s.min = oi_load_lanes(columns);
    s.max = s.min;
    for (oi_u32 r = 1; r < rows; r++) {
        oi_fvec v = oi_load_lanes(columns + r * features);
        s.min = oi_select(v < s.min, v, s.min);
        s.max = oi_select(v > s.max, v, s.max);
    }
    s.scale = oi_fit_scale(s.min, s.max);
    s.shift = oi_load_lanes(columns) * s.scale;
    oi_fvec sum = oi_splat_f(0.0f), carry = oi_splat_f(0.0f);
    for (oi_u32 r = 0; r < rows; r++) {
        oi_fvec term = (oi_load_lanes(columns + r * features) * s.scale - s.shift) - carry;
        oi_fvec next = sum + term;
        carry = (next - sum) - term;
        sum = next;
    }
    s.mean = sum * inverse_rows;
    oi_fvec m2 = oi_splat_f(0.0f);
    carry = oi_splat_f(0.0f);
    for (oi_u32 r = 0; r < rows; r++) {
        oi_fvec d = (oi_load_lanes(columns + r * features) * s.scale - s.shift) - s.mean;
        oi_fvec term = d * d - carry;
        oi_fvec next = m2 + term;
        carry = (next - m2) - term;
        m2 = next;
    }
    s.m2 = m2;
    return s;
}

/* y = (x prescale - anchor) * scale + offset, with the low anchor below threshold and the high one above:
 * min-max anchors at (min, lo) and (max, hi) so both ends of the training range map exactly; z-score has one
 * anchor (threshold +inf). prescale is a power of two that brings the training range near 1 (anchors and scale
 * are in its units), so that x - anchor cannot overflow nor the scale leave float's range for any finite
 * statistics; it changes no bit where the unscaled arithmetic stays in range. 0 for a constant feature, which
 * then maps to offset whatever x is. Works on scalars and OpenCL vectors alike. */
#define OI_NORMALIZE(x, threshold, low_anchor, low_offset, high_anchor, high_offset, scale, prescale)                  \
    oi_select((x) < (threshold), ((x) * (prescale) - (low_anchor)) * (scale) + (low_offset),                           \
              ((x) * (prescale) - (high_anchor)) * (scale) + (high_offset))

/* The parameter arrays of OI_NORMALIZE, in this order, each features (+ OI_LANES - 1 on the device) long. */
enum {
    OI_PARAM_THRESHOLD,
    OI_PARAM_LOW_ANCHOR,
    OI_PARAM_LOW_OFFSET,
    OI_PARAM_HIGH_ANCHOR,
    OI_PARAM_HIGH_OFFSET,
    OI_PARAM_SCALE,
    OI_PARAM_PRESCALE,
    OI_PARAM_COUNT
};

#endif
