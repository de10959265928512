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
    {"identity", OCLINIT_SCHEME_EYE},
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
    {"orthogonal", OCLINIT_SCHEME_ORTHOGONAL},
    {"sparse", OCLINIT_SCHEME_SPARSE},
    {"dirac", OCLINIT_SCHEME_DIRAC},
    {"pytorch-default-linear", OCLINIT_SCHEME_PYTORCH_LINEAR},
    {"pytorch-default-conv", OCLINIT_SCHEME_PYTORCH_CONV},
};

static const name_entry convention_names[] = {
    {"pytorch", OCLINIT_CONVENTION_PYTORCH},
    {"torch", OCLINIT_CONVENTION_PYTORCH},
    {"keras", OCLINIT_CONVENTION_KERAS},
};

static const name_entry fan_mode_names[] = {
    {"fan_in", OCLINIT_FAN_IN},
    {"fan_out", OCLINIT_FAN_OUT},
    {"fan_avg", OCLINIT_FAN_AVG},
};

static const name_entry nonlinearity_names[] = {
    {"linear", OCLINIT_NONLINEARITY_LINEAR},
    {"identity", OCLINIT_NONLINEARITY_LINEAR},
    {"sigmoid", OCLINIT_NONLINEARITY_SIGMOID},
    {"tanh", OCLINIT_NONLINEARITY_TANH},
    {"relu", OCLINIT_NONLINEARITY_RELU},
    {"leaky_relu", OCLINIT_NONLINEARITY_LEAKY_RELU},
    {"selu", OCLINIT_NONLINEARITY_SELU},
    {"conv1d", OCLINIT_NONLINEARITY_LINEAR},
    {"conv2d", OCLINIT_NONLINEARITY_LINEAR},
    {"conv3d", OCLINIT_NONLINEARITY_LINEAR},
    {"conv_transpose1d", OCLINIT_NONLINEARITY_LINEAR},
    {"conv_transpose2d", OCLINIT_NONLINEARITY_LINEAR},
    {"conv_transpose3d", OCLINIT_NONLINEARITY_LINEAR},
};

static const name_entry distribution_names[] = {
    {"constant", OCLINIT_DISTRIBUTION_CONSTANT},         {"eye", OCLINIT_DISTRIBUTION_EYE},
    {"uniform", OCLINIT_DISTRIBUTION_UNIFORM},           {"normal", OCLINIT_DISTRIBUTION_NORMAL},
    {"untruncated_normal", OCLINIT_DISTRIBUTION_NORMAL}, {"truncated_normal", OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL},
    {"orthogonal", OCLINIT_DISTRIBUTION_ORTHOGONAL},     {"sparse", OCLINIT_DISTRIBUTION_SPARSE},
};

OI_NAMED_ENUM(oclinit_scheme_kind, scheme_names, "scheme")
OI_NAMED_ENUM(oclinit_fan_mode, fan_mode_names, "mode")
OI_NAMED_ENUM(oclinit_distribution_kind, distribution_names, "distribution")
OI_NAMED_ENUM(oclinit_convention, convention_names, "convention")

/* Not OI_NAMED_ENUM, whose message leaves out a name that follows one of the same value (an alias): the conv names,
 * of linear's gain, are PyTorch's own names and belong in the list. */
oclinit_status oclinit_nonlinearity_parse(const char *name, oclinit_nonlinearity *value) {
    int parsed;
    OI_REQUIRE(name, "name");
    OI_REQUIRE(value, "nonlinearity (the result)");
    if (oi_parse_name(nonlinearity_names, OI_COUNT(nonlinearity_names), "nonlinearity", name, &parsed) !=
        OCLINIT_SUCCESS) {
        char known[256] = "";
        size_t used = 0;
        for (size_t i = 0; i < OI_COUNT(nonlinearity_names) && used < sizeof known; i++)
            used +=
                (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", nonlinearity_names[i].name);
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown nonlinearity \"%s\"; known: %s", name, known);
    }
    *value = (oclinit_nonlinearity)parsed;
    return OCLINIT_SUCCESS;
}

const char *oclinit_nonlinearity_str(oclinit_nonlinearity value) {
    return oi_name_of(nonlinearity_names, OI_COUNT(nonlinearity_names), (int)value);
}

oclinit_status oclinit_shape_get_fans(const oclinit_shape *shape, oclinit_convention convention, int64_t *fan_in,
                                      int64_t *fan_out) {
    oclinit_status status = OCLINIT_SUCCESS;
    uint64_t unused;
    char text[OCLINIT_MAX_RANK * 24];
    OI_REQUIRE(shape, "shape");
    OI_REQUIRE(fan_in, "fan_in");
    OI_REQUIRE(fan_out, "fan_out");
    OI_CHECK(oclinit_shape_get_elements(shape, &unused)); /* so no product below overflows */
    int rank = shape->rank;
    const int64_t *d = shape->dims;
    int64_t receptive = 1;
    if (convention == OCLINIT_CONVENTION_PYTORCH) {
        if (rank < 2) {
            oclinit_shape_format(shape, text, sizeof text);
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "shape %s: PyTorch computes no fan_in and fan_out for a tensor of fewer than 2 dimensions "
                           "(give fan_in, as for a bias, or use the Keras convention)",
                           text);
        }
        for (int k = 2; k < rank; k++) receptive *= d[k];
        *fan_in = d[1] * receptive;
        *fan_out = d[0] * receptive;
    } else if (convention == OCLINIT_CONVENTION_KERAS) {
        for (int k = 0; k < rank - 2; k++) receptive *= d[k];
        *fan_in = rank == 1 ? d[0] : d[rank - 2] * receptive;
        *fan_out = d[rank - 1] * receptive;
    } else {
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown convention %d", (int)convention);
    }
cleanup:
    return status;
}

#define BIT(kind) (1u << (kind))
#define KAIMING (BIT(OCLINIT_SCHEME_KAIMING_NORMAL) | BIT(OCLINIT_SCHEME_KAIMING_UNIFORM))
#define XAVIER (BIT(OCLINIT_SCHEME_XAVIER_NORMAL) | BIT(OCLINIT_SCHEME_XAVIER_UNIFORM))
/* Schemes whose numbers depend on the fans. */
#define FANNED                                                                                                         \
    (XAVIER | KAIMING | BIT(OCLINIT_SCHEME_LECUN_NORMAL) | BIT(OCLINIT_SCHEME_LECUN_UNIFORM) |                         \
     BIT(OCLINIT_SCHEME_VARIANCE_SCALING) | BIT(OCLINIT_SCHEME_PYTORCH_LINEAR) | BIT(OCLINIT_SCHEME_PYTORCH_CONV))

static const struct {
    const char *name;
    unsigned schemes;
} scheme_options[OI_OPTION_COUNT] = {
    [OI_OPTION_VALUE] = {"value", BIT(OCLINIT_SCHEME_CONSTANT)},
    [OI_OPTION_MEAN] = {"mean", BIT(OCLINIT_SCHEME_NORMAL) | BIT(OCLINIT_SCHEME_TRUNC_NORMAL)},
    [OI_OPTION_STD] = {"std",
                       BIT(OCLINIT_SCHEME_NORMAL) | BIT(OCLINIT_SCHEME_TRUNC_NORMAL) | BIT(OCLINIT_SCHEME_SPARSE)},
    [OI_OPTION_A] = {"a", BIT(OCLINIT_SCHEME_UNIFORM) | BIT(OCLINIT_SCHEME_TRUNC_NORMAL)},
    [OI_OPTION_B] = {"b", BIT(OCLINIT_SCHEME_UNIFORM) | BIT(OCLINIT_SCHEME_TRUNC_NORMAL)},
    [OI_OPTION_SCALE] = {"scale", BIT(OCLINIT_SCHEME_SCALED_NORMAL) | BIT(OCLINIT_SCHEME_VARIANCE_SCALING)},
    [OI_OPTION_GAIN] = {"gain",
                        XAVIER | BIT(OCLINIT_SCHEME_ORTHOGONAL) | BIT(OCLINIT_SCHEME_EYE) | BIT(OCLINIT_SCHEME_DIRAC)},
    [OI_OPTION_NEGATIVE_SLOPE] = {"negative-slope", KAIMING},
    [OI_OPTION_SPARSITY] = {"sparsity", BIT(OCLINIT_SCHEME_SPARSE)},
    [OI_OPTION_GROUPS] = {"groups", BIT(OCLINIT_SCHEME_DIRAC)},
    [OI_OPTION_FAN_IN] = {"fan-in", FANNED},
    [OI_OPTION_FAN_OUT] = {"fan-out", FANNED},
    [OI_OPTION_MODE] = {"mode", KAIMING | BIT(OCLINIT_SCHEME_VARIANCE_SCALING)},
    [OI_OPTION_NONLINEARITY] = {"nonlinearity", KAIMING},
    [OI_OPTION_DISTRIBUTION] = {"distribution", BIT(OCLINIT_SCHEME_VARIANCE_SCALING)},
    [OI_OPTION_CONVENTION] = {"convention", FANNED | BIT(OCLINIT_SCHEME_ORTHOGONAL)},
};

const char *oi_scheme_option_name(oi_scheme_option option) {
    return option >= 0 && option < OI_OPTION_COUNT ? scheme_options[option].name : "unknown";
}

oi_scheme_option oi_scheme_option_find(const char *name) {
    for (int id = 0; name && id < OI_OPTION_COUNT; id++) {
        const char *a = scheme_options[id].name, *b = name;
        while (*a && (*a == *b || (*a == '-' && *b == '_'))) a++, b++;
        if (!*a && !*b) return (oi_scheme_option)id;
    }
    return OI_OPTION_COUNT;
}

bool oi_scheme_option_applies(oi_scheme_option option, oclinit_scheme_kind kind) {
    return option >= 0 && option < OI_OPTION_COUNT && (scheme_options[option].schemes & BIT(kind));
}

oi_scheme_option oi_scheme_required_option(oclinit_scheme_kind kind, const char **meaning) {
    *meaning = kind == OCLINIT_SCHEME_SPARSE ? "the fraction of each column set to 0" : "";
    return kind == OCLINIT_SCHEME_CONSTANT ? OI_OPTION_VALUE
           : kind == OCLINIT_SCHEME_SPARSE ? OI_OPTION_SPARSITY
                                           : OI_OPTION_COUNT;
}

bool oclinit_scheme_takes(oclinit_scheme_kind kind, const char *option) {
    return oi_scheme_option_applies(oi_scheme_option_find(option), kind);
}

oclinit_scheme oclinit_scheme_default(oclinit_scheme_kind kind) {
    oclinit_scheme s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.std = 1.0;                                   /* normal, trunc_normal_ */
    s.a = kind == OCLINIT_SCHEME_UNIFORM ? 0 : -2; /* uniform_: [0, 1); trunc_normal_: [-2, 2] */
    s.b = kind == OCLINIT_SCHEME_UNIFORM ? 1 : 2;
    s.scale = 1.0;
    s.gain = 1.0;
    s.groups = 1;
    if (kind == OCLINIT_SCHEME_SPARSE) s.std = 0.01; /* sparse_'s default */
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
    bool valued = w->kind == OCLINIT_DISTRIBUTION_CONSTANT || w->kind == OCLINIT_DISTRIBUTION_EYE ||
                  w->kind == OCLINIT_DISTRIBUTION_ORTHOGONAL;
    bool bounded = w->kind == OCLINIT_DISTRIBUTION_UNIFORM || w->kind == OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL;
    d->kind = w->kind;
    if (valued)
        OI_CHECK(narrow_one(scheme, w->kind == OCLINIT_DISTRIBUTION_CONSTANT ? "value" : "gain", w->value, false,
                            &d->value));
    if (w->kind == OCLINIT_DISTRIBUTION_SPARSE) OI_CHECK(narrow_one(scheme, "std", w->std, true, &d->std));
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

/* The fans a scheme uses: the shape's under the scheme's convention, each replaced by the scheme's own when set. */
static oclinit_status fans_of(const oclinit_scheme *scheme, const oclinit_shape *shape, int64_t *fan_in,
                              int64_t *fan_out) {
    oclinit_status status = OCLINIT_SUCCESS;
    if (scheme->fan_in < 0 || scheme->fan_out < 0)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "fan_in and fan_out must be >= 1 when given, got %lld and %lld",
                       (long long)scheme->fan_in, (long long)scheme->fan_out);
    if (scheme->fan_in > 0 && scheme->fan_out > 0) {
        *fan_in = scheme->fan_in;
        *fan_out = scheme->fan_out;
        return OCLINIT_SUCCESS;
    }
    /* A bias (1-D, PyTorch) has no fans of its own: the fan_in of its weight, given alone, is enough. */
    if (scheme->fan_in > 0 && shape->rank < 2 && scheme->convention == OCLINIT_CONVENTION_PYTORCH) {
        *fan_in = *fan_out = scheme->fan_in;
        return OCLINIT_SUCCESS;
    }
    OI_CHECK(oclinit_shape_get_fans(shape, scheme->convention, fan_in, fan_out));
    if (scheme->fan_in > 0) *fan_in = scheme->fan_in;
    if (scheme->fan_out > 0) *fan_out = scheme->fan_out;
cleanup:
    return status;
}

/* Refuses a shape whose rank a scheme does not take, naming both. */
static oclinit_status rank_between(const oclinit_scheme *scheme, const oclinit_shape *shape, int lowest, int highest,
                                   const char *why) {
    char text[OCLINIT_MAX_RANK * 24];
    if (shape->rank >= lowest && shape->rank <= highest) return OCLINIT_SUCCESS;
    oclinit_shape_format(shape, text, sizeof text);
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s takes %s, not shape %s", oclinit_scheme_kind_str(scheme->kind),
                   why, text);
}

static oclinit_status finite_option(const char *what, double value) {
    if (!isfinite(value)) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s must be finite, got %g", what, value);
    return OCLINIT_SUCCESS;
}

/* nn.Linear's and nn.ConvNd's reset_parameters: the weight by kaiming_uniform_(a = sqrt(5)), computed as PyTorch
 * does, so the float bound is PyTorch's; a bias (1-D, given its weight's fan_in) by U(-1/sqrt(fan_in), ...). */
static oclinit_status pytorch_default(wide_distribution *w, const oclinit_scheme *scheme, const oclinit_shape *shape,
                                      int weight_lowest, int weight_highest) {
    oclinit_status status = OCLINIT_SUCCESS;
    int64_t fan_in = 0, fan_out = 0;
    if (shape->rank == 1) {
        if (scheme->fan_in <= 0)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "%s on a bias (1 dimension) needs its weight's fan_in (--fan-in)",
                           oclinit_scheme_kind_str(scheme->kind));
        double bound = 1.0 / sqrt((double)scheme->fan_in);
        set_uniform(w, -bound, bound);
        return OCLINIT_SUCCESS;
    }
    OI_CHECK(rank_between(scheme, shape, weight_lowest, weight_highest,
                          weight_highest == 2 ? "a 2-D weight or a 1-D bias" : "a 3-D to 5-D weight or a 1-D bias"));
    OI_CHECK(fans_of(scheme, shape, &fan_in, &fan_out));
    double std = oclinit_nonlinearity_gain(OCLINIT_NONLINEARITY_LEAKY_RELU, sqrt(5.0)) / sqrt((double)fan_in);
    set_uniform(w, -sqrt(3.0) * std, sqrt(3.0) * std);
cleanup:
    return status;
}

oclinit_status oclinit_scheme_resolve_shape(const oclinit_scheme *scheme, const oclinit_shape *shape,
                                            oclinit_distribution *distribution) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_distribution d;
    wide_distribution w;
    int64_t fan_in = 0, fan_out = 0;
    uint64_t elements = 0;
    double fan = 0, std;

    OI_REQUIRE(scheme, "scheme");
    OI_REQUIRE(shape, "shape");
    OI_REQUIRE(distribution, "distribution");
    OI_CHECK(oclinit_shape_get_elements(shape, &elements));
    memset(&d, 0, sizeof d);
    memset(&w, 0, sizeof w);
    d.shape = *shape;

    switch (scheme->kind) {
    case OCLINIT_SCHEME_ZEROS: set_constant(&w, 0.0); break;
    case OCLINIT_SCHEME_ONES: set_constant(&w, 1.0); break;
    case OCLINIT_SCHEME_CONSTANT: set_constant(&w, scheme->value); break;
    case OCLINIT_SCHEME_EYE:
    case OCLINIT_SCHEME_DIRAC:
        if (scheme->kind == OCLINIT_SCHEME_EYE) OI_CHECK(rank_between(scheme, shape, 2, 2, "a 2-D tensor"));
        if (scheme->kind == OCLINIT_SCHEME_DIRAC) OI_CHECK(rank_between(scheme, shape, 3, 5, "a 3-D to 5-D tensor"));
        OI_CHECK(finite_option("gain", scheme->gain));
        d.groups = scheme->kind == OCLINIT_SCHEME_DIRAC ? scheme->groups : 1;
        if (d.groups < 1 || shape->dims[0] % d.groups != 0)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "dirac: groups must be >= 1 and divide the output channels (shape[0] = %lld), got %lld",
                           (long long)shape->dims[0], (long long)scheme->groups);
        w.kind = OCLINIT_DISTRIBUTION_EYE;
        w.value = scheme->gain;
        break;
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
        OI_CHECK(fans_of(scheme, shape, &fan_in, &fan_out));
        std = scheme->gain * sqrt(2.0 / ((double)fan_in + (double)fan_out));
        if (scheme->kind == OCLINIT_SCHEME_XAVIER_NORMAL)
            set_normal(&w, 0.0, std);
        else
            set_uniform(&w, -sqrt(3.0) * std, sqrt(3.0) * std);
        break;
    case OCLINIT_SCHEME_KAIMING_NORMAL:
    case OCLINIT_SCHEME_KAIMING_UNIFORM:
        OI_CHECK(fans_of(scheme, shape, &fan_in, &fan_out));
        OI_CHECK(fan_of(scheme->mode, fan_in, fan_out, false, &fan));
        OI_CHECK(finite_option("negative slope", scheme->negative_slope));
        std = oclinit_nonlinearity_gain(scheme->nonlinearity, scheme->negative_slope) / sqrt(fan);
        if (scheme->kind == OCLINIT_SCHEME_KAIMING_NORMAL)
            set_normal(&w, 0.0, std);
        else
            set_uniform(&w, -sqrt(3.0) * std, sqrt(3.0) * std);
        break;
    case OCLINIT_SCHEME_LECUN_NORMAL:
    case OCLINIT_SCHEME_LECUN_UNIFORM:
    case OCLINIT_SCHEME_VARIANCE_SCALING:
        OI_CHECK(fans_of(scheme, shape, &fan_in, &fan_out));
        if (scheme->kind == OCLINIT_SCHEME_VARIANCE_SCALING)
            OI_CHECK(variance_scaling(&w, scheme->scale, scheme->mode, scheme->distribution, fan_in, fan_out));
        else
            OI_CHECK(variance_scaling(&w, 1.0, OCLINIT_FAN_IN,
                                      scheme->kind == OCLINIT_SCHEME_LECUN_NORMAL
                                          ? OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL
                                          : OCLINIT_DISTRIBUTION_UNIFORM,
                                      fan_in, fan_out));
        break;
    case OCLINIT_SCHEME_ORTHOGONAL:
        OI_CHECK(rank_between(scheme, shape, 2, OCLINIT_MAX_RANK, "a tensor of 2 or more dimensions"));
        OI_CHECK(finite_option("gain", scheme->gain));
        w.kind = OCLINIT_DISTRIBUTION_ORTHOGONAL;
        w.value = scheme->gain;
        /* PyTorch views the tensor as (shape[0], rest), Keras as (prod(shape[:-1]), shape[-1]). */
        d.rows = scheme->convention == OCLINIT_CONVENTION_KERAS
                     ? (int64_t)(elements / (uint64_t)shape->dims[shape->rank - 1])
                     : shape->dims[0];
        break;
    case OCLINIT_SCHEME_SPARSE:
        OI_CHECK(rank_between(scheme, shape, 2, 2, "a 2-D tensor"));
        if (!(scheme->sparsity >= 0 && scheme->sparsity < 1))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "sparse: sparsity must be in [0, 1), got %g",
                           scheme->sparsity);
        OI_CHECK(positive("std", scheme->std));
        w.kind = OCLINIT_DISTRIBUTION_SPARSE;
        w.std = scheme->std;
        d.zeros = (int64_t)ceil(scheme->sparsity * (double)shape->dims[0]);
        break;
    case OCLINIT_SCHEME_PYTORCH_LINEAR: OI_CHECK(pytorch_default(&w, scheme, shape, 2, 2)); break;
    case OCLINIT_SCHEME_PYTORCH_CONV: OI_CHECK(pytorch_default(&w, scheme, shape, 3, 5)); break;
    default: return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown scheme %d", (int)scheme->kind);
    }
    OI_CHECK(narrow(scheme->kind, &w, &d));
    OI_CHECK(oi_distribution_check(&d));
    *distribution = d;
cleanup:
    return status;
}

oclinit_status oclinit_scheme_resolve(const oclinit_scheme *scheme, int64_t fan_in, int64_t fan_out,
                                      oclinit_distribution *distribution) {
    OI_REQUIRE(scheme, "scheme");
    OI_REQUIRE(distribution, "distribution");
    if (fan_in <= 0 || fan_out <= 0)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "fan_in and fan_out must be >= 1, got %lld and %lld",
                       (long long)fan_in, (long long)fan_out);
    oclinit_shape shape = scheme->convention == OCLINIT_CONVENTION_KERAS ? oclinit_shape_matrix(fan_in, fan_out)
                                                                         : oclinit_shape_matrix(fan_out, fan_in);
    return oclinit_scheme_resolve_shape(scheme, &shape, distribution);
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
        uint64_t elements = 0;
        if (oclinit_shape_get_elements(&d->shape, &elements) != OCLINIT_SUCCESS || d->groups < 1) return;
        int64_t per_group = d->shape.dims[0] / d->groups;
        double ones = (double)d->groups * (double)(per_group < d->shape.dims[1] ? per_group : d->shape.dims[1]);
        double p = ones / (double)elements;
        *mean = d->value * p, *std = fabs((double)d->value) * sqrt(p * (1 - p));
        return;
    }
    case OCLINIT_DISTRIBUTION_ORTHOGONAL: {
        /* gain Q has orthonormal columns (or rows): its squares sum to gain^2 min(rows, columns) */
        uint64_t elements = 0;
        if (oclinit_shape_get_elements(&d->shape, &elements) != OCLINIT_SUCCESS || d->rows < 1) return;
        double rows = (double)d->rows, columns = (double)elements / rows;
        *mean = 0, *std = fabs((double)d->value) / sqrt(rows > columns ? rows : columns);
        return;
    }
    case OCLINIT_DISTRIBUTION_SPARSE: {
        double kept = d->shape.rank == 2 ? 1.0 - (double)d->zeros / (double)d->shape.dims[0] : NAN;
        *mean = 0, *std = d->std * sqrt(kept);
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
    case OCLINIT_DISTRIBUTION_EYE:
        if (d->shape.rank == 2)
            snprintf(text, size, "eye(gain=%g)", d->value);
        else
            snprintf(text, size, "dirac(gain=%g, groups=%lld)", d->value, (long long)d->groups);
        return;
    case OCLINIT_DISTRIBUTION_ORTHOGONAL:
        snprintf(text, size, "orthogonal(gain=%g, as %lld rows)", d->value, (long long)d->rows);
        return;
    case OCLINIT_DISTRIBUTION_SPARSE:
        snprintf(text, size, "sparse(std=%g, %lld zeros per column)", d->std, (long long)d->zeros);
        return;
    case OCLINIT_DISTRIBUTION_UNIFORM: snprintf(text, size, "uniform(a=%g, b=%g)", d->a, d->b); return;
    case OCLINIT_DISTRIBUTION_NORMAL: snprintf(text, size, "normal(mean=%g, std=%g)", d->mean, d->std); return;
    case OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL:
        snprintf(text, size, "truncated_normal(mean=%g, std=%g, a=%g, b=%g)", d->mean, d->std, d->a, d->b);
        return;
    }
    snprintf(text, size, "unknown");
}
