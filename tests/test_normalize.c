/* Normalization: device == host bit for bit, z-score gives mean 0 and std 1, min-max spans [lo, hi] exactly,
 * saved statistics applied to other data equal the formula, data far from zero keep their std, and the edge
 * cases and bad statistics files are refused with a message. */
#include <math.h>
#include <stdio.h>

#include "helpers.h"

static oclinit_table_t make_table(size_t rows, size_t features) {
    oclinit_table_t t = calloc(1, sizeof *t);
    t->rows = rows;
    t->features = t->columns = features;
    t->label_column = OI_NO_LABEL;
    t->data = malloc((rows * features != 0 ? rows * features : 1) * sizeof(float));
    return t;
}

static oclinit_table_t copy_table(oclinit_table_t from) {
    oclinit_table_t t = make_table(from->rows, from->features);
    memcpy(t->data, from->data, from->rows * from->features * sizeof(float));
    return t;
}

/* Features on very different scales, as the article's example: feature f ~ 10^(f mod 7 - 3) N(f, 1). */
static oclinit_table_t random_table(size_t rows, size_t features, uint64_t seed) {
    oclinit_table_t t = make_table(rows, features);
    oclinit_distribution d = {
        .kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 0, .std = 1, .rows = (int64_t)rows, .columns = (int64_t)features};
    assert_ok(oclinit_init_fill_host(NULL, &d, seed, 0, 0, rows * features, t->data));
    for (size_t r = 0; r < rows; r++)
        for (size_t f = 0; f < features; f++)
            t->data[r * features + f] =
                (float)((t->data[r * features + f] + (double)f) * pow(10.0, (double)(f % 7) - 3));
    return t;
}

static void assert_same_stats(oclinit_normalizer_t a, oclinit_normalizer_t b) {
    assert_int_equal(oclinit_normalizer_get_features(a), oclinit_normalizer_get_features(b));
    for (size_t f = 0; f < oclinit_normalizer_get_features(a); f++) {
        oclinit_stats x = oclinit_normalizer_get_stats(a, f), y = oclinit_normalizer_get_stats(b, f);
        assert_memory_equal(&x, &y, sizeof x);
    }
}

static void device_equals_host(void **state) {
    unsigned lanes = test_lanes(state);
    static const size_t shapes[][2] = {{2, 1}, {1023, 3}, {1025, 16}, {5000, 17}, {3001, 33}, {70000, 2}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int method = 0; method < 2; method++) {
            oclinit_runtime_t rt = test_device(lanes);
            oclinit_table_t on_device = random_table(shapes[s][0], shapes[s][1], s), on_host = copy_table(on_device);
            oclinit_normalizer_t fitted_device = NULL, fitted_host = NULL;
            assert_ok(oclinit_normalizer_fit(rt, (oclinit_normalize_method)method, -1, 2, on_device, &fitted_device));
            assert_ok(oclinit_normalizer_fit(NULL, (oclinit_normalize_method)method, -1, 2, on_host, &fitted_host));
            assert_same_stats(fitted_device, fitted_host);
            assert_ok(oclinit_normalizer_apply(rt, fitted_device, on_device));
            assert_ok(oclinit_normalizer_apply(NULL, fitted_host, on_host));
            assert_int_equal(first_difference(on_device->data, on_host->data, shapes[s][0] * shapes[s][1], "applied"),
                             -1);
            oclinit_normalizer_free(fitted_host);
            oclinit_normalizer_free(fitted_device);
            oclinit_table_free(on_host);
            oclinit_table_free(on_device);
            oclinit_runtime_free(rt);
        }
    }
}

/* The same through device buffers (fit_buffer, apply_buffer, out of place and in place). */
static void buffers_equal_tables(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0);
    oclinit_table_t t = random_table(4099, 5, 7), host = copy_table(t);
    size_t bytes = 4099 * 5 * sizeof(float);
    cl_mem in = test_buffer(rt, bytes, t->data), out = test_buffer(rt, bytes, NULL);
    oclinit_normalizer_t from_buffer = NULL, from_table = NULL;
    assert_ok(oclinit_normalizer_fit_buffer(rt, OCLINIT_NORMALIZE_ZSCORE, 0, 1, in, 4099, 5, &from_buffer));
    assert_ok(oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_ZSCORE, 0, 1, host, &from_table));
    assert_same_stats(from_buffer, from_table);
    assert_ok(oclinit_normalizer_apply_buffer(rt, from_buffer, in, out, 4099));
    assert_ok(oclinit_normalizer_apply_buffer(rt, from_buffer, in, in, 4099));
    assert_ok(oclinit_normalizer_apply(NULL, from_table, host));
    float *result = malloc(bytes);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(
            clEnqueueReadBuffer(oclinit_runtime_get_queue(rt), k ? in : out, CL_TRUE, 0, bytes, result, 0, NULL, NULL),
            CL_SUCCESS);
        assert_int_equal(first_difference(result, host->data, 4099 * 5, "buffer"), -1);
    }
    free(result);
    clReleaseMemObject(out);
    clReleaseMemObject(in);
    oclinit_normalizer_free(from_table);
    oclinit_normalizer_free(from_buffer);
    oclinit_table_free(host);
    oclinit_table_free(t);
    oclinit_runtime_free(rt);
}

/* Mean and population std of each column, in long double. */
static void column_moments(const float *x, size_t rows, size_t features, size_t f, long double *mean,
                           long double *std) {
    long double sum = 0, m2 = 0;
    for (size_t r = 0; r < rows; r++) sum += x[r * features + f];
    *mean = sum / rows;
    for (size_t r = 0; r < rows; r++) m2 += (x[r * features + f] - *mean) * (x[r * features + f] - *mean);
    *std = sqrtl(m2 / rows);
}

static void zscore_gives_mean_0_std_1(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0);
    oclinit_table_t t = random_table(100003, 7, 11);
    oclinit_normalizer_t n = NULL;
    assert_ok(oclinit_normalizer_fit(rt, OCLINIT_NORMALIZE_ZSCORE, 0, 1, t, &n));
    assert_ok(oclinit_normalizer_apply(rt, n, t));
    for (size_t f = 0; f < 7; f++) {
        long double mean, std;
        column_moments(t->data, 100003, 7, f, &mean, &std);
        if (fabsl(mean) > 1e-6L || fabsl(std - 1) > 1e-6L) print_error("feature %zu: mean %Lg std %Lg\n", f, mean, std);
        assert_true(fabsl(mean) <= 1e-6L);
        assert_true(fabsl(std - 1) <= 1e-6L);
    }
    oclinit_normalizer_free(n);
    oclinit_table_free(t);
    oclinit_runtime_free(rt);
}

static void minmax_spans_the_range_exactly(void **state) {
    (void)state;
    static const double ranges[][2] = {{0, 1}, {-1, 2}, {-0.3, 0.7}};
    oclinit_runtime_t rt = test_device(0);
    for (size_t k = 0; k < 3; k++) {
        oclinit_table_t t = random_table(30011, 9, 13);
        oclinit_normalizer_t n = NULL;
        assert_ok(oclinit_normalizer_fit(rt, OCLINIT_NORMALIZE_MINMAX, ranges[k][0], ranges[k][1], t, &n));
        assert_ok(oclinit_normalizer_apply(rt, n, t));
        for (size_t f = 0; f < 9; f++) {
            float lo = INFINITY, hi = -INFINITY;
            for (size_t r = 0; r < 30011; r++) {
                lo = fminf(lo, t->data[r * 9 + f]);
                hi = fmaxf(hi, t->data[r * 9 + f]);
            }
            assert_true(lo == (float)ranges[k][0]);
            assert_true(hi == (float)ranges[k][1]);
        }
        oclinit_normalizer_free(n);
        oclinit_table_free(t);
    }
    oclinit_runtime_free(rt);
}

/* Statistics fitted on training data, saved, loaded and applied to other data: the formula with the training
 * statistics, within float rounding. */
static void saved_statistics_apply_to_other_data(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0);
    for (int method = 0; method < 2; method++) {
        oclinit_table_t train = random_table(5000, 4, 21), test = random_table(777, 4, 22), original = copy_table(test);
        oclinit_normalizer_t fitted = NULL, loaded = NULL;
        assert_ok(oclinit_normalizer_fit(rt, (oclinit_normalize_method)method, -2, 3, train, &fitted));
        assert_ok(oclinit_normalizer_save(fitted, "test_normalize_stats.txt"));
        assert_ok(oclinit_normalizer_load("test_normalize_stats.txt", &loaded));
        assert_same_stats(fitted, loaded);
        assert_int_equal(oclinit_normalizer_get_method(loaded), method);
        assert_ok(oclinit_normalizer_apply(rt, loaded, test));
        for (size_t i = 0; i < 777 * 4; i++) {
            oclinit_stats s = oclinit_normalizer_get_stats(fitted, i % 4);
            double x = original->data[i];
            double expected =
                method == OCLINIT_NORMALIZE_ZSCORE ? (x - s.mean) / s.std : -2 + (x - s.min) * 5 / (s.max - s.min);
            assert_true(fabs(test->data[i] - expected) <= 1e-6 * fmax(1.0, fabs(expected)));
        }
        oclinit_normalizer_free(loaded);
        oclinit_normalizer_free(fitted);
        oclinit_table_free(original);
        oclinit_table_free(test);
        oclinit_table_free(train);
    }
    remove("test_normalize_stats.txt");
    oclinit_runtime_free(rt);
}

/* Values around 1e6 with a spread of 0.1: sum-of-squares formulas lose everything here. */
static void far_from_zero(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0);
    const size_t rows = 1000003;
    oclinit_table_t t = make_table(rows, 2);
    oclinit_distribution d = {
        .kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 0, .std = 0.1f, .rows = (int64_t)rows, .columns = 2};
    assert_ok(oclinit_init_fill_host(NULL, &d, 3, 0, 0, rows * 2, t->data));
    for (size_t r = 0; r < rows; r++) t->data[2 * r] += 1e6f, t->data[2 * r + 1] = (float)(t->data[2 * r + 1] - 5e5);
    oclinit_normalizer_t n = NULL;
    assert_ok(oclinit_normalizer_fit(rt, OCLINIT_NORMALIZE_ZSCORE, 0, 1, t, &n));
    for (size_t f = 0; f < 2; f++) {
        long double mean, std;
        column_moments(t->data, rows, 2, f, &mean, &std);
        oclinit_stats s = oclinit_normalizer_get_stats(n, f);
        printf("feature %zu: std %.9g (exact %.9Lg), mean %.17g (exact %.17Lg)\n", f, s.std, std, s.mean, mean);
        assert_true(fabsl(s.std - std) <= 1e-6L * std);
        assert_true(fabsl(s.mean - mean) <= 1e-6L * std);
    }
    oclinit_normalizer_free(n);
    oclinit_table_free(t);
    oclinit_runtime_free(rt);
}

static void edge_cases(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0);
    oclinit_normalizer_t n = NULL;
    oclinit_table_t t = make_table(3, 2);
    const float values[6] = {5, 1, 5, 2, 5, 3}; /* feature 0 is constant */
    memcpy(t->data, values, sizeof values);
    for (int method = 0; method < 2; method++) {
        oclinit_table_t copy = copy_table(t);
        assert_ok(oclinit_normalizer_fit(rt, (oclinit_normalize_method)method, -1, 1, copy, &n));
        assert_true(oclinit_normalizer_is_constant(n, 0));
        assert_false(oclinit_normalizer_is_constant(n, 1));
        assert_ok(oclinit_normalizer_apply(rt, n, copy));
        for (int r = 0; r < 3; r++)
            assert_true(copy->data[2 * r] == (method == OCLINIT_NORMALIZE_MINMAX ? -1.0f : 0.0f));
        oclinit_normalizer_free(n);
        n = NULL;
        oclinit_table_free(copy);
    }
    t->rows = 1;
    assert_int_equal(oclinit_normalizer_fit(rt, OCLINIT_NORMALIZE_ZSCORE, 0, 1, t, &n), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "at least 2 rows"));
    t->rows = 0;
    assert_int_equal(oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_ZSCORE, 0, 1, t, &n),
                     OCLINIT_ERROR_INVALID_ARGUMENT);
    t->rows = 3;
    assert_int_equal(oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_MINMAX, 1, 1, t, &n),
                     OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "LO < HI"));
    assert_null(n);
    /* Applying to data of another width, or with other column names. */
    assert_ok(oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_ZSCORE, 0, 1, t, &n));
    oclinit_table_t wide = make_table(2, 3);
    assert_int_equal(oclinit_normalizer_apply(rt, n, wide), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "the data have 3 feature columns, the statistics 2"));
    oclinit_table_free(wide);
    oclinit_normalizer_free(n);
    oclinit_table_free(t);
    oclinit_runtime_t host = NULL;
    assert_ok(oclinit_runtime_create("cpu", &host));
    assert_int_equal(oclinit_normalizer_fit_buffer(host, OCLINIT_NORMALIZE_ZSCORE, 0, 1, NULL, 3, 2, &n),
                     OCLINIT_ERROR_NOT_SUPPORTED);
    oclinit_runtime_free(host);
    oclinit_runtime_free(rt);
}

static void names_must_match(void **state) {
    (void)state;
    FILE *f = fopen("test_normalize_a.csv", "w");
    fputs("x,y,label\n1,2,a\n3,5,b\n", f);
    fclose(f);
    f = fopen("test_normalize_b.csv", "w");
    fputs("x,z,label\n1,2,a\n", f);
    fclose(f);
    oclinit_read_options options = {.label = "label"};
    oclinit_table_t a = NULL, b = NULL;
    assert_ok(oclinit_table_read("test_normalize_a.csv", &options, &a));
    assert_ok(oclinit_table_read("test_normalize_b.csv", &options, &b));
    oclinit_normalizer_t n = NULL;
    assert_ok(oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_ZSCORE, 0, 1, a, &n));
    assert_string_equal(oclinit_normalizer_get_label(n), "label");
    assert_string_equal(oclinit_normalizer_get_feature_name(n, 1), "y");
    assert_int_equal(oclinit_normalizer_apply(NULL, n, b), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "feature 2 is \"z\" in the data but \"y\" in the statistics"));
    oclinit_normalizer_free(n);
    oclinit_table_free(b);
    oclinit_table_free(a);
    remove("test_normalize_a.csv");
    remove("test_normalize_b.csv");
}

static void bad_statistics_files(void **state) {
    (void)state;
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"", "is incomplete"},
        {"hello 1\n", "is not an oclinit statistics file"},
        {"oclinit-normalization 2\n", "format version 2, written by a newer oclinit"},
        {"oclinit-normalization 1\nmethod zscore\nrange 0 1\nfeatures 2\nfeature 1 - 10 0 1 -1 1\n", "is incomplete"},
        {"oclinit-normalization 1\nmethod zscore\nrange 0 1\nfeatures 1\nfeature 1 - 10 0 -1 -1 1\n",
         "line 5 is not valid"},
        {"oclinit-normalization 1\nmethod zscore\nrange 1 0\n", "line 3 is not valid"},
        {"oclinit-normalization 1\nmethod cubic\n", "line 2 is not valid"},
        {"oclinit-normalization 1\nmethod zscore\nrange 0 1\nfeatures 1\nfeature 1 \"unclosed 10 0 1 -1 1\n", "line 5"},
        {"oclinit-normalization 1\nmethod zscore\nrange 0 1\nfeatures 1\nfeature 1 - 10 nan 1 -1 1\n", "line 5"},
        {"oclinit-normalization 1\nmethod zscore\nrange 0 1\nfeatures 1\nfeature 1 - 1 0 1 -1 1\n", "line 5"},
        {"oclinit-normalization 1\nmethod zscore\nrange 0 1\nfeatures 1\nfeature 2 - 10 0 1 -1 1\n", "line 5"},
        {"oclinit-normalization 1\n\x01\x02\x00\xff", "binary data"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        FILE *f = fopen("test_normalize_bad.txt", "wb");
        size_t length = strlen(cases[k].text);
        if (strstr(cases[k].text, "\x01\x02")) length += 3; /* the one with a NUL byte */
        fwrite(cases[k].text, 1, length, f);
        fclose(f);
        oclinit_normalizer_t n = NULL;
        oclinit_status status = oclinit_normalizer_load("test_normalize_bad.txt", &n);
        if (status == OCLINIT_SUCCESS || !strstr(oclinit_error_get_detail(), cases[k].message))
            print_error("case %zu: expected \"%s\", got %s\n", k, cases[k].message, oclinit_error_get_detail());
        assert_int_not_equal(status, OCLINIT_SUCCESS);
        assert_null(n);
        assert_non_null(strstr(oclinit_error_get_detail(), cases[k].message));
    }
    remove("test_normalize_bad.txt");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        DEVICE_LANES_TESTS(device_equals_host),
        cmocka_unit_test(buffers_equal_tables),
        cmocka_unit_test(zscore_gives_mean_0_std_1),
        cmocka_unit_test(minmax_spans_the_range_exactly),
        cmocka_unit_test(saved_statistics_apply_to_other_data),
        cmocka_unit_test(far_from_zero),
        cmocka_unit_test(edge_cases),
        cmocka_unit_test(names_must_match),
        cmocka_unit_test(bad_statistics_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
