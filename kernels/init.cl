/* Weight initialization kernels.
 *
 * Layout: out is a float buffer; a kernel writes elements [first, first + count) of a row-major tensor to
 * out[out_offset + (i - first)]. Work-item g makes the OI_LANES Philox blocks j = first / 4 + g OI_LANES + l,
 * i.e. elements 4j .. 4j+3, and writes those that fall inside the range, so a slice made alone equals that
 * slice of the whole tensor. The sampling itself is distributions.h, shared with the host twin. */
#include "distributions.h"

__constant ulong oi_lane_index[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

#if OI_LANES == 1
#define OI_LANES_TO_ARRAY(v, array) ((array)[0] = (v))
#define OI_LANE_BLOCKS(j) (j)
#else
#define OI_LANES_TO_ARRAY(v, array) OI_CAT(vstore, OI_LANES)((v), 0, (array))
#define OI_LANE_BLOCKS(j) ((oi_wide)(j) + OI_CAT(vload, OI_LANES)(0, oi_lane_index))
#endif

static inline ulong item_first_block(ulong first) {
    return first / 4 + get_global_id(0) * OI_LANES;
}

static inline void store_blocks(__global float *out, ulong out_offset, ulong first, ulong count, ulong block,
                                oi_block b) {
    float lanes[4][OI_LANES];
    for (int k = 0; k < 4; k++) OI_LANES_TO_ARRAY(b.v[k], lanes[k]);
    ulong start = block * 4;
    if (start >= first && start + 4 * OI_LANES <= first + count) {
        __global float *dst = out + out_offset + (start - first);
#if OI_LANES == 16
        /* Interleaved by shuffles, word pairs then quads: through the lanes array PoCL stores float by float. */
        const uint16 pairs = (uint16)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const ulong8 quads = (ulong8)(0, 8, 1, 9, 2, 10, 3, 11);
        ulong8 w01_low = as_ulong8(shuffle2(b.v[0], b.v[1], pairs));
        ulong8 w01_high = as_ulong8(shuffle2(b.v[0], b.v[1], pairs + 8u));
        ulong8 w23_low = as_ulong8(shuffle2(b.v[2], b.v[3], pairs));
        ulong8 w23_high = as_ulong8(shuffle2(b.v[2], b.v[3], pairs + 8u));
        vstore16(as_float16(shuffle2(w01_low, w23_low, quads)), 0, dst);
        vstore16(as_float16(shuffle2(w01_low, w23_low, quads + 4ul)), 1, dst);
        vstore16(as_float16(shuffle2(w01_high, w23_high, quads)), 2, dst);
        vstore16(as_float16(shuffle2(w01_high, w23_high, quads + 4ul)), 3, dst);
#else
        for (int l = 0; l < OI_LANES; l++)
            vstore4((float4)(lanes[0][l], lanes[1][l], lanes[2][l], lanes[3][l]), l, dst);
#endif
        return;
    }
    for (int l = 0; l < OI_LANES; l++) {
        for (int k = 0; k < 4; k++) {
            ulong i = start + 4 * l + k;
            if (i >= first && i < first + count) out[out_offset + (i - first)] = lanes[k][l];
        }
    }
}

__kernel void oi_init_uniform(__global float *out, ulong out_offset, ulong first, ulong count, ulong seed,
                              ulong stream, float a, float width) {
    ulong block = item_first_block(first);
    oi_philox_words w = oi_philox_block(seed, stream, OI_LANE_BLOCKS(block));
    store_blocks(out, out_offset, first, count, block, oi_uniform_block(w, a, width));
}

__kernel void oi_init_normal(__global float *out, ulong out_offset, ulong first, ulong count, ulong seed,
                             ulong stream, float mean, float std) {
    ulong block = item_first_block(first);
    oi_philox_words w = oi_philox_block(seed, stream, OI_LANE_BLOCKS(block));
    store_blocks(out, out_offset, first, count, block, oi_normal_block(w, mean, std));
}

__kernel void oi_init_trunc_normal(__global float *out, ulong out_offset, ulong first, ulong count, ulong seed,
                                   ulong stream, float lower, float width, float upper, float mean, float scale,
                                   float a, float b) {
    ulong block = item_first_block(first);
    oi_philox_words w = oi_philox_block(seed, stream, OI_LANE_BLOCKS(block));
    oi_trunc_normal_params p = {lower, width, upper, mean, scale, a, b};
    store_blocks(out, out_offset, first, count, block, oi_trunc_normal_block(w, p));
}

/* eye and dirac: the caller fills the range with zeros first; work-item g sets the one n = begin + g, at flat index
 * (n / per_group) group_stride + (n % per_group) diagonal_stride + centre, which the caller found inside the range. */
__kernel void oi_init_eye(__global float *out, ulong out_offset, ulong first, ulong begin, ulong per_group,
                          ulong group_stride, ulong diagonal_stride, ulong centre, float value) {
    ulong n = begin + get_global_id(0);
    ulong i = n / per_group * group_stride + n % per_group * diagonal_stride + centre;
    out[out_offset + (i - first)] = value;
}
