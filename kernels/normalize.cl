/* Normalization kernels.
 *
 * Layout: x is row-major (rows x features) float32, element (r, f) at x[r * features + f].
 * oi_fit_chunks: fits OI_LANES features over rows [c OI_FIT_CHUNK_ROWS, ...) per work-item and writes each
 *   feature's oi_chunk_stats to partials[(c * features + f) * OI_CHUNK_STATS_FIELDS ...]; the host merges
 *   them. With fewer features than OI_LANES the host uses this program built with OI_LANES = 1.
 * oi_normalize_apply: elementwise over the flat array, OI_LANES elements at a time. The parameters are
 *   OI_PARAM_COUNT arrays of features + OI_LANES - 1 floats, param_stride apart, where entry m holds
 *   feature m mod features: OI_LANES consecutive elements starting at feature f then read their parameters
 *   with one vector load at f, whatever the number of features. */
#include "normalize.h"

/* Work-item (g, c) fits features [g OI_LANES, (g + 1) OI_LANES) over chunk c, one feature per lane; the last
 * group is shifted left to end at the last feature (features >= OI_LANES), and its lanes that overlap the
 * previous group store nothing. */
__kernel void oi_fit_chunks(__global const float *x, ulong rows, ulong features, float inverse_full,
                            float inverse_last, __global float *partials) {
    ulong group_first = get_global_id(0) * OI_LANES, chunk = get_global_id(1);
    ulong first_feature = min(group_first, features - OI_LANES);
    ulong first = chunk * OI_FIT_CHUNK_ROWS;
    uint n = (uint)min(rows - first, (ulong)OI_FIT_CHUNK_ROWS);
    oi_chunk_stats s = oi_fit_chunk(x + first * features, features, first_feature, n,
                                    n == OI_FIT_CHUNK_ROWS ? inverse_full : inverse_last);
    float fields[OI_CHUNK_STATS_FIELDS][OI_LANES];
    oi_store_lanes(s.shift, fields[0]);
    oi_store_lanes(s.mean, fields[1]);
    oi_store_lanes(s.m2, fields[2]);
    oi_store_lanes(s.min, fields[3]);
    oi_store_lanes(s.max, fields[4]);
    oi_store_lanes(s.scale, fields[5]);
    for (int l = 0; l < OI_LANES; l++) {
        if (first_feature + l < group_first) continue;
        __global float *out = partials + (chunk * features + first_feature + l) * OI_CHUNK_STATS_FIELDS;
        for (int k = 0; k < OI_CHUNK_STATS_FIELDS; k++) out[k] = fields[k][l];
    }
}

#define OI_APPLY_VECTORS 16

__kernel void oi_normalize_apply(__global const float *in, __global float *out, ulong count, ulong features,
                                 __global const float *params, ulong param_stride) {
    __global const float *threshold = params + OI_PARAM_THRESHOLD * param_stride;
    __global const float *low_anchor = params + OI_PARAM_LOW_ANCHOR * param_stride;
    __global const float *low_offset = params + OI_PARAM_LOW_OFFSET * param_stride;
    __global const float *high_anchor = params + OI_PARAM_HIGH_ANCHOR * param_stride;
    __global const float *high_offset = params + OI_PARAM_HIGH_OFFSET * param_stride;
    __global const float *scale = params + OI_PARAM_SCALE * param_stride;
    __global const float *prescale = params + OI_PARAM_PRESCALE * param_stride;
    ulong i = get_global_id(0) * OI_APPLY_VECTORS * OI_LANES;
    ulong f = i % features;
    for (int v = 0; v < OI_APPLY_VECTORS && i < count; v++) {
        if (i + OI_LANES <= count) {
            oi_fvec x = oi_load_lanes(in + i);
            oi_store_lanes(OI_NORMALIZE(x, oi_load_lanes(threshold + f), oi_load_lanes(low_anchor + f),
                                       oi_load_lanes(low_offset + f), oi_load_lanes(high_anchor + f),
                                       oi_load_lanes(high_offset + f), oi_load_lanes(scale + f),
                                       oi_load_lanes(prescale + f)),
                          out + i);
        } else {
            for (ulong j = i, g = f; j < count; j++, g = g + 1 == features ? 0 : g + 1)
                out[j] = OI_NORMALIZE(in[j], threshold[g], low_anchor[g], low_offset[g], high_anchor[g],
                                      high_offset[g], scale[g], prescale[g]);
        }
        i += OI_LANES;
        f = (f + OI_LANES) % features;
    }
}
