/* The reproducibility contract (README.md, "Reproducibility"): how the four Philox words of block j become
 * elements 4j .. 4j+3 of a tensor. Shared by the kernels (init.cl) and the host twin (host/init.c), so the
 * two cannot drift apart. Each function works on OI_LANES consecutive blocks at once (compat.h). */
#ifndef OCLINIT_DISTRIBUTIONS_H
#define OCLINIT_DISTRIBUTIONS_H

#include "compat.h"
#include "floatmath.h"
#include "philox.h"

/* u(w) = (2 (w >> 9) + 1) 2^-24: the centre of one of 2^23 equal cells of (0, 1), exact in float. */
OI_INLINE oi_uvec oi_uniform_numerator(oi_uvec w) {
    return ((w >> 9) << 1) | 1u;
}

OI_INLINE oi_fvec oi_uniform(oi_uvec w) {
    return oi_u32_to_float(oi_uniform_numerator(w)) * 0x1p-24f;
}

/* Elements 4j + k of the blocks, k = 0..3. */
typedef struct oi_block {
    oi_fvec v[4];
} oi_block;

/* U(a, b) = a + (b - a) u, with width = b - a rounded to float once by the caller. */
OI_INLINE oi_block oi_uniform_block(oi_philox_words w, float a, float width) {
    oi_block out;
    OI_UNROLLED
    for (int k = 0; k < 4; k++) out.v[k] = a + width * oi_uniform(w.w[k]);
    return out;
}

/* Box-Muller on (w0, w1) for elements 4j, 4j+1 and on (w2, w3) for 4j+2, 4j+3:
 * r = sqrt(-2 ln u(w0)), z0 = r cos(2 pi u(w1)), z1 = r sin(2 pi u(w1)); then mean + std z. */
OI_INLINE oi_block oi_normal_block(oi_philox_words w, float mean, float std) {
    oi_block out;
    OI_UNROLLED
    for (int k = 0; k < 4; k += 2) {
        oi_fvec r = oi_sqrt(-2.0f * oi_log(oi_uniform(w.w[k])));
        oi_sincos angle = oi_sincos_turn24(oi_uniform_numerator(w.w[k + 1]));
        out.v[k] = mean + std * (r * angle.cos);
        out.v[k + 1] = mean + std * (r * angle.sin);
    }
    return out;
}

/* Truncated normal by inverse CDF, one uniform per element. The caller (host/init.c) standardises the
 * interval, mirrors it so that it reaches no further into the upper tail than into the lower one, and
 * passes lower = Phi(alpha), width = Phi(beta) - Phi(alpha), upper = 1 - Phi(beta), rounded to float.
 * p = lower + width u and its complement upper + width (1 - u) (1 - u is exact) are both free of
 * cancellation, so the quantile keeps full relative precision in both tails. Then mean + scale z (scale is
 * -std when mirrored), clamped to [a, b] as PyTorch's trunc_normal_ does. */
typedef struct oi_trunc_normal_params {
    float lower, width, upper, mean, scale, a, b;
} oi_trunc_normal_params;

OI_INLINE oi_fvec oi_trunc_normal(oi_uvec w, oi_trunc_normal_params p) {
    oi_fvec u = oi_uniform(w);
    oi_fvec p_lower = p.lower + p.width * u;
    oi_fvec p_upper = p.upper + p.width * (1.0f - u);
    oi_ivec upper_half = p_lower > 0.5f;
    oi_fvec tail = oi_normal_tail_quantile(oi_select(upper_half, p_upper, p_lower));
    oi_fvec x = p.mean + p.scale * oi_select(upper_half, tail, -tail);
    x = oi_select(x < p.a, oi_splat_f(p.a), x);
    return oi_select(x > p.b, oi_splat_f(p.b), x);
}

OI_INLINE oi_block oi_trunc_normal_block(oi_philox_words w, oi_trunc_normal_params p) {
    oi_block out;
    OI_UNROLLED
    for (int k = 0; k < 4; k++) out.v[k] = oi_trunc_normal(w.w[k], p);
    return out;
}

#endif
