/* Fixed-seed statistics over 10^7 samples made on the device: mean and variance within 5 standard errors,
 * a Kolmogorov-Smirnov test against the exact CDF, truncated values inside [a, b], no NaN or Inf. And the
 * normalizer's statistics of 10^7 values at the ends of float32's range, over thousands of chunks. */
#include <math.h>
#include <stdio.h>

#include "helpers.h"

#define SAMPLES 10000000u
/* Kolmogorov-Smirnov: sqrt(n) D exceeds 1.95 with probability 0.001 for a correct sampler. */
#define KS_CRITICAL 1.95

static double exact_cdf(const oclinit_distribution *d, double x) {
    switch (d->kind) {
    case OCLINIT_DISTRIBUTION_UNIFORM: return fmin(fmax((x - d->a) / ((double)d->b - d->a), 0), 1);
    case OCLINIT_DISTRIBUTION_NORMAL: return normal_cdf((x - d->mean) / d->std);
    default: {
        double low = normal_cdf(((double)d->a - d->mean) / d->std),
               high = normal_cdf(((double)d->b - d->mean) / d->std);
        return fmin(fmax((normal_cdf((x - d->mean) / d->std) - low) / (high - low), 0), 1);
    }
    }
}

static int compare_floats(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void check_sample(const oclinit_distribution *d, const char *name) {
    oclinit_runtime_t rt = test_device(0);
    float *x = malloc(SAMPLES * sizeof(float));
    assert_non_null(x);
    assert_ok(oclinit_init_fill_host(rt, d, 314159, 2, 0, SAMPLES, x));
    oclinit_runtime_free(rt);

    double mean, std;
    oclinit_distribution_get_moments(d, &mean, &std);
    double sum = 0;
    for (size_t i = 0; i < SAMPLES; i++) {
        assert_true(isfinite(x[i]));
        if (d->kind != OCLINIT_DISTRIBUTION_NORMAL) assert_true(x[i] >= d->a && x[i] <= d->b);
        sum += x[i];
    }
    double sample_mean = sum / SAMPLES, m2 = 0, m4 = 0;
    for (size_t i = 0; i < SAMPLES; i++) {
        double e = x[i] - sample_mean;
        m2 += e * e;
        m4 += e * e * e * e;
    }
    m2 /= SAMPLES;
    m4 /= SAMPLES;
    double mean_error = (sample_mean - mean) / (std / sqrt(SAMPLES));
    double variance_error = (m2 - std * std) / sqrt((m4 - m2 * m2) / SAMPLES);

    qsort(x, SAMPLES, sizeof(float), compare_floats);
    double ks = 0;
    for (size_t i = 0; i < SAMPLES; i++) {
        double f = exact_cdf(d, x[i]);
        ks = fmax(ks, fmax(fabs((double)(i + 1) / SAMPLES - f), fabs(f - (double)i / SAMPLES)));
    }
    double ks_scaled = ks * sqrt(SAMPLES);
    printf("%-30s mean %+.2f se, variance %+.2f se, KS sqrt(n) D = %.3f (critical %.2f)\n", name, mean_error,
           variance_error, ks_scaled, KS_CRITICAL);
    assert_true(fabs(mean_error) < 5);
    assert_true(fabs(variance_error) < 5);
    assert_true(ks_scaled < KS_CRITICAL);
    free(x);
}

static void uniform(void **state) {
    (void)state;
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_UNIFORM, .a = -1, .b = 3, .shape = {2, {SAMPLES, 1}}};
    check_sample(&d, "uniform(-1, 3)");
}

static void normal(void **state) {
    (void)state;
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 1, .std = 2, .shape = {2, {SAMPLES, 1}}};
    check_sample(&d, "normal(1, 2)");
}

static void truncated_normal(void **state) {
    (void)state;
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL,
                              .mean = 0,
                              .std = 1,
                              .a = -2,
                              .b = 2,
                              .shape = {2, {SAMPLES, 1}}};
    check_sample(&d, "truncated normal(0, 1, -2, 2)");
}

static void truncated_normal_one_sided(void **state) {
    (void)state;
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL,
                              .mean = 0.5f,
                              .std = 2,
                              .a = 1,
                              .b = 9,
                              .shape = {2, {SAMPLES, 1}}};
    check_sample(&d, "truncated normal(0.5, 2, 1, 9)");
}

/* 2.5 10^6 rows (2442 fit chunks) of four features whose squares leave float32's range: N(0, 1) times 1e19,
 * 1e-25 and 1e-40 (denormal), and values near +-3e38. Device and host fit the same bits, within 1e-6 of long
 * double (the mean relative to the std), and z-score brings each to mean 0, std 1 with every value finite. */
static void normalizer_statistics_at_extreme_magnitudes(void **state) {
    (void)state;
    enum { FEATURES = 4 };
    const size_t rows = SAMPLES / FEATURES;
    static const double scales[FEATURES] = {1e19, 1e-25, 3e38, 1e-40};
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .std = 1, .shape = {2, {(int64_t)rows, FEATURES}}};
    oclinit_table_t on_device = NULL, on_host = NULL;
    float *x = malloc(SAMPLES * sizeof(float));
    assert_non_null(x);
    assert_ok(oclinit_init_fill_host(NULL, &d, 2718, 3, 0, SAMPLES, x));
    for (size_t i = 0; i < SAMPLES; i++) {
        double z = x[i], scale = scales[i % FEATURES];
        x[i] = (float)(i % FEATURES == 2 ? (z < 0 ? -scale : scale) * (1 - fmin(fabs(z), 9) / 100) : z * scale);
        assert_true(isfinite(x[i]));
    }
    assert_ok(oclinit_table_create(rows, FEATURES, x, &on_device));
    assert_ok(oclinit_table_create(rows, FEATURES, x, &on_host));
    oclinit_runtime_t rt = test_device(0);
    oclinit_normalizer_t fitted_device = NULL, fitted_host = NULL;
    assert_ok(oclinit_normalizer_fit(rt, OCLINIT_NORMALIZE_ZSCORE, 0, 1, on_device, &fitted_device));
    assert_ok(oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_ZSCORE, 0, 1, on_host, &fitted_host));
    for (size_t f = 0; f < FEATURES; f++) {
        oclinit_stats a = oclinit_normalizer_get_stats(fitted_device, f),
                      b = oclinit_normalizer_get_stats(fitted_host, f);
        assert_memory_equal(&a, &b, sizeof a);
        long double sum = 0, m2 = 0;
        for (size_t r = 0; r < rows; r++) sum += x[r * FEATURES + f];
        long double mean = sum / rows;
        for (size_t r = 0; r < rows; r++) m2 += (x[r * FEATURES + f] - mean) * (x[r * FEATURES + f] - mean);
        long double std = sqrtl(m2 / rows);
        printf("scale %-6g std %.9g (exact %.9Lg), mean %.9g (exact %.9Lg)\n", scales[f], b.std, std, b.mean, mean);
        assert_true(fabsl(b.std - std) <= 1e-6L * std);
        assert_true(fabsl(b.mean - mean) <= 1e-6L * std);
    }
    assert_ok(oclinit_normalizer_apply(rt, fitted_device, on_device));
    assert_ok(oclinit_normalizer_apply(NULL, fitted_host, on_host));
    const float *zd = oclinit_table_get_data(on_device), *zh = oclinit_table_get_data(on_host);
    assert_int_equal(first_difference(zd, zh, SAMPLES, "z-score"), -1);
    for (size_t f = 0; f < FEATURES; f++) {
        long double sum = 0, squares = 0;
        for (size_t r = 0; r < rows; r++) {
            assert_true(isfinite(zh[r * FEATURES + f]));
            sum += zh[r * FEATURES + f];
            squares += (long double)zh[r * FEATURES + f] * zh[r * FEATURES + f];
        }
        long double mean = sum / rows, std = sqrtl(squares / rows - mean * mean);
        assert_true(fabsl(mean) <= 1e-5L && fabsl(std - 1) <= 1e-5L);
    }
    oclinit_normalizer_free(fitted_host);
    oclinit_normalizer_free(fitted_device);
    oclinit_table_free(on_host);
    oclinit_table_free(on_device);
    oclinit_runtime_free(rt);
    free(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uniform),
        cmocka_unit_test(normal),
        cmocka_unit_test(truncated_normal),
        cmocka_unit_test(truncated_normal_one_sided),
        cmocka_unit_test(normalizer_statistics_at_extreme_magnitudes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
