/* Float math shared by the host twin and the kernels: ln, sqrt, sin/cos of a fraction of a turn, and the
 * normal quantile. Built from + - * and exact bit operations only, each correctly rounded in IEEE float,
 * so the host and every conformant OpenCL device give the same bits (OpenCL's own log/sin/sqrt are allowed
 * several ulp and differ between devices; PoCL's are also slow). Coefficients come from
 * kernels/floatmath_fit.py; tests/test_floatmath.c measures the error against double libm.
 *
 * Every input is a positive normal float, and no intermediate becomes subnormal, so devices that flush
 * subnormals to zero agree as well. */
#ifndef OCLINIT_FLOATMATH_H
#define OCLINIT_FLOATMATH_H

#include "compat.h"

/* ln(1+t) = t - t^2/2 + t^3 P(t) on [sqrt(1/2)-1, sqrt(2)-1]; max relative error of the fit 5.8e-09 */
OI_CONST float oi_log1p_poly[8] = {3.333333135e-01f, -2.500081956e-01f, 2.000122666e-01f, -1.662335694e-01f,
                                   1.420176029e-01f, -1.316018999e-01f, 1.276156306e-01f, -7.634460181e-02f};
/* sin(pi/2 r) = r S(r^2) on r in [-1/2, 1/2]; max relative error of the fit 3.2e-09 */
OI_CONST float oi_sin_quarter_poly[4] = {1.570796371e+00f, -6.459634900e-01f, 7.968003303e-02f, -4.601657856e-03f};
/* cos(pi/2 r) = 1 + r^2 C(r^2) on r in [-1/2, 1/2]; max relative error of the fit 6.4e-11 */
OI_CONST float oi_cos_quarter_poly[4] = {-1.233700514e+00f, 2.536692321e-01f, -2.086016536e-02f, 9.037665441e-04f};
/* w in [0, 5], polynomial in w - 2.5; max relative error of the fit 5.6e-09 */
OI_CONST float oi_quantile_poly0[10] = {2.123313427e+00f, 3.488020301e-01f,  -5.907717161e-03f, -1.771644573e-03f,
                                        3.087856749e-04f, -7.019232271e-06f, -4.897003691e-06f, 6.592645150e-07f,
                                        3.285590822e-08f, -1.243240533e-08f};
/* sqrt(w) in [2.23606798, 4], polynomial in sqrt(w) - 3.11803399; max relative error of the fit 5.7e-09 */
OI_CONST float oi_quantile_poly1[10] = {4.173809052e+00f,  1.419332623e+00f,  1.012708712e-02f, -7.647533901e-03f,
                                        5.473680329e-03f,  -3.643338103e-03f, 1.875293325e-03f, -4.425065999e-04f,
                                        -2.569967764e-04f, 1.823834173e-04f};
/* sqrt(w) in [4, 9.3], polynomial in sqrt(w) - 6.65; max relative error of the fit 4.4e-09 */
OI_CONST float oi_quantile_poly2[10] = {9.214941978e+00f, 1.426878572e+00f,  -7.271285285e-04f, -6.084801043e-06f,
                                        1.371971757e-05f, -3.598531976e-06f, 6.017866667e-07f,  -8.614704683e-08f,
                                        3.183754416e-08f, -6.437565592e-09f};

/* ln 2 split so that e * OI_LN2_HI is exact for any float exponent e (OI_LN2_HI has 9 significant bits). */
#define OI_LN2_HI 0.693359375f
#define OI_LN2_LO -2.12194440e-4f
#define OI_SQRT_HALF_BITS 0x3f3504f3u

/* ln(x) for positive normal floats x; within 1 ulp (tests/test_floatmath.c). */
OI_INLINE oi_fvec oi_log(oi_fvec x) {
    /* Subtracting the bits of sqrt(1/2) puts the exponent boundary there: x = 2^e m, m in [sqrt(1/2), sqrt(2)). */
    oi_uvec shifted = oi_fvec_bits(x) - OI_SQRT_HALF_BITS;
    oi_fvec e = oi_i32_to_float(oi_uvec_as_ivec(shifted) >> 23);
    oi_fvec t = oi_bits_fvec((shifted & 0x007fffffu) + OI_SQRT_HALF_BITS) - 1.0f; /* exact (Sterbenz) */
    oi_fvec t2 = t * t;
    oi_fvec p = oi_splat_f(oi_log1p_poly[7]);
    OI_UNROLLED
    for (int i = 6; i >= 0; i--) p = p * t + oi_log1p_poly[i];
    oi_fvec y = t * t2 * p + e * OI_LN2_LO - 0.5f * t2;
    return (t + y) + e * OI_LN2_HI;
}

/* 1/sqrt(x) for positive normal floats x: a bit-level first guess (Lomont's constant), three Newton steps. */
OI_INLINE oi_fvec oi_rsqrt(oi_fvec x) {
    oi_fvec y = oi_bits_fvec(0x5f375a86u - (oi_fvec_bits(x) >> 1));
    oi_fvec half_x = 0.5f * x;
    OI_UNROLLED
    for (int i = 0; i < 3; i++) y = y * (1.5f - half_x * y * y);
    return y;
}

/* sqrt(x) for positive normal floats x; within 3 ulp. */
OI_INLINE oi_fvec oi_sqrt(oi_fvec x) {
    return x * oi_rsqrt(x);
}

typedef struct oi_sincos {
    oi_fvec sin, cos;
} oi_sincos;

/* sin and cos of 2 pi m / 2^24 for integers 0 <= m < 2^24. The angle is reduced exactly, in integers, to
 * q quarter turns plus r in [-1/2, 1/2] quarter turns, so no rounding of pi enters. */
OI_INLINE oi_sincos oi_sincos_turn24(oi_uvec m) {
    oi_uvec q = (m + (1u << 21)) >> 22;
    oi_fvec r = oi_i32_to_float(oi_uvec_as_ivec(m - (q << 22))) * 0x1p-22f;
    oi_fvec r2 = r * r;
    oi_fvec s = oi_splat_f(oi_sin_quarter_poly[3]);
    oi_fvec c = oi_splat_f(oi_cos_quarter_poly[3]);
    OI_UNROLLED
    for (int i = 2; i >= 0; i--) {
        s = s * r2 + oi_sin_quarter_poly[i];
        c = c * r2 + oi_cos_quarter_poly[i];
    }
    s = s * r;
    c = 1.0f + c * r2;
    /* Rotate by q quarter turns: swap on odd q (with cos -> -sin), then flip both signs when q & 2. */
    oi_ivec odd = (q & 1u) != 0;
    oi_uvec flip = (q & 2u) << 30;
    oi_sincos out;
    out.sin = oi_bits_fvec(oi_fvec_bits(oi_select(odd, c, s)) ^ flip);
    out.cos = oi_bits_fvec(oi_fvec_bits(oi_select(odd, -s, c)) ^ flip);
    return out;
}

/* -Phi^-1(q): the standard normal quantile of the lower tail, mirrored to be >= 0, for q in [2^-126, 1/2];
 * within 1e-6 * max(1, |z|) (tests/test_floatmath.c). */
OI_INLINE oi_fvec oi_normal_tail_quantile(oi_fvec q) {
    oi_fvec x = 1.0f - 2.0f * q;
    oi_fvec w = -oi_log((4.0f * q) * (1.0f - q)); /* -ln(1 - x^2), computed without cancellation */
    oi_ivec beyond5 = w >= 5.0f;
    oi_ivec beyond16 = w >= 16.0f;
    oi_fvec s = oi_sqrt(w);
    oi_fvec v = oi_select(beyond16, s - 6.65f, oi_select(beyond5, s - 3.11803399f, w - 2.5f));
    oi_fvec p = oi_select(beyond16, oi_splat_f(oi_quantile_poly2[9]),
                          oi_select(beyond5, oi_splat_f(oi_quantile_poly1[9]), oi_splat_f(oi_quantile_poly0[9])));
    OI_UNROLLED
    for (int i = 8; i >= 0; i--) {
        oi_fvec c = oi_select(beyond16, oi_splat_f(oi_quantile_poly2[i]),
                              oi_select(beyond5, oi_splat_f(oi_quantile_poly1[i]), oi_splat_f(oi_quantile_poly0[i])));
        p = p * v + c;
    }
    return x * p;
}

#endif
