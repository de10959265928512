/* Initialization schemes: their names, PyTorch's and Keras's conventions, and what each draws for a layer. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "features/features.h"

/* The std of N(0, 1) truncated to (-2, 2): Keras divides by it so a truncated normal keeps the asked variance. */
#define KERAS_TRUNCATED_STD 0.87962566103423978

/* First entry per value is the canonical name; the others are accepted aliases. */
static const name_entry scheme_names[] = {
    {"zeros", OCLINIT_SCHEME_ZEROS},
    {"ones", OCLINIT_SCHEME_ONES},
    {"constant", OCLINIT_SCHEME_CONSTANT},
    {"eye", OCLINIT_SCHEME_EYE},
    {"uniform", OCLINIT_SCHEME_UNIFORM},
    {"normal", OCLINIT_SCHEME_NORMAL},
    {"trunc-normal", OCLINIT_SCHEME_TRUNC_NORMAL},
    {"truncated-normal", OCLINIT_SCHEME_TRUNC_NORMAL},
    {"scaled-normal", OCLINIT_SCHEME_SCALED_NORMAL},
    {"xavier-normal", OCLINIT_SCHEME_XAVIER_NORMAL},
    {"glorot-normal", OCLINIT_SCHEME_XAVIER_NORMAL},
    {"xavier-uniform", OCLINIT_SCHEME_XAVIER_UNIFORM},
    {"glorot-uniform", OCLINIT_SCHEME_XAVIER_UNIFORM},
    {"kaiming-normal", OCLINIT_SCHEME_KAIMING_NORMAL},
    {"he-normal", OCLINIT_SCHEME_KAIMING_NORMAL},
    {"kaiming-uniform", OCLINIT_SCHEME_KAIMING_UNIFORM},
    {"he-uniform", OCLINIT_SCHEME_KAIMING_UNIFORM},
    {"lecun-normal", OCLINIT_SCHEME_LECUN_NORMAL},
    {"lecun-uniform", OCLINIT_SCHEME_LECUN_UNIFORM},
    {"variance-scaling", OCLINIT_SCHEME_VARIANCE_SCALING},
};

static const name_entry fan_mode_names[] = {
    {"fan_in", OCLINIT_FAN_IN},
    {"fan_out", OCLINIT_FAN_OUT},
    {"fan_avg", OCLINIT_FAN_AVG},
};

static const name_entry nonlinearity_names[] = {
    {"linear", OCLINIT_NONLINEARITY_LINEAR},   {"identity", OCLINIT_NONLINEARITY_LINEAR},
    {"sigmoid", OCLINIT_NONLINEARITY_SIGMOID}, {"tanh", OCLINIT_NONLINEARITY_TANH},
    {"relu", OCLINIT_NONLINEARITY_RELU},       {"leaky_relu", OCLINIT_NONLINEARITY_LEAKY_RELU},
    {"selu", OCLINIT_NONLINEARITY_SELU},
};

static const name_entry distribution_names[] = {
    {"constant", OCLINIT_DISTRIBUTION_CONSTANT},         {"eye", OCLINIT_DISTRIBUTION_EYE},
    {"uniform", OCLINIT_DISTRIBUTION_UNIFORM},           {"normal", OCLINIT_DISTRIBUTION_NORMAL},
    {"untruncated_normal", OCLINIT_DISTRIBUTION_NORMAL}, {"truncated_normal", OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL},
};

OI_NAMED_ENUM(oclinit_scheme_kind, scheme_names, "scheme")
OI_NAMED_ENUM(oclinit_fan_mode, fan_mode_names, "mode")
OI_NAMED_ENUM(oclinit_nonlinearity, nonlinearity_names, "nonlinearity")
OI_NAMED_ENUM(oclinit_distribution_kind, distribution_names, "distribution")

oclinit_scheme oclinit_scheme_default(oclinit_scheme_kind kind) {
    oclinit_scheme s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.std = 1.0;                                   /* normal, trunc_normal_ */
    s.a = kind == OCLINIT_SCHEME_UNIFORM ? 0 : -2; /* uniform_: [0, 1); trunc_normal_: [-2, 2] */
    s.b = kind == OCLINIT_SCHEME_UNIFORM ? 1 : 2;
    s.scale = 1.0;
    s.gain = 1.0;
    s.mode = OCLINIT_FAN_IN;
    s.nonlinearity = OCLINIT_NONLINEARITY_LEAKY_RELU;       /* kaiming_*_'s default, with negative_slope 0 */
    s.distribution = OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL; /* Keras VarianceScaling's default */
    return s;
}

double oclinit_nonlinearity_gain(oclinit_nonlinearity nonlinearity, double negative_slope) {
    switch (nonlinearity) {
    case OCLINIT_NONLINEARITY_LINEAR:
    case OCLINIT_NONLINEARITY_SIGMOID: return 1.0;
    case OCLINIT_NONLINEARITY_TANH: return 5.0 / 3.0;
    case OCLINIT_NONLINEARITY_RELU: return sqrt(2.0);
    case OCLINIT_NONLINEARITY_LEAKY_RELU: return sqrt(2.0 / (1.0 + negative_slope * negative_slope));
    case OCLINIT_NONLINEARITY_SELU: return 0.75;
    }
    return 1.0;
}

/* What a scheme resolves to, in double until narrow() checks it fits the float32 parameters the kernels take. */
typedef struct wide_distribution {
    oclinit_distribution_kind kind;
    double value, mean, std, a, b;
} wide_distribution;

static void set_constant(wide_distribution *d, double value) {
    d->kind = OCLINIT_DISTRIBUTION_CONSTANT;
    d->value = value;
}

static void set_uniform(wide_distribution *d, double a, double b) {
    d->kind = OCLINIT_DISTRIBUTION_UNIFORM;
    d->a = a;
    d->b = b;
}

static void set_normal(wide_distribution *d, double mean, double std) {
    d->kind = OCLINIT_DISTRIBUTION_NORMAL;
    d->mean = mean;
    d->std = std;
}

static void set_truncated_normal(wide_distribution *d, double mean, double std, double a, double b) {
    d->kind = OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL;
    d->mean = mean;
    d->std = std;
    d->a = a;
    d->b = b;
}

/* One parameter into float32: out of range is refused with the value as computed in double (for schemes with
 * direct parameters, the value given); so is a non-zero std or bound that would become 0. */
static oclinit_status narrow_one(oclinit_scheme_kind scheme, const char *name, double value, bool keep_nonzero,
                                 float *out) {
    if (!(fabs(value) <= FLT_MAX))
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s = %g is not a float32 number (magnitude at most %g)",
                       oclinit_scheme_kind_str(scheme), name, value, (double)FLT_MAX);
    if (keep_nonzero && value != 0 && (float)value == 0)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: %s = %g is too small for float32 (it would become 0; the smallest is %g)",
                       oclinit_scheme_kind_str(scheme), name, value, (double)FLT_TRUE_MIN);
    *out = (float)value;
    return OCLINIT_SUCCESS;
}

static oclinit_status narrow(oclinit_scheme_kind scheme, const wide_distribution *w, oclinit_distribution *d) {
    oclinit_status status = OCLINIT_SUCCESS;
    bool normal = w->kind == OCLINIT_DISTRIBUTION_NORMAL || w->kind == OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL;
    bool bounded = w->kind == OCLINIT_DISTRIBUTION_UNIFORM || w->kind == OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL;
    d->kind = w->kind;
    if (w->kind == OCLINIT_DISTRIBUTION_CONSTANT) OI_CHECK(narrow_one(scheme, "value", w->value, false, &d->value));
    if (normal) OI_CHECK(narrow_one(scheme, "mean", w->mean, false, &d->mean));
    if (normal) OI_CHECK(narrow_one(scheme, "std", w->std, true, &d->std));
    if (bounded) OI_CHECK(narrow_one(scheme, "a", w->a, true, &d->a));
    if (bounded) OI_CHECK(narrow_one(scheme, "b", w->b, true, &d->b));
cleanup:
    return status;
}

static oclinit_status fan_of(oclinit_fan_mode mode, int64_t fan_in, int64_t fan_out, bool allow_average, double *fan) {
    switch (mode) {
    case OCLINIT_FAN_IN: *fan = (double)fan_in; return OCLINIT_SUCCESS;
    case OCLINIT_FAN_OUT: *fan = (double)fan_out; return OCLINIT_SUCCESS;
    case OCLINIT_FAN_AVG:
        if (!allow_average) break;
        *fan = ((double)fan_in + (double)fan_out) / 2.0;
        return OCLINIT_SUCCESS;
    }
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "mode must be fan_in or fan_out%s",
                   allow_average ? " or fan_avg" : " for kaiming (fan_avg is variance scaling's)");
}

static oclinit_status positive(const char *what, double value) {
    if (!(value > 0) || !isfinite(value))
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s must be a finite number > 0, got %g", what, value);
    return OCLINIT_SUCCESS;
}

static oclinit_status variance_scaling(wide_distribution *d, double scale, oclinit_fan_mode mode,
                                       oclinit_distribution_kind distribution, int64_t fan_in, int64_t fan_out) {
    oclinit_status status = OCLINIT_SUCCESS;
    double fan = 0;
    OI_CHECK(positive("scale", scale));
    OI_CHECK(fan_of(mode, fan_in, fan_out, true, &fan));
    double std = sqrt(scale / fan);
    switch (distribution) {
    case OCLINIT_DISTRIBUTION_NORMAL: set_normal(d, 0.0, std); break;
    case OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL:
        std /= KERAS_TRUNCATED_STD;
        set_truncated_normal(d, 0.0, std, -2.0 * std, 2.0 * std);
        break;
    case OCLINIT_DISTRIBUTION_UNIFORM: set_uniform(d, -sqrt(3.0) * std, sqrt(3.0) * std); break;
    default:
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "variance scaling's distribution must be normal, truncated_normal or uniform");
    }
cleanup:
    return status;
}

oclinit_status oclinit_scheme_resolve(const oclinit_scheme *scheme, int64_t fan_in, int64_t fan_out,
                                      oclinit_distribution *distribution) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_distribution d;
    wide_distribution w;
    double fan = 0, std;

    OI_REQUIRE(scheme, "scheme");
    OI_REQUIRE(distribution, "distribution");
    if (fan_in <= 0 || fan_out <= 0)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "fan_in and fan_out must be >= 1, got %lld and %lld",
                       (long long)fan_in, (long long)fan_out);
    memset(&d, 0, sizeof d);
    memset(&w, 0, sizeof w);
    d.rows = fan_out;
    d.columns = fan_in;

    switch (scheme->kind) {
    case OCLINIT_SCHEME_ZEROS: set_constant(&w, 0.0); break;
    case OCLINIT_SCHEME_ONES: set_constant(&w, 1.0); break;
    case OCLINIT_SCHEME_CONSTANT: set_constant(&w, scheme->value); break;
    case OCLINIT_SCHEME_EYE: w.kind = OCLINIT_DISTRIBUTION_EYE; break;
    case OCLINIT_SCHEME_UNIFORM: set_uniform(&w, scheme->a, scheme->b); break;
    case OCLINIT_SCHEME_NORMAL: set_normal(&w, scheme->mean, scheme->std); break;
    case OCLINIT_SCHEME_TRUNC_NORMAL: set_truncated_normal(&w, scheme->mean, scheme->std, scheme->a, scheme->b); break;
    case OCLINIT_SCHEME_SCALED_NORMAL:
        OI_CHECK(positive("scale", scheme->scale));
        set_normal(&w, 0.0, scheme->scale);
        break;
    case OCLINIT_SCHEME_XAVIER_NORMAL:
    case OCLINIT_SCHEME_XAVIER_UNIFORM:
        OI_CHECK(positive("gain", scheme->gain));
        std = scheme->gain * sqrt(2.0 / ((double)fan_in + (double)fan_out));
        if (scheme->kind == OCLINIT_SCHEME_XAVIER_NORMAL)
            set_normal(&w, 0.0, std);
        else
            set_uniform(&w, -sqrt(3.0) * std, sqrt(3.0) * std);
        break;
    case OCLINIT_SCHEME_KAIMING_NORMAL:
    case OCLINIT_SCHEME_KAIMING_UNIFORM:
        OI_CHECK(fan_of(scheme->mode, fan_in, fan_out, false, &fan));
        if (!isfinite(scheme->negative_slope))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "negative slope must be finite, got %g",
                           scheme->negative_slope);
        std = oclinit_nonlinearity_gain(scheme->nonlinearity, scheme->negative_slope) / sqrt(fan);
        if (scheme->kind == OCLINIT_SCHEME_KAIMING_NORMAL)
            set_normal(&w, 0.0, std);
        else
            set_uniform(&w, -sqrt(3.0) * std, sqrt(3.0) * std);
        break;
    case OCLINIT_SCHEME_LECUN_NORMAL:
        OI_CHECK(variance_scaling(&w, 1.0, OCLINIT_FAN_IN, OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL, fan_in, fan_out));
        break;
    case OCLINIT_SCHEME_LECUN_UNIFORM:
        OI_CHECK(variance_scaling(&w, 1.0, OCLINIT_FAN_IN, OCLINIT_DISTRIBUTION_UNIFORM, fan_in, fan_out));
        break;
    case OCLINIT_SCHEME_VARIANCE_SCALING:
        OI_CHECK(variance_scaling(&w, scheme->scale, scheme->mode, scheme->distribution, fan_in, fan_out));
        break;
    default: return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown scheme %d", (int)scheme->kind);
    }
    OI_CHECK(narrow(scheme->kind, &w, &d));
    OI_CHECK(oi_distribution_check(&d)); /* also the shape's byte size */
    *distribution = d;
cleanup:
    return status;
}

void oclinit_distribution_get_moments(const oclinit_distribution *d, double *mean, double *std) {
    double unused;
    if (!mean || !std) {
        oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", __func__, !mean ? "mean" : "std");
        mean = mean ? mean : &unused;
        std = std ? std : &unused;
    }
    *mean = NAN, *std = NAN;
    OI_REQUIRE_OR(d, "distribution", );
    switch (d->kind) {
    case OCLINIT_DISTRIBUTION_CONSTANT: *mean = d->value, *std = 0; return;
    case OCLINIT_DISTRIBUTION_EYE: {
        double ones = (double)(d->rows < d->columns ? d->rows : d->columns);
        double p = ones / ((double)d->rows * (double)d->columns);
        *mean = p, *std = sqrt(p * (1 - p));
        return;
    }
    case OCLINIT_DISTRIBUTION_UNIFORM:
        *mean = ((double)d->a + d->b) / 2, *std = ((double)d->b - d->a) / sqrt(12.0);
        return;
    case OCLINIT_DISTRIBUTION_NORMAL: *mean = d->mean, *std = d->std; return;
    case OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL: {
        /* Johnson, Kotz, Balakrishnan: with Z = Phi(beta) - Phi(alpha),
         * mean = mu + sigma (phi(alpha) - phi(beta)) / Z,
         * var = sigma^2 (1 + (alpha phi(alpha) - beta phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z)^2). */
        double alpha = ((double)d->a - d->mean) / d->std, beta = ((double)d->b - d->mean) / d->std;
        double pdf_a = exp(-alpha * alpha / 2) / sqrt(2 * M_PI), pdf_b = exp(-beta * beta / 2) / sqrt(2 * M_PI);
        double z = 0.5 * (erfc(-beta / sqrt(2.0)) - erfc(-alpha / sqrt(2.0)));
        double shift = (pdf_a - pdf_b) / z;
        *mean = d->mean + d->std * shift;
        *std = d->std * sqrt(1 + (alpha * pdf_a - beta * pdf_b) / z - shift * shift);
        return;
    }
    }
}

void oclinit_distribution_describe(const oclinit_distribution *d, char *text, size_t size) {
    OI_REQUIRE_OR(text || size == 0, "text", );
    if (size > 0) text[0] = '\0';
    OI_REQUIRE_OR(d, "distribution", );
    switch (d->kind) {
    case OCLINIT_DISTRIBUTION_CONSTANT: snprintf(text, size, "constant(%g)", d->value); return;
    case OCLINIT_DISTRIBUTION_EYE: snprintf(text, size, "eye"); return;
    case OCLINIT_DISTRIBUTION_UNIFORM: snprintf(text, size, "uniform(a=%g, b=%g)", d->a, d->b); return;
    case OCLINIT_DISTRIBUTION_NORMAL: snprintf(text, size, "normal(mean=%g, std=%g)", d->mean, d->std); return;
    case OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL:
        snprintf(text, size, "truncated_normal(mean=%g, std=%g, a=%g, b=%g)", d->mean, d->std, d->a, d->b);
        return;
    }
    snprintf(text, size, "unknown");
}
