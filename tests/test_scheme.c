/* Schemes resolve to PyTorch's and Keras's parameters; bad options are refused with a message. */
#include <math.h>

#include "helpers.h"

static oclinit_distribution resolve(oclinit_scheme s, int64_t fan_in, int64_t fan_out) {
    oclinit_distribution d;
    assert_ok(oclinit_scheme_resolve(&s, fan_in, fan_out, &d));
    assert_int_equal(d.shape.dims[0], fan_out);
    assert_int_equal(d.shape.dims[1], fan_in);
    return d;
}

static void assert_close(double got, double expected) {
    if (fabs(got - expected) > 1e-6 * fabs(expected)) print_error("got %.9g, expected %.9g\n", got, expected);
    assert_true(fabs(got - expected) <= 1e-6 * fabs(expected));
}

static void gains_match_calculate_gain(void **state) {
    (void)state;
    assert_close(oclinit_nonlinearity_gain(OCLINIT_NONLINEARITY_LINEAR, 0), 1.0);
    assert_close(oclinit_nonlinearity_gain(OCLINIT_NONLINEARITY_SIGMOID, 0), 1.0);
    assert_close(oclinit_nonlinearity_gain(OCLINIT_NONLINEARITY_TANH, 0), 5.0 / 3.0);
    assert_close(oclinit_nonlinearity_gain(OCLINIT_NONLINEARITY_RELU, 0), sqrt(2.0));
    assert_close(oclinit_nonlinearity_gain(OCLINIT_NONLINEARITY_LEAKY_RELU, 0.01), sqrt(2.0 / (1 + 0.0001)));
    assert_close(oclinit_nonlinearity_gain(OCLINIT_NONLINEARITY_SELU, 0), 0.75);
    static const char *const linear_names[] = {"linear",           "conv1d",           "conv2d",          "conv3d",
                                               "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"};
    for (size_t i = 0; i < sizeof linear_names / sizeof *linear_names; i++) {
        oclinit_nonlinearity n = OCLINIT_NONLINEARITY_RELU;
        assert_ok(oclinit_nonlinearity_parse(linear_names[i], &n));
        assert_int_equal(n, OCLINIT_NONLINEARITY_LINEAR);
    }
    /* An unknown name's message lists every accepted one. */
    oclinit_nonlinearity n;
    assert_int_equal(oclinit_nonlinearity_parse("swish", &n), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(),
                           "unknown nonlinearity \"swish\"; known: linear, identity, sigmoid, tanh, relu, leaky_relu, "
                           "selu, conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d"));
}

static void pytorch_conventions(void **state) {
    (void)state;
    const int64_t fan_in = 300, fan_out = 100;
    oclinit_distribution d = resolve(oclinit_scheme_default(OCLINIT_SCHEME_XAVIER_NORMAL), fan_in, fan_out);
    assert_int_equal(d.kind, OCLINIT_DISTRIBUTION_NORMAL);
    assert_close(d.std, sqrt(2.0 / 400));
    oclinit_scheme s = oclinit_scheme_default(OCLINIT_SCHEME_XAVIER_UNIFORM);
    s.gain = 5.0 / 3.0;
    d = resolve(s, fan_in, fan_out);
    assert_close(d.b, 5.0 / 3.0 * sqrt(6.0 / 400));
    assert_close(d.a, -d.b);
    /* kaiming_normal_ defaults: a=0, mode fan_in, leaky_relu -> std = sqrt(2 / fan_in) */
    d = resolve(oclinit_scheme_default(OCLINIT_SCHEME_KAIMING_NORMAL), fan_in, fan_out);
    assert_close(d.std, sqrt(2.0 / fan_in));
    s = oclinit_scheme_default(OCLINIT_SCHEME_KAIMING_UNIFORM);
    s.mode = OCLINIT_FAN_OUT;
    s.nonlinearity = OCLINIT_NONLINEARITY_TANH;
    d = resolve(s, fan_in, fan_out);
    assert_close(d.b, sqrt(3.0) * (5.0 / 3.0) / sqrt((double)fan_out));
    /* The article's "Xavier": variance 1 / fan_in. */
    s = oclinit_scheme_default(OCLINIT_SCHEME_KAIMING_NORMAL);
    s.nonlinearity = OCLINIT_NONLINEARITY_LINEAR;
    d = resolve(s, fan_in, fan_out);
    assert_close(d.std * d.std, 1.0 / fan_in);
    d = resolve(oclinit_scheme_default(OCLINIT_SCHEME_TRUNC_NORMAL), fan_in, fan_out);
    assert_int_equal(d.kind, OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL);
    assert_true(d.mean == 0 && d.std == 1 && d.a == -2 && d.b == 2);
    d = resolve(oclinit_scheme_default(OCLINIT_SCHEME_UNIFORM), fan_in, fan_out);
    assert_true(d.a == 0 && d.b == 1);
    s = oclinit_scheme_default(OCLINIT_SCHEME_SCALED_NORMAL);
    s.scale = 10;
    d = resolve(s, fan_in, fan_out);
    assert_true(d.kind == OCLINIT_DISTRIBUTION_NORMAL && d.mean == 0 && d.std == 10);
}

static void keras_conventions(void **state) {
    (void)state;
    const int64_t fan_in = 300, fan_out = 100;
    /* LecunNormal: truncated normal at +-2 std with std = sqrt(1 / fan_in) / 0.8796... */
    oclinit_distribution d = resolve(oclinit_scheme_default(OCLINIT_SCHEME_LECUN_NORMAL), fan_in, fan_out);
    assert_int_equal(d.kind, OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL);
    assert_close(d.std, sqrt(1.0 / fan_in) / 0.87962566103423978);
    assert_close(d.b, 2 * d.std);
    assert_close(d.a, -2 * d.std);
    double mean, std;
    oclinit_distribution_get_moments(&d, &mean, &std);
    assert_close(std, sqrt(1.0 / fan_in)); /* the correction gives back the asked variance */
    d = resolve(oclinit_scheme_default(OCLINIT_SCHEME_LECUN_UNIFORM), fan_in, fan_out);
    assert_close(d.b, sqrt(3.0 / fan_in));
    /* GlorotUniform = variance scaling 1, fan_avg, uniform: limit sqrt(6 / (fan_in + fan_out)) */
    oclinit_scheme s = oclinit_scheme_default(OCLINIT_SCHEME_VARIANCE_SCALING);
    s.mode = OCLINIT_FAN_AVG;
    s.distribution = OCLINIT_DISTRIBUTION_UNIFORM;
    d = resolve(s, fan_in, fan_out);
    assert_close(d.b, sqrt(6.0 / 400));
    /* HeNormal in Keras = variance scaling 2, fan_in, truncated normal */
    s = oclinit_scheme_default(OCLINIT_SCHEME_VARIANCE_SCALING);
    s.scale = 2;
    d = resolve(s, fan_in, fan_out);
    oclinit_distribution_get_moments(&d, &mean, &std);
    assert_close(std, sqrt(2.0 / fan_in));
    s.distribution = OCLINIT_DISTRIBUTION_NORMAL;
    s.mode = OCLINIT_FAN_OUT;
    d = resolve(s, fan_in, fan_out);
    assert_close(d.std, sqrt(2.0 / fan_out));
}

static void names_and_aliases(void **state) {
    (void)state;
    oclinit_scheme_kind kind;
    assert_ok(oclinit_scheme_kind_parse("he-normal", &kind));
    assert_int_equal(kind, OCLINIT_SCHEME_KAIMING_NORMAL);
    assert_ok(oclinit_scheme_kind_parse("Glorot_Uniform", &kind));
    assert_int_equal(kind, OCLINIT_SCHEME_XAVIER_UNIFORM);
    assert_string_equal(oclinit_scheme_kind_str(OCLINIT_SCHEME_TRUNC_NORMAL), "trunc-normal");
    assert_int_equal(oclinit_scheme_kind_parse("xavier", &kind), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "unknown scheme \"xavier\""));
    assert_non_null(strstr(oclinit_error_get_detail(), "xavier-normal"));
    oclinit_nonlinearity nl;
    assert_ok(oclinit_nonlinearity_parse("leaky_relu", &nl));
    assert_int_equal(nl, OCLINIT_NONLINEARITY_LEAKY_RELU);
    oclinit_fan_mode mode;
    assert_int_equal(oclinit_fan_mode_parse("fan", &mode), OCLINIT_ERROR_INVALID_ARGUMENT);
    oclinit_distribution_kind dk;
    assert_ok(oclinit_distribution_kind_parse("untruncated_normal", &dk));
    assert_int_equal(dk, OCLINIT_DISTRIBUTION_NORMAL);
}

static void expect_refused(oclinit_scheme s, int64_t fan_in, int64_t fan_out, oclinit_status expected,
                           const char *text) {
    oclinit_distribution d;
    assert_int_equal(oclinit_scheme_resolve(&s, fan_in, fan_out, &d), expected);
    if (!strstr(oclinit_error_get_detail(), text))
        print_error("detail \"%s\" lacks \"%s\"\n", oclinit_error_get_detail(), text);
    assert_non_null(strstr(oclinit_error_get_detail(), text));
}

static void bad_options_are_refused(void **state) {
    (void)state;
    oclinit_scheme normal = oclinit_scheme_default(OCLINIT_SCHEME_NORMAL);
    expect_refused(normal, 0, 10, OCLINIT_ERROR_INVALID_ARGUMENT, "fan_in and fan_out must be >= 1");
    expect_refused(normal, 10, -3, OCLINIT_ERROR_INVALID_ARGUMENT, "fan_in and fan_out must be >= 1");
    expect_refused(normal, INT64_C(1) << 40, INT64_C(1) << 40, OCLINIT_ERROR_SIZE_OVERFLOW, "more than 2^61 elements");
    expect_refused(normal, INT64_C(1) << 31, INT64_C(1) << 31, OCLINIT_ERROR_SIZE_OVERFLOW, "more than 2^61 elements");
    normal.std = 0;
    expect_refused(normal, 10, 10, OCLINIT_ERROR_INVALID_ARGUMENT, "std must be");
    normal.std = -1;
    expect_refused(normal, 10, 10, OCLINIT_ERROR_INVALID_ARGUMENT, "std must be");
    oclinit_scheme uniform = oclinit_scheme_default(OCLINIT_SCHEME_UNIFORM);
    uniform.a = 1;
    uniform.b = 1;
    expect_refused(uniform, 10, 10, OCLINIT_ERROR_INVALID_ARGUMENT, "a < b");
    oclinit_scheme trunc = oclinit_scheme_default(OCLINIT_SCHEME_TRUNC_NORMAL);
    trunc.a = 3;
    trunc.b = -3;
    expect_refused(trunc, 10, 10, OCLINIT_ERROR_INVALID_ARGUMENT, "a < b");
    trunc.a = 40;
    trunc.b = 41;
    expect_refused(trunc, 10, 10, OCLINIT_ERROR_INVALID_ARGUMENT, "holds a probability");
    oclinit_scheme kaiming = oclinit_scheme_default(OCLINIT_SCHEME_KAIMING_NORMAL);
    kaiming.mode = OCLINIT_FAN_AVG;
    expect_refused(kaiming, 10, 10, OCLINIT_ERROR_INVALID_ARGUMENT, "fan_in or fan_out");
    oclinit_scheme scaled = oclinit_scheme_default(OCLINIT_SCHEME_SCALED_NORMAL);
    scaled.scale = 0;
    expect_refused(scaled, 10, 10, OCLINIT_ERROR_INVALID_ARGUMENT, "scale must be");
    oclinit_scheme xavier = oclinit_scheme_default(OCLINIT_SCHEME_XAVIER_NORMAL);
    xavier.gain = NAN;
    expect_refused(xavier, 10, 10, OCLINIT_ERROR_INVALID_ARGUMENT, "gain must be");
    oclinit_scheme vs = oclinit_scheme_default(OCLINIT_SCHEME_VARIANCE_SCALING);
    vs.distribution = OCLINIT_DISTRIBUTION_EYE;
    expect_refused(vs, 10, 10, OCLINIT_ERROR_INVALID_ARGUMENT, "normal, truncated_normal or uniform");
}

static oclinit_shape shape_of(const char *text) {
    oclinit_shape shape;
    assert_ok(oclinit_shape_parse(text, &shape));
    return shape;
}

static void shapes_parse_and_print(void **state) {
    (void)state;
    char text[64];
    oclinit_shape s = shape_of("64,3,3,3");
    assert_int_equal(s.rank, 4);
    assert_true(s.dims[0] == 64 && s.dims[1] == 3 && s.dims[3] == 3);
    oclinit_shape_format(&s, text, sizeof text);
    assert_string_equal(text, "(64, 3, 3, 3)");
    s = shape_of("5x7");
    assert_true(s.rank == 2 && s.dims[1] == 7);
    s = shape_of("9");
    oclinit_shape_format(&s, text, sizeof text);
    assert_string_equal(text, "(9,)");
    uint64_t n;
    s = shape_of("2,3,4,5,6");
    assert_ok(oclinit_shape_get_elements(&s, &n));
    assert_int_equal(n, 720);
    const char *bad[] = {"", "0,3", "3,", ",3", "3,-1", "a", "1,2,3,4,5,6,7,8,9", "3 4", "3,,4"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(oclinit_shape_parse(bad[i], &s), OCLINIT_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(oclinit_error_get_detail(), "shape"));
    }
    assert_int_equal(oclinit_shape_parse("4294967296,4294967296", &s), OCLINIT_ERROR_SIZE_OVERFLOW);
    assert_int_equal(oclinit_shape_parse("99999999999999999999", &s), OCLINIT_ERROR_INVALID_ARGUMENT);
}

/* torch.nn.init._calculate_fan_in_and_fan_out and keras.src.initializers.random_initializers.compute_fans. */
static void fans_of_both_families(void **state) {
    (void)state;
    static const struct {
        const char *shape;
        int64_t torch_in, torch_out, keras_in, keras_out;
    } cases[] = {
        {"100,300", 300, 100, 100, 300},       {"16,8,5", 40, 80, 128, 80},
        {"64,3,7,7", 147, 3136, 1344, 1344},   {"32,16,3,3,3", 432, 864, 4608, 4608},
        {"3,3,3,16,32", 4608, 4608, 432, 864},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t fan_in, fan_out;
        oclinit_shape s = shape_of(cases[i].shape);
        assert_ok(oclinit_shape_get_fans(&s, OCLINIT_CONVENTION_PYTORCH, &fan_in, &fan_out));
        assert_int_equal(fan_in, cases[i].torch_in);
        assert_int_equal(fan_out, cases[i].torch_out);
        assert_ok(oclinit_shape_get_fans(&s, OCLINIT_CONVENTION_KERAS, &fan_in, &fan_out));
        assert_int_equal(fan_in, cases[i].keras_in);
        assert_int_equal(fan_out, cases[i].keras_out);
    }
    int64_t fan_in, fan_out;
    oclinit_shape bias = shape_of("256");
    assert_int_equal(oclinit_shape_get_fans(&bias, OCLINIT_CONVENTION_PYTORCH, &fan_in, &fan_out),
                     OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "fewer than 2 dimensions"));
    assert_ok(oclinit_shape_get_fans(&bias, OCLINIT_CONVENTION_KERAS, &fan_in, &fan_out));
    assert_true(fan_in == 256 && fan_out == 256);
    /* A conv weight's kaiming std uses in x kh x kw, as PyTorch's. */
    oclinit_distribution d;
    oclinit_scheme he = oclinit_scheme_default(OCLINIT_SCHEME_KAIMING_NORMAL);
    oclinit_shape conv = shape_of("64,3,7,7");
    assert_ok(oclinit_scheme_resolve_shape(&he, &conv, &d));
    assert_close(d.std, sqrt(2.0 / 147));
    he.convention = OCLINIT_CONVENTION_KERAS;
    assert_ok(oclinit_scheme_resolve_shape(&he, &conv, &d));
    assert_close(d.std, sqrt(2.0 / 1344));
    /* Dense layers given by fans are laid out as each family lays them out. */
    assert_ok(oclinit_scheme_resolve(&he, 300, 100, &d));
    assert_true(d.shape.dims[0] == 300 && d.shape.dims[1] == 100);
}

static void structured_schemes(void **state) {
    (void)state;
    oclinit_distribution d;
    oclinit_scheme s = oclinit_scheme_default(OCLINIT_SCHEME_ORTHOGONAL);
    s.gain = 2;
    oclinit_shape conv = shape_of("8,3,5,5");
    assert_ok(oclinit_scheme_resolve_shape(&s, &conv, &d));
    assert_true(d.kind == OCLINIT_DISTRIBUTION_ORTHOGONAL && d.value == 2 && d.rows == 8);
    s.convention = OCLINIT_CONVENTION_KERAS;
    assert_ok(oclinit_scheme_resolve_shape(&s, &conv, &d));
    assert_int_equal(d.rows, 8 * 3 * 5);
    double mean, std;
    oclinit_distribution_get_moments(&d, &mean, &std);
    assert_close(std, 2 / sqrt(120.0));

    s = oclinit_scheme_default(OCLINIT_SCHEME_SPARSE);
    assert_close(s.std, 0.01);
    s.sparsity = 0.3;
    oclinit_shape matrix = shape_of("10,4");
    assert_ok(oclinit_scheme_resolve_shape(&s, &matrix, &d));
    assert_int_equal(d.zeros, 3); /* ceil(0.3 x 10) */
    assert_close(d.std, 0.01);

    s = oclinit_scheme_default(OCLINIT_SCHEME_DIRAC);
    s.groups = 2;
    oclinit_shape kernel = shape_of("6,4,3");
    assert_ok(oclinit_scheme_resolve_shape(&s, &kernel, &d));
    assert_true(d.kind == OCLINIT_DISTRIBUTION_EYE && d.groups == 2 && d.value == 1);
    oclinit_distribution_get_moments(&d, &mean, &std);
    assert_close(mean, 6.0 / 72); /* 2 groups x min(3, 4) ones */

    s = oclinit_scheme_default(OCLINIT_SCHEME_EYE);
    s.gain = 0.5;
    assert_ok(oclinit_scheme_resolve_shape(&s, &matrix, &d));
    assert_true(d.kind == OCLINIT_DISTRIBUTION_EYE && d.value == 0.5f && d.groups == 1);

    /* nn.Linear(784, 256) and nn.Conv2d(3, 64, 7): weight and bias bounds 1 / sqrt(fan_in), computed as PyTorch. */
    s = oclinit_scheme_default(OCLINIT_SCHEME_PYTORCH_LINEAR);
    oclinit_shape linear = shape_of("256,784");
    assert_ok(oclinit_scheme_resolve_shape(&s, &linear, &d));
    double gain = sqrt(2.0 / (1 + sqrt(5.0) * sqrt(5.0)));
    assert_true(d.kind == OCLINIT_DISTRIBUTION_UNIFORM && d.b == (float)(sqrt(3.0) * (gain / sqrt(784.0))));
    assert_close(d.b, 1 / 28.0);
    oclinit_shape bias = shape_of("256");
    s.fan_in = 784;
    assert_ok(oclinit_scheme_resolve_shape(&s, &bias, &d));
    assert_true(d.b == (float)(1 / sqrt(784.0)) && d.a == -d.b);
    s = oclinit_scheme_default(OCLINIT_SCHEME_PYTORCH_CONV);
    assert_ok(oclinit_scheme_resolve_shape(&s, &conv, &d));
    assert_close(d.b, 1 / sqrt(75.0));
}

static void expect_shape_refused(oclinit_scheme s, const char *shape, oclinit_status expected, const char *text) {
    oclinit_distribution d;
    oclinit_shape parsed = shape_of(shape);
    assert_int_equal(oclinit_scheme_resolve_shape(&s, &parsed, &d), expected);
    if (!strstr(oclinit_error_get_detail(), text))
        print_error("detail \"%s\" lacks \"%s\"\n", oclinit_error_get_detail(), text);
    assert_non_null(strstr(oclinit_error_get_detail(), text));
}

static void ranks_a_scheme_cannot_take(void **state) {
    (void)state;
    oclinit_scheme dirac = oclinit_scheme_default(OCLINIT_SCHEME_DIRAC);
    expect_shape_refused(dirac, "4,4", OCLINIT_ERROR_INVALID_ARGUMENT, "dirac takes a 3-D to 5-D tensor");
    expect_shape_refused(dirac, "2,2,2,2,2,2", OCLINIT_ERROR_INVALID_ARGUMENT, "not shape (2, 2, 2, 2, 2, 2)");
    dirac.groups = 4;
    expect_shape_refused(dirac, "6,3,3", OCLINIT_ERROR_INVALID_ARGUMENT, "divide the output channels");
    oclinit_scheme sparse = oclinit_scheme_default(OCLINIT_SCHEME_SPARSE);
    sparse.sparsity = 0.5;
    expect_shape_refused(sparse, "4,4,4", OCLINIT_ERROR_INVALID_ARGUMENT, "sparse takes a 2-D tensor");
    const double sparsities[] = {-0.1, 1, 1.5, NAN};
    for (size_t i = 0; i < 4; i++) {
        sparse.sparsity = sparsities[i];
        expect_shape_refused(sparse, "4,4", OCLINIT_ERROR_INVALID_ARGUMENT, "sparsity must be in [0, 1)");
    }
    oclinit_scheme orthogonal = oclinit_scheme_default(OCLINIT_SCHEME_ORTHOGONAL);
    expect_shape_refused(orthogonal, "16", OCLINIT_ERROR_INVALID_ARGUMENT, "orthogonal takes a tensor of 2 or more");
    oclinit_scheme eye = oclinit_scheme_default(OCLINIT_SCHEME_EYE);
    expect_shape_refused(eye, "3,3,3", OCLINIT_ERROR_INVALID_ARGUMENT, "eye takes a 2-D tensor");
    expect_shape_refused(oclinit_scheme_default(OCLINIT_SCHEME_XAVIER_UNIFORM), "16", OCLINIT_ERROR_INVALID_ARGUMENT,
                         "fewer than 2 dimensions");
    expect_shape_refused(oclinit_scheme_default(OCLINIT_SCHEME_PYTORCH_LINEAR), "16", OCLINIT_ERROR_INVALID_ARGUMENT,
                         "needs its weight's fan_in");
    expect_shape_refused(oclinit_scheme_default(OCLINIT_SCHEME_PYTORCH_LINEAR), "4,4,4", OCLINIT_ERROR_INVALID_ARGUMENT,
                         "a 2-D weight or a 1-D bias");
    expect_shape_refused(oclinit_scheme_default(OCLINIT_SCHEME_PYTORCH_CONV), "4,4", OCLINIT_ERROR_INVALID_ARGUMENT,
                         "a 3-D to 5-D weight");
}

static void which_scheme_takes_which_option(void **state) {
    (void)state;
    assert_true(oclinit_scheme_takes(OCLINIT_SCHEME_KAIMING_NORMAL, "negative-slope"));
    assert_true(oclinit_scheme_takes(OCLINIT_SCHEME_KAIMING_NORMAL, "negative_slope"));
    assert_true(oclinit_scheme_takes(OCLINIT_SCHEME_SPARSE, "std"));
    assert_true(oclinit_scheme_takes(OCLINIT_SCHEME_ORTHOGONAL, "convention"));
    assert_false(oclinit_scheme_takes(OCLINIT_SCHEME_NORMAL, "gain"));
    assert_false(oclinit_scheme_takes(OCLINIT_SCHEME_NORMAL, "no-such-option"));
    assert_false(oclinit_scheme_takes(OCLINIT_SCHEME_NORMAL, NULL));
}

static void status_strings(void **state) {
    (void)state;
    assert_string_equal(oclinit_status_str(OCLINIT_SUCCESS), "success");
    assert_string_equal(oclinit_status_str(OCLINIT_ERROR_NO_SPACE), "no space left");
    assert_non_null(strstr(oclinit_status_str((oclinit_status)CL_MEM_OBJECT_ALLOCATION_FAILURE), "CL_MEM_OBJECT"));
    assert_string_equal(oclinit_status_str((oclinit_status)-9999), "unknown status");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gains_match_calculate_gain),
        cmocka_unit_test(pytorch_conventions),
        cmocka_unit_test(keras_conventions),
        cmocka_unit_test(names_and_aliases),
        cmocka_unit_test(bad_options_are_refused),
        cmocka_unit_test(status_strings),
        cmocka_unit_test(shapes_parse_and_print),
        cmocka_unit_test(fans_of_both_families),
        cmocka_unit_test(structured_schemes),
        cmocka_unit_test(ranks_a_scheme_cannot_take),
        cmocka_unit_test(which_scheme_takes_which_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
