/* Fixed-seed statistics over 10^7 samples made on the device: mean and variance within 5 standard errors,
 * a Kolmogorov-Smirnov test against the exact CDF, truncated values inside [a, b], no NaN or Inf. */
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
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_UNIFORM, .a = -1, .b = 3, .rows = SAMPLES, .columns = 1};
    check_sample(&d, "uniform(-1, 3)");
}

static void normal(void **state) {
    (void)state;
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 1, .std = 2, .rows = SAMPLES, .columns = 1};
    check_sample(&d, "normal(1, 2)");
}

static void truncated_normal(void **state) {
    (void)state;
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL,
                              .mean = 0,
                              .std = 1,
                              .a = -2,
                              .b = 2,
                              .rows = SAMPLES,
                              .columns = 1};
    check_sample(&d, "truncated normal(0, 1, -2, 2)");
}

static void truncated_normal_one_sided(void **state) {
    (void)state;
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL,
                              .mean = 0.5f,
                              .std = 2,
                              .a = 1,
                              .b = 9,
                              .rows = SAMPLES,
                              .columns = 1};
    check_sample(&d, "truncated normal(0.5, 2, 1, 9)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uniform),
        cmocka_unit_test(normal),
        cmocka_unit_test(truncated_normal),
        cmocka_unit_test(truncated_normal_one_sided),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
