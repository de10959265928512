/* Weight initialization kernels.
 *
 * Layout: out is a buffer of float32, or for the samplers' kernels of their dtype argument (bf16 or f16, rounded
 * here: kernels/dtype.h); a kernel writes elements [first, first + count) of a row-major tensor to
 * out[out_offset + (i - first)], out_offset counted in elements. Work-item g makes the OI_LANES Philox blocks j = first / 4 + g OI_LANES + l,
 * i.e. elements 4j .. 4j+3, and writes those that fall inside the range, so a slice made alone equals that
 * slice of the whole tensor. The sampling itself is distributions.h, shared with the host twin. */
#include "distributions.h"
#define OI_DTYPE_WORD uint16
#include "dtype.h"

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

/* The OI_LANES x 4 values of a work-item in memory order: block l's four words at 4 l. Through the lanes array PoCL
 * stores float by float, so at 16 lanes they are interleaved by shuffles, word pairs then quads, into four vectors. */
static inline void in_memory_order(oi_block b, float16 *ordered) {
#if OI_LANES == 16
    const uint16 pairs = (uint16)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const ulong8 quads = (ulong8)(0, 8, 1, 9, 2, 10, 3, 11);
    ulong8 w01_low = as_ulong8(shuffle2(b.v[0], b.v[1], pairs));
    ulong8 w01_high = as_ulong8(shuffle2(b.v[0], b.v[1], pairs + 8u));
    ulong8 w23_low = as_ulong8(shuffle2(b.v[2], b.v[3], pairs));
    ulong8 w23_high = as_ulong8(shuffle2(b.v[2], b.v[3], pairs + 8u));
    ordered[0] = as_float16(shuffle2(w01_low, w23_low, quads));
    ordered[1] = as_float16(shuffle2(w01_low, w23_low, quads + 4ul));
    ordered[2] = as_float16(shuffle2(w01_high, w23_high, quads));
    ordered[3] = as_float16(shuffle2(w01_high, w23_high, quads + 4ul));
#else
    float lanes[4][OI_LANES], values[4 * OI_LANES + 16];
    for (int k = 0; k < 4; k++) OI_LANES_TO_ARRAY(b.v[k], lanes[k]);
    for (int l = 0; l < OI_LANES; l++)
        for (int k = 0; k < 4; k++) values[4 * l + k] = lanes[k][l];
    for (int j = 0; j < (4 * OI_LANES + 15) / 16; j++) ordered[j] = vload16(j, values);
#endif
}

/* A work-item's OI_LANES x 4 floats, in memory order, at dst. */
static inline void store_whole(const float16 *ordered, __global float *dst) {
#if OI_LANES == 1
    vstore4(ordered[0].lo.lo, 0, dst);
#elif OI_LANES == 2
    vstore8(ordered[0].lo, 0, dst);
#else
    for (int j = 0; j < 4 * OI_LANES / 16; j++) vstore16(ordered[j], j, dst);
#endif
}

/* float32 to the kernel's dtype argument (OI_DTYPE_*, kernels/dtype.h), each result in the low half of a uint. */
static inline uint16 round16(float16 v, ulong dtype) {
    return dtype == OI_DTYPE_BF16 ? oi_bf16_from_bits(as_uint16(v)) : oi_f16_from_bits(as_uint16(v));
}

/* out holds the elements in dtype: float32, or bf16 / f16 rounded here (the samplers' kernels; the others write
 * float32). A work-item whose blocks lie inside the range stores whole vectors; one at an edge, element by element. */
static inline void store_blocks(__global uchar *out, ulong dtype, ulong out_offset, ulong first, ulong count,
                                ulong block, oi_block b) {
    float16 ordered[(4 * OI_LANES + 15) / 16];
    in_memory_order(b, ordered);
    ulong start = block * 4, at = out_offset + (start - first);
    bool whole = start >= first && start + 4 * OI_LANES <= first + count;
    if (whole && dtype == OI_DTYPE_F32) {
        store_whole(ordered, (__global float *)out + at);
    } else if (whole && OI_LANES >= 4 && at % 2 == 0) {
        /* in pairs, as uints (the even element in the low half: little-endian devices): on PoCL a tenth faster than
         * as ushort vectors */
        for (int j = 0; j < 4 * OI_LANES / 16; j++) {
            uint16 r = round16(ordered[j], dtype);
            vstore8(r.even | (r.odd << 16), j, (__global uint *)out + at / 2);
        }
    } else if (whole && OI_LANES >= 4) {
        for (int j = 0; j < 4 * OI_LANES / 16; j++)
            vstore16(convert_ushort16(round16(ordered[j], dtype)), j, (__global ushort *)out + at);
    } else {
        float values[16 * ((4 * OI_LANES + 15) / 16)];
        for (int j = 0; j < (4 * OI_LANES + 15) / 16; j++) vstore16(ordered[j], j, values);
        for (int e = 0; e < 4 * OI_LANES; e++) {
            ulong i = start + e;
            if (i < first || i >= first + count) continue;
            if (dtype == OI_DTYPE_F32)
                ((__global float *)out)[out_offset + (i - first)] = values[e];
            else
                ((__global ushort *)out)[out_offset + (i - first)] = (ushort)round16((float16)(values[e]), dtype).s0;
        }
    }
}

__kernel void oi_init_uniform(__global uchar *out, ulong out_offset, ulong first, ulong count, ulong seed,
                              ulong stream, ulong dtype, float a, float width) {
    ulong block = item_first_block(first);
    oi_philox_words w = oi_philox_block(seed, stream, OI_LANE_BLOCKS(block));
    store_blocks(out, dtype, out_offset, first, count, block, oi_uniform_block(w, a, width));
}

__kernel void oi_init_normal(__global uchar *out, ulong out_offset, ulong first, ulong count, ulong seed,
                             ulong stream, ulong dtype, float mean, float std) {
    ulong block = item_first_block(first);
    oi_philox_words w = oi_philox_block(seed, stream, OI_LANE_BLOCKS(block));
    store_blocks(out, dtype, out_offset, first, count, block, oi_normal_block(w, mean, std));
}

__kernel void oi_init_trunc_normal(__global uchar *out, ulong out_offset, ulong first, ulong count, ulong seed,
                                   ulong stream, ulong dtype, float lower, float width, float upper, float mean,
                                   float scale, float a, float b) {
    ulong block = item_first_block(first);
    oi_philox_words w = oi_philox_block(seed, stream, OI_LANE_BLOCKS(block));
    oi_trunc_normal_params p = {lower, width, upper, mean, scale, a, b};
    store_blocks(out, dtype, out_offset, first, count, block, oi_trunc_normal_block(w, p));
}

/* eye and dirac: the caller fills the range with zeros first; work-item g sets the one n = begin + g, at flat index
 * (n / per_group) group_stride + (n % per_group) diagonal_stride + centre, which the caller found inside the range. */
__kernel void oi_init_eye(__global float *out, ulong out_offset, ulong first, ulong begin, ulong per_group,
                          ulong group_stride, ulong diagonal_stride, ulong centre, float value) {
    ulong n = begin + get_global_id(0);
    ulong i = n / per_group * group_stride + n % per_group * diagonal_stride + centre;
    out[out_offset + (i - first)] = value;
}
