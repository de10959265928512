/* Normalization kernels.
 *
 * Layout: x is row-major (rows x features) float32, element (r, f) at x[r * features + f].
 * oi_fit_chunks: work-item (f, c) fits feature f over rows [c OI_FIT_CHUNK_ROWS, ...) and writes its
 *   oi_chunk_stats to partials[(c * features + f) * OI_CHUNK_STATS_FIELDS ...]; the host merges them.
 * oi_normalize_apply: elementwise over the flat array, OI_LANES elements at a time. The parameters are
 *   OI_PARAM_COUNT arrays of features + OI_LANES - 1 floats, param_stride apart, where entry m holds
 *   feature m mod features: OI_LANES consecutive elements starting at feature f then read their parameters
 *   with one vector load at f, whatever the number of features. */
#include "normalize.h"

__kernel void oi_fit_chunks(__global const float *x, ulong rows, ulong features, float inverse_full,
                            float inverse_last, __global float *partials) {
    ulong feature = get_global_id(0), chunk = get_global_id(1);
    ulong first = chunk * OI_FIT_CHUNK_ROWS;
    uint n = (uint)min(rows - first, (ulong)OI_FIT_CHUNK_ROWS);
    oi_chunk_stats s = oi_fit_chunk(x + first * features, features, feature, n,
                                    n == OI_FIT_CHUNK_ROWS ? inverse_full : inverse_last);
    __global float *out = partials + (chunk * features + feature) * OI_CHUNK_STATS_FIELDS;
    out[0] = s.shift;
    out[1] = s.mean;
    out[2] = s.m2;
    out[3] = s.min;
    out[4] = s.max;
}

#define OI_APPLY_VECTORS 16

#if OI_LANES == 1
#define LOAD(p) (*(p))
#define STORE(v, p) (*(p) = (v))
#else
#define LOAD(p) OI_CAT(vload, OI_LANES)(0, (p))
#define STORE(v, p) OI_CAT(vstore, OI_LANES)((v), 0, (p))
#endif

__kernel void oi_normalize_apply(__global const float *in, __global float *out, ulong count, ulong features,
                                 __global const float *params, ulong param_stride) {
    __global const float *threshold = params + OI_PARAM_THRESHOLD * param_stride;
    __global const float *low_anchor = params + OI_PARAM_LOW_ANCHOR * param_stride;
    __global const float *low_offset = params + OI_PARAM_LOW_OFFSET * param_stride;
    __global const float *high_anchor = params + OI_PARAM_HIGH_ANCHOR * param_stride;
    __global const float *high_offset = params + OI_PARAM_HIGH_OFFSET * param_stride;
    __global const float *scale = params + OI_PARAM_SCALE * param_stride;
    ulong i = get_global_id(0) * OI_APPLY_VECTORS * OI_LANES;
    ulong f = i % features;
    for (int v = 0; v < OI_APPLY_VECTORS && i < count; v++) {
        if (i + OI_LANES <= count) {
            oi_fvec x = LOAD(in + i);
            STORE(OI_NORMALIZE(x, LOAD(threshold + f), LOAD(low_anchor + f), LOAD(low_offset + f),
                               LOAD(high_anchor + f), LOAD(high_offset + f), LOAD(scale + f)),
                  out + i);
        } else {
            for (ulong j = i, g = f; j < count; j++, g = g + 1 == features ? 0 : g + 1)
                out[j] = OI_NORMALIZE(in[j], threshold[g], low_anchor[g], low_offset[g], high_anchor[g],
                                      high_offset[g], scale[g]);
        }
        i += OI_LANES;
        f = (f + OI_LANES) % features;
    }
}
