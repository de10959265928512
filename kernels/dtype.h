/* float32 to the checkpoints' 16-bit types, on bit patterns with integer operations only: the host (host/io/dtype.c)
 * and every device (kernels/dtype.cl) round alike whatever their floating-point modes. Written over OI_DTYPE_WORD,
 * which the includer sets: uint32_t on the host, a vector of uint in a kernel, where ?: picks per lane (so every
 * condition below is a comparison, and a choice is made with ?:, never added as 0 or 1: a vector comparison is -1). */
#ifndef OCLINIT_DTYPE_H
#define OCLINIT_DTYPE_H

#include "compat.h"

/* The dtypes of kernels' dtype arguments. */
#define OI_DTYPE_F32 0
#define OI_DTYPE_BF16 1
#define OI_DTYPE_F16 2

/* Round to nearest, ties to even: add just under half an ulp of the result, plus one when the kept part is odd,
 * then truncate. Overflow carries into the exponent and so becomes infinity by itself. A NaN becomes the quiet
 * NaN of its sign (0x7fc0), as PyTorch and ml_dtypes make it: truncating could leave an infinity. */
OI_INLINE OI_DTYPE_WORD oi_bf16_from_bits(OI_DTYPE_WORD x) {
    OI_DTYPE_WORD rounded = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
    OI_DTYPE_WORD quiet = ((x >> 16) & 0x8000u) | 0x7fc0u;
    return (x & 0x7fffffffu) > 0x7f800000u ? quiet : rounded;
}

/* Three cases computed side by side and one chosen, so there is no branch:
 * - normal results (|x| >= 2^-14): rebias the exponent (127 -> 15) and round the 23-bit mantissa to 10 bits as
 *   for bf16; anything from 65520 up rounds past the largest half (65504) and is clamped to infinity;
 * - subnormal results (|x| < 2^-14): the value in units of 2^-24 (the smallest half) is the mantissa with its
 *   implicit bit shifted right by 126 - exponent, rounded to nearest even on the bits shifted out; 14 to 24 bits
 *   go for results that can be non-zero, and a shift capped at 31 gives 0 for everything smaller (including
 *   float32 subnormals); a result of 0x400 is the smallest normal half, which is the right encoding;
 * - NaN: quiet (bit 9 set) with the top of its payload kept, as x86's F16C conversion does. */
OI_INLINE OI_DTYPE_WORD oi_f16_from_bits(OI_DTYPE_WORD x) {
    OI_DTYPE_WORD sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
    OI_DTYPE_WORD normal = (a - (112u << 23) + 0xfffu + ((a >> 13) & 1u)) >> 13;
    normal = normal > 0x7c00u ? (OI_DTYPE_WORD)0x7c00u : normal;
    OI_DTYPE_WORD exponent = a >> 23, shift = 126u - exponent;
    shift = exponent > 126u ? (OI_DTYPE_WORD)0u : shift > 31u ? (OI_DTYPE_WORD)31u : shift; /* 14..31 where used */
    OI_DTYPE_WORD mantissa = (a & 0x7fffffu) | 0x800000u;
    OI_DTYPE_WORD kept = mantissa >> shift, one = 1u;
    OI_DTYPE_WORD rest = mantissa & ((one << shift) - 1u), halfway = (one << shift) >> 1;
    OI_DTYPE_WORD up = rest > halfway || (rest == halfway && (kept & 1u) != 0u) ? (OI_DTYPE_WORD)1u : (OI_DTYPE_WORD)0u;
    OI_DTYPE_WORD quiet = 0x7e00u | ((a >> 13) & 0x3ffu);
    OI_DTYPE_WORD h = a > 0x7f800000u ? quiet : a >= 0x38800000u ? normal : kept + up;
    return sign | h;
}

#endif
