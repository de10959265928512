/* Element-wise math of the three-layer network, shared by kernels/network.cl and the host twin in
 * host/network.c: activations and their derivatives, the output layer's loss and gradient, and the
 * optimizers' update of one parameter.
 *
 * Unlike init and normalization, the network is not bit-exact between device and host: CLBlast and OpenBLAS
 * sum their products in different orders, and exp/log/tanh here are each side's own (OpenCL builtins, libm).
 * Sharing the formulas keeps the two from differing in anything but rounding. */
#ifndef OCLINIT_NETWORK_H
#define OCLINIT_NETWORK_H

#include "compat.h"

#if OI_DEVICE
#define oi_expf(x) exp(x)
#define oi_log1pf(x) log1p(x)
#define oi_tanhf(x) tanh(x)
#define oi_sqrtf(x) sqrt(x)
#define oi_fabsf(x) fabs(x)
#define oi_fmaxf(x, y) fmax(x, y)
#else
#include <math.h>
#define oi_expf(x) expf(x)
#define oi_log1pf(x) log1pf(x)
#define oi_tanhf(x) tanhf(x)
#define oi_sqrtf(x) sqrtf(x)
#define oi_fabsf(x) fabsf(x)
#define oi_fmaxf(x, y) fmaxf(x, y)
#endif

/* Values of oclinit_activation (oclinit.h). */
#define OI_ACTIVATION_RELU 0
#define OI_ACTIVATION_LEAKY_RELU 1
#define OI_ACTIVATION_TANH 2
#define OI_ACTIVATION_SIGMOID 3

/* Values of oclinit_optimizer (oclinit.h). */
#define OI_OPTIMIZER_GD 0
#define OI_OPTIMIZER_SGD 1
#define OI_OPTIMIZER_MOMENTUM 2
#define OI_OPTIMIZER_ADAM 3

/* 1 when x > 0, else 0, without selecting between constants: for `x > 0 ? 1 : 0` LLVM loads the constant with
 * an AVX-512 masked load, and on AMD Zen a masked load whose mask is 0 takes a microcode assist of hundreds of
 * cycles, so a layer of inactive ReLUs (zeros init) made the backward kernel many times slower on PoCL. one is 1
 * computed from x, so it sits in a register and the select is a blend. */
OI_INLINE float oi_positive(float x) {
    float one = 1.0f + 0.0f * x;
    return x > 0.0f ? one : 0.0f;
}

/* 1 / (1 + e^-z) without overflow for any z; the numerator is 1 or e^-|z| without a constant select
 * (see oi_positive). */
OI_INLINE float oi_sigmoid(float z) {
    float e = oi_expf(-oi_fabsf(z)), one = 1.0f + 0.0f * e;
    return (z >= 0.0f ? one : e) / (1.0f + e);
}

OI_INLINE float oi_activation(int kind, float z, float slope) {
    switch (kind) {
    case OI_ACTIVATION_RELU: return oi_fmaxf(z, 0.0f);
    case OI_ACTIVATION_LEAKY_RELU: return z > 0.0f ? z : slope * z;
    case OI_ACTIVATION_TANH: return oi_tanhf(z);
    default: return oi_sigmoid(z);
    }
}

/* g'(z) from a = g(z): the forward pass keeps only a. */
OI_INLINE float oi_activation_derivative(int kind, float a, float slope) {
    float positive = oi_positive(a);
    switch (kind) {
    case OI_ACTIVATION_RELU: return positive;
    case OI_ACTIVATION_LEAKY_RELU: return positive + slope * (1.0f - positive);
    case OI_ACTIVATION_TANH: return 1.0f - a * a;
    default: return a * (1.0f - a);
    }
}

/* Binary cross-entropy of a sigmoid output, from its logit z: max(z, 0) - z y + ln(1 + e^-|z|). Finite for
 * every finite z, where log(sigmoid(z)) would reach log(0). */
OI_INLINE float oi_bce_from_logit(float z, float y) {
    return oi_fmaxf(z, 0.0f) - z * y + oi_log1pf(oi_expf(-oi_fabsf(z)));
}

/* 1 when a probability p of class 1 agrees with the label y (0 or 1), else 0. */
OI_INLINE float oi_correct(float p, float y) {
    return 1.0f - oi_fabsf(oi_positive(p - 0.5f) - y);
}

/* One parameter's step. state1/state2: momentum's velocity, or Adam's first and second moments.
 * hyper: momentum (MOMENTUM), or beta1, beta2, epsilon and the bias corrections 1 - beta^t (ADAM). */
typedef struct oi_step_params {
    float learning_rate, momentum, beta1, beta2, epsilon, correction1, correction2;
} oi_step_params;

OI_INLINE float oi_optimizer_step(int kind, float parameter, float gradient, float *state1, float *state2,
                                  oi_step_params p) {
    if (kind == OI_OPTIMIZER_MOMENTUM) { /* PyTorch's SGD with momentum: v = mu v + g */
        *state1 = p.momentum * *state1 + gradient;
        return parameter - p.learning_rate * *state1;
    }
    if (kind == OI_OPTIMIZER_ADAM) { /* Kingma and Ba, 2015, with bias correction */
        *state1 = p.beta1 * *state1 + (1.0f - p.beta1) * gradient;
        *state2 = p.beta2 * *state2 + (1.0f - p.beta2) * gradient * gradient;
        float m = *state1 / p.correction1, v = *state2 / p.correction2;
        return parameter - p.learning_rate * m / (oi_sqrtf(v) + p.epsilon);
    }
    return parameter - p.learning_rate * gradient;
}

#endif
