/* Runs the shared headers on the device over the same tables the host tests use (test_philox.c,
 * test_floatmath.c). Arrays are read OI_LANES entries per work-item, so the vector code is what is tested. */
#include "distributions.h"

#define LOAD(array, i) oi_load_lanes((array) + (i) * OI_LANES)
#define STORE(value, array, i) oi_store_lanes((value), (array) + (i) * OI_LANES)

/* cases: 6 words each (counter c0..c3, key k0 k1). Every lane gets the same case; out holds each lane's
 * answer, out[(4 case + word) OI_LANES + lane], so the host can check that all lanes agree. */
__kernel void philox_known_answers(__global const uint *cases, __global uint *out) {
    size_t i = get_global_id(0);
    __global const uint *c = cases + 6 * i;
    oi_philox_words w = oi_philox4x32_10((oi_wide)(c[0]), (oi_wide)(c[1]), (oi_wide)(c[2]), (oi_wide)(c[3]), c[4], c[5]);
    for (int k = 0; k < 4; k++) STORE(w.w[k], out, 4 * i + k);
}

__kernel void math_table(__global const float *x, __global const uint *m, __global const float *q,
                         __global float *log_x, __global float *sqrt_x, __global float *sin_m, __global float *cos_m,
                         __global float *quantile_q) {
    size_t i = get_global_id(0);
    oi_fvec xv = LOAD(x, i);
    STORE(oi_log(xv), log_x, i);
    STORE(oi_sqrt(xv), sqrt_x, i);
    oi_sincos angle = oi_sincos_turn24(LOAD(m, i));
    STORE(angle.sin, sin_m, i);
    STORE(angle.cos, cos_m, i);
    STORE(oi_normal_tail_quantile(LOAD(q, i)), quantile_q, i);
}
