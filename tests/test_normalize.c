/* Normalization: device == host bit for bit, z-score gives mean 0 and std 1, min-max spans [lo, hi] exactly,
 * saved statistics applied to other data equal the formula, data far from zero keep their std, any finite
 * magnitude (1e19, 1e-25, +-3e38, denormals) gets its statistics and a finite transform, and the edge cases,
 * non-finite data and results, and bad statistics files are refused with a message. */
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
        .kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 0, .std = 1, .shape = {2, {(int64_t)rows, (int64_t)features}}};
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
        .kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 0, .std = 0.1f, .shape = {2, {(int64_t)rows, 2}}};
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
    cl_mem buffer = test_buffer(rt, 6 * sizeof(float), values);
    assert_int_equal(oclinit_normalizer_fit_buffer(host, OCLINIT_NORMALIZE_ZSCORE, 0, 1, buffer, 3, 2, &n),
                     OCLINIT_ERROR_NOT_SUPPORTED);
    clReleaseMemObject(buffer);
    oclinit_runtime_free(host);
    oclinit_runtime_free(rt);
}

/* ---- Extreme magnitudes ---- */

enum { EXTREME_FEATURES = 7 };
static const char *const extreme_names[EXTREME_FEATURES] = {
    "N(0,1) x 1e19",        "N(0,1) x 1e-25",    "+-3e38",
    "3e38 + N(0,1) x 1e36", "mixed 1e-30..1e30", "N(0,1) x 1e-40 (denormal)",
    "1000 N(6,1)"};

/* Columns whose plain float statistics overflow or underflow when squared, and an ordinary one. */
static oclinit_table_t extreme_table(size_t rows, uint64_t seed) {
    oclinit_table_t t = make_table(rows, EXTREME_FEATURES);
    float *z = malloc(rows * EXTREME_FEATURES * sizeof(float));
    oclinit_distribution d = {
        .kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 0, .std = 1, .shape = {2, {(int64_t)rows, EXTREME_FEATURES}}};
    assert_ok(oclinit_init_fill_host(NULL, &d, seed, 0, 0, rows * EXTREME_FEATURES, z));
    for (size_t r = 0; r < rows; r++) {
        const float *n = z + r * EXTREME_FEATURES;
        float *x = t->data + r * EXTREME_FEATURES;
        x[0] = n[0] * 1e19f;
        x[1] = n[1] * 1e-25f;
        x[2] = (float)((n[2] < 0 ? -1 : 1) * (3e38 - fabs((double)n[3]) * 1e37)); /* near -3e38 or 3e38 */
        x[3] = (float)(3e38 + (double)n[3] * 1e36);
        x[4] = (float)((double)n[4] * pow(10.0, 30.0 * ((double)(r % 7) / 3 - 1))); /* 1e-30 to 1e30 */
        x[5] = (float)((double)n[5] * 1e-40);
        x[6] = 1000 * (n[6] + 6);
        for (int f = 0; f < EXTREME_FEATURES; f++) assert_true(isfinite(x[f]));
    }
    free(z);
    return t;
}

/* Fitted on the device and on the host twin: the same bits; mean and std within 1e-6 (relative to the std) of
 * long double; the transform finite everywhere, equal on both sides and right (z-score: mean 0 and std 1;
 * min-max: exactly [lo, hi]); and the statistics file reads back what was saved. */
static void extreme_magnitudes(void **state) {
    unsigned lanes = test_lanes(state);
    const size_t rows = 5000; /* four full chunks and a part */
    oclinit_runtime_t rt = test_device(lanes);
    for (int method = 0; method < 2; method++) {
        oclinit_table_t on_device = extreme_table(rows, 41), on_host = copy_table(on_device),
                        original = copy_table(on_device);
        oclinit_normalizer_t fitted_device = NULL, fitted_host = NULL, loaded = NULL;
        assert_ok(oclinit_normalizer_fit(rt, (oclinit_normalize_method)method, -1, 2, on_device, &fitted_device));
        assert_ok(oclinit_normalizer_fit(NULL, (oclinit_normalize_method)method, -1, 2, on_host, &fitted_host));
        assert_same_stats(fitted_device, fitted_host);
        for (size_t f = 0; f < EXTREME_FEATURES; f++) {
            long double mean, std;
            column_moments(original->data, rows, EXTREME_FEATURES, f, &mean, &std);
            oclinit_stats s = oclinit_normalizer_get_stats(fitted_host, f);
            bool good = fabsl(s.std - std) <= 1e-6L * std && fabsl(s.mean - mean) <= 1e-6L * std;
            if (!good || method == 0)
                printf("%-26s std %.9g (exact %.9Lg), mean %.9g (exact %.9Lg)\n", extreme_names[f], s.std, std, s.mean,
                       mean);
            assert_true(good);
            assert_false(oclinit_normalizer_is_constant(fitted_host, f));
        }
        assert_ok(oclinit_normalizer_apply(rt, fitted_device, on_device));
        assert_ok(oclinit_normalizer_apply(NULL, fitted_host, on_host));
        assert_int_equal(first_difference(on_device->data, on_host->data, rows * EXTREME_FEATURES, "applied"), -1);
        for (size_t f = 0; f < EXTREME_FEATURES; f++) {
            float lo = INFINITY, hi = -INFINITY;
            for (size_t r = 0; r < rows; r++) {
                float v = on_host->data[r * EXTREME_FEATURES + f];
                assert_true(isfinite(v));
                lo = fminf(lo, v), hi = fmaxf(hi, v);
            }
            long double mean, std;
            column_moments(on_host->data, rows, EXTREME_FEATURES, f, &mean, &std);
            if (method == OCLINIT_NORMALIZE_MINMAX) {
                assert_true(lo == -1.0f && hi == 2.0f);
            } else {
                if (fabsl(mean) > 1e-5L || fabsl(std - 1) > 1e-5L)
                    print_error("%s: normalized mean %Lg std %Lg\n", extreme_names[f], mean, std);
                assert_true(fabsl(mean) <= 1e-5L && fabsl(std - 1) <= 1e-5L);
            }
        }
        assert_ok(oclinit_normalizer_save(fitted_device, "test_normalize_extreme.txt"));
        assert_ok(oclinit_normalizer_load("test_normalize_extreme.txt", &loaded));
        assert_same_stats(fitted_device, loaded);
        assert_ok(oclinit_normalizer_apply(NULL, loaded, original));
        assert_int_equal(first_difference(original->data, on_host->data, rows * EXTREME_FEATURES, "reloaded"), -1);
        remove("test_normalize_extreme.txt");
        oclinit_normalizer_free(loaded);
        oclinit_normalizer_free(fitted_host);
        oclinit_normalizer_free(fitted_device);
        oclinit_table_free(original);
        oclinit_table_free(on_host);
        oclinit_table_free(on_device);
    }
    oclinit_runtime_free(rt);
}

/* Ordinary magnitudes scaled by powers of two: the statistics scale exactly, so the chunks' scaling changes
 * nothing where no scaling was needed, and z-score's result is the same bits at every scale. */
static void powers_of_two_scale_exactly(void **state) {
    (void)state;
    oclinit_table_t base = random_table(3001, 5, 17);
    oclinit_normalizer_t reference = NULL;
    assert_ok(oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_ZSCORE, 0, 1, base, &reference));
    oclinit_table_t expected = copy_table(base);
    assert_ok(oclinit_normalizer_apply(NULL, reference, expected));
    static const int exponents[] = {-100, -60, 40, 90};
    for (size_t k = 0; k < sizeof exponents / sizeof exponents[0]; k++) {
        oclinit_table_t t = copy_table(base);
        for (size_t i = 0; i < 3001 * 5; i++) t->data[i] = ldexpf(t->data[i], exponents[k]);
        oclinit_normalizer_t n = NULL;
        assert_ok(oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_ZSCORE, 0, 1, t, &n));
        for (size_t f = 0; f < 5; f++) {
            oclinit_stats a = oclinit_normalizer_get_stats(reference, f), b = oclinit_normalizer_get_stats(n, f);
            assert_true(ldexp(a.mean, exponents[k]) == b.mean && ldexp(a.std, exponents[k]) == b.std);
        }
        assert_ok(oclinit_normalizer_apply(NULL, n, t));
        assert_int_equal(first_difference(t->data, expected->data, 3001 * 5, "scaled by a power of two"), -1);
        oclinit_normalizer_free(n);
        oclinit_table_free(t);
    }
    oclinit_table_free(expected);
    oclinit_normalizer_free(reference);
    oclinit_table_free(base);
}

/* NaN or infinity in the data to fit, statistics that do not fit float32, and results beyond float32's range
 * (data far outside the fitted range) are refused with the feature (and row), never written. */
static void non_finite_values_are_refused(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0);
    for (int on_device = 0; on_device < 2; on_device++) {
        oclinit_runtime_t where = on_device ? rt : NULL;
        oclinit_normalizer_t n = NULL;
        const float bad[2] = {NAN, INFINITY};
        for (int k = 0; k < 2; k++) {
            oclinit_table_t t = random_table(2000, 3, 5);
            t->data[1500 * 3 + 1] = bad[k];
            assert_int_equal(oclinit_normalizer_fit(where, OCLINIT_NORMALIZE_ZSCORE, 0, 1, t, &n),
                             OCLINIT_ERROR_INVALID_ARGUMENT);
            assert_non_null(strstr(oclinit_error_get_detail(), "feature 2 holds a NaN or an infinity"));
            assert_null(n);
            oclinit_table_free(t);
        }
        /* Fitted on N(0, 0.1); 3e38 normalizes to 3e39. */
        oclinit_table_t train = random_table(100, 3, 6), test = random_table(10, 3, 7);
        for (int method = 0; method < 2; method++) {
            oclinit_table_t copy = copy_table(test);
            copy->data[2 * 3 + 1] = 3e38f;
            assert_ok(oclinit_normalizer_fit(where, (oclinit_normalize_method)method, 0, 1, train, &n));
            assert_int_equal(oclinit_normalizer_apply(where, n, copy), OCLINIT_ERROR_INVALID_ARGUMENT);
            if (!strstr(oclinit_error_get_detail(), "row 3, feature 2 (column 2)"))
                print_error("got \"%s\"\n", oclinit_error_get_detail());
            assert_non_null(strstr(oclinit_error_get_detail(), "row 3, feature 2 (column 2)"));
            assert_non_null(strstr(oclinit_error_get_detail(), "beyond float32's range"));
            oclinit_normalizer_free(n);
            oclinit_table_free(copy);
        }
        oclinit_table_free(test);
        oclinit_table_free(train);
    }
    /* Statistics a file can hold but float32 cannot apply: a std of 0 for a feature that is not constant, and a
     * mean beyond float32's range. */
    static const char *const files[] = {
        "oclinit-normalization 1\nmethod zscore\nrange 0 1\nfeatures 2\nfeature 1 - 10 0 1 -1 1\n"
        "feature 2 - 10 0 0 -1 1\n",
        "oclinit-normalization 1\nmethod zscore\nrange 0 1\nfeatures 2\nfeature 1 - 10 0 1 -1 1\n"
        "feature 2 - 10 1e39 1 -1e300 1e300\n",
    };
    for (size_t k = 0; k < 2; k++) {
        FILE *f = fopen("test_normalize_float32.txt", "w");
        fputs(files[k], f);
        fclose(f);
        oclinit_normalizer_t n = NULL;
        assert_ok(oclinit_normalizer_load("test_normalize_float32.txt", &n));
        oclinit_table_t t = random_table(4, 2, 8);
        for (int on_device = 0; on_device < 2; on_device++) {
            assert_int_equal(oclinit_normalizer_apply(on_device ? rt : NULL, n, t), OCLINIT_ERROR_INVALID_ARGUMENT);
            assert_non_null(strstr(oclinit_error_get_detail(), "feature 2: its statistics"));
            assert_non_null(strstr(oclinit_error_get_detail(), "cannot be applied in float32"));
        }
        oclinit_table_free(t);
        oclinit_normalizer_free(n);
    }
    remove("test_normalize_float32.txt");
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
        DEVICE_LANES_TESTS(extreme_magnitudes),
        cmocka_unit_test(powers_of_two_scale_exactly),
        cmocka_unit_test(non_finite_values_are_refused),
        cmocka_unit_test(names_must_match),
        cmocka_unit_test(bad_statistics_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
