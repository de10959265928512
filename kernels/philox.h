/* Philox4x32-10: a pure function from a 128-bit counter and a 64-bit key to four 32-bit words.
 *
 * Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC11; constants and round
 * function as in Random123's philox.h. Compiles as C and as OpenCL C (compat.h); tested on both sides
 * against Random123's known answers (tests/test_philox.c).
 *
 * Each 32-bit word lives in a 64-bit lane whose upper half is ignored: the products take the low halves
 * (oi_mul_low32, compat.h), one 32x32->64 multiply per lane (vpmuludq) without the packing and unpacking that
 * 32-bit lanes need. */
#ifndef OCLINIT_PHILOX_H
#define OCLINIT_PHILOX_H

#include "compat.h"

#define OI_PHILOX_M0 0xD2511F53ul
#define OI_PHILOX_M1 0xCD9E8D57ul
#define OI_PHILOX_W0 0x9E3779B9ul /* golden ratio */
#define OI_PHILOX_W1 0xBB67AE85ul /* sqrt(3) - 1 */

typedef struct oi_philox_words {
    oi_uvec w[4];
} oi_philox_words;

OI_INLINE oi_philox_words oi_philox4x32_10(oi_wide c0, oi_wide c1, oi_wide c2, oi_wide c3, oi_u64 k0, oi_u64 k1) {
    OI_UNROLLED
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += OI_PHILOX_W0;
            k1 += OI_PHILOX_W1;
        }
        oi_wide p0 = oi_mul_low32(c0, OI_PHILOX_M0);
        oi_wide p1 = oi_mul_low32(c2, OI_PHILOX_M1);
        oi_wide n0 = (p1 >> 32) ^ c1 ^ k0;
        oi_wide n2 = (p0 >> 32) ^ c3 ^ k1;
        c1 = p1;
        c3 = p0;
        c0 = n0;
        c2 = n2;
    }
    oi_philox_words out;
    out.w[0] = oi_wide_to_u32(c0);
    out.w[1] = oi_wide_to_u32(c1);
    out.w[2] = oi_wide_to_u32(c2);
    out.w[3] = oi_wide_to_u32(c3);
    return out;
}

/* The project's contract: block j of the stream (seed s, stream t) is Philox with
 * key = (s mod 2^32, s div 2^32) and counter = (j mod 2^32, j div 2^32, t mod 2^32, t div 2^32). */
OI_INLINE oi_philox_words oi_philox_block(oi_u64 seed, oi_u64 stream, oi_wide block) {
    return oi_philox4x32_10(block, block >> 32, oi_splat_wide(stream), oi_splat_wide(stream >> 32), seed, seed >> 32);
}

#endif
