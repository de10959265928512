/* Schemes resolve to PyTorch's and Keras's parameters; bad options are refused with a message. */
#include <math.h>

#include "helpers.h"

static oclinit_distribution resolve(oclinit_scheme s, int64_t fan_in, int64_t fan_out) {
    oclinit_distribution d;
    assert_ok(oclinit_scheme_resolve(&s, fan_in, fan_out, &d));
    assert_int_equal(d.rows, fan_out);
    assert_int_equal(d.columns, fan_in);
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
    expect_refused(normal, INT64_C(1) << 40, INT64_C(1) << 40, OCLINIT_ERROR_SIZE_OVERFLOW, "does not fit");
    expect_refused(normal, INT64_C(1) << 31, INT64_C(1) << 31, OCLINIT_ERROR_SIZE_OVERFLOW, "does not fit");
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

static void status_strings(void **state) {
    (void)state;
    assert_string_equal(oclinit_status_str(OCLINIT_SUCCESS), "success");
    assert_string_equal(oclinit_status_str(OCLINIT_ERROR_NO_SPACE), "no space left");
    assert_non_null(strstr(oclinit_status_str((oclinit_status)CL_MEM_OBJECT_ALLOCATION_FAILURE), "CL_MEM_OBJECT"));
    assert_string_equal(oclinit_status_str((oclinit_status)-9999), "unknown status");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gains_match_calculate_gain), cmocka_unit_test(pytorch_conventions),
        cmocka_unit_test(keras_conventions),          cmocka_unit_test(names_and_aliases),
        cmocka_unit_test(bad_options_are_refused),    cmocka_unit_test(status_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
