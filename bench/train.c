/* Training speed: milliseconds per full-batch gradient-descent iteration (forward, backward, update) of the
 * three-layer network, on the device (CLBlast) and on the host twin (OpenBLAS), through the public API. A call
 * of oclinit_network_train also uploads the data, initializes and evaluates; timing n and 3n iterations and
 * dividing the difference by 2n leaves the iterations alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

enum { SAMPLES = 2048 };

typedef struct job {
    oclinit_network_t net;
    const float *x, *y;
    size_t samples, iterations;
} job;

static oclinit_status train(void *context) {
    job *j = context;
    oclinit_scheme scheme = oclinit_scheme_default(OCLINIT_SCHEME_KAIMING_NORMAL);
    oclinit_train_options options = oclinit_train_options_default();
    options.optimizer = OCLINIT_OPTIMIZER_GD;
    options.learning_rate = 1e-3;
    options.iterations = j->iterations;
    options.report_every = 0;
    oclinit_status status = oclinit_network_init(j->net, &scheme, 1);
    if (status == OCLINIT_SUCCESS) status = oclinit_network_train(j->net, j->x, j->y, j->samples, &options, NULL);
    return status;
}

size_t bench_train_widths(const bench_config *cfg, double *widths) {
    static const double full[] = {16, 64, 256, 1024}, quick[] = {64, 1024};
    size_t n = cfg->quick ? 2 : 4;
    for (size_t i = 0; i < n; i++) widths[i] = cfg->quick ? quick[i] : full[i];
    return n;
}

/* The longest a figure may take: a device whose launches or untuned products are slow (Mesa's rusticl on a CPU)
 * measures fewer iterations, or gets a note instead of a figure. */
static double time_limit(const bench_config *cfg) {
    return cfg->quick ? 60 : 300;
}

/* Seconds per iteration of a [inputs, h1, h2, 1] ReLU network on the first samples rows of x, with fewer iterations
 * where a slow device needs it to stay within time_limit; *skipped (the seconds one call of one iteration took)
 * when even one is too many. */
static oclinit_status per_iteration(const bench_config *cfg, oclinit_runtime_t runtime, size_t inputs, size_t h1,
                                    size_t h2, size_t samples, const float *x, const float *y, timing *t,
                                    double *skipped) {
    oclinit_network_shape shape = {inputs, h1, h2, OCLINIT_ACTIVATION_RELU, 0};
    double flops = 6.0 * (double)samples * ((double)inputs * h1 + (double)h1 * h2 + (double)h2);
    size_t n = (size_t)fmax(2, fmin(100, 4e9 / flops));
    job j = {.x = x, .y = y, .samples = samples, .iterations = 1};
    oclinit_status status = oclinit_network_create(runtime, &shape, &j.net);
    timing once = {NAN, NAN, NAN}, thrice = once;
    *skipped = 0;
    /* One call of one iteration (after the one that compiles the kernels) bounds from above the cost of each of
     * the 4n iterations that each of the repeat + 1 runs of n and 3n below makes. */
    if (status == OCLINIT_SUCCESS) status = train(&j);
    double start = oi_clock_seconds();
    if (status == OCLINIT_SUCCESS) status = train(&j);
    double probe = oi_clock_seconds() - start, fit = time_limit(cfg) / (probe * 4 * (cfg->repeat + 1));
    if (status == OCLINIT_SUCCESS && fit < 1) {
        *skipped = probe;
        oclinit_network_free(j.net);
        *t = once;
        return OCLINIT_SUCCESS;
    }
    if (fit < n) n = (size_t)fit;
    j.iterations = n;
    if (status == OCLINIT_SUCCESS) once = bench_measure(train, &j, cfg->repeat);
    j.iterations = 3 * n;
    if (status == OCLINIT_SUCCESS) thrice = bench_measure(train, &j, cfg->repeat);
    oclinit_network_free(j.net);
    if (status == OCLINIT_SUCCESS && (once.median != once.median || thrice.median != thrice.median))
        status = OCLINIT_ERROR_BLAS;
    /* The spread of the difference: the extremes of both. */
    *t = (timing){(thrice.median - once.median) / (2.0 * n), (thrice.min - once.max) / (2.0 * n),
                  (thrice.max - once.min) / (2.0 * n)};
    return status;
}

static oclinit_status measure(const bench_config *cfg, bench_results *results, const char *benchmark, double size,
                              size_t inputs, size_t h1, size_t h2, size_t samples, const float *x, const float *y) {
    char detail[48];
    snprintf(detail, sizeof detail, "[%zu, %zu, %zu, 1], %zu samples", inputs, h1, h2, samples);
    double gflop = 6.0 * (double)samples * ((double)inputs * h1 + (double)h1 * h2 + (double)h2) / 1e9;
    oclinit_runtime_t runtimes[2] = {cfg->runtime, NULL};
    const char *backends[2] = {"device", "host"};
    for (int b = 0; b < 2; b++) {
        timing t;
        double skipped;
        oclinit_status status = bench_say(cfg, "%s %s on the %s", benchmark, detail, backends[b]);
        if (status == OCLINIT_SUCCESS)
            status = per_iteration(cfg, runtimes[b], inputs, h1, h2, samples, x, y, &t, &skipped);
        if (status != OCLINIT_SUCCESS) return status;
        if (skipped)
            bench_note(results, "%s %s on the %s: not measured, one iteration took %.2f s (over %.0f s in all)",
                       benchmark, detail, backends[b], skipped, time_limit(cfg));
        else
            bench_add(results, benchmark, backends[b], size, t, gflop, "GFLOP/s", detail);
    }
    return OCLINIT_SUCCESS;
}

oclinit_status bench_train(const bench_config *cfg, bench_results *results) {
    const size_t inputs = 512;
    float *x = malloc((size_t)SAMPLES * inputs * sizeof(float)), *y = malloc(SAMPLES * sizeof(float));
    oclinit_status status = x && y ? OCLINIT_SUCCESS : OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
    oclinit_distribution normal = {
        .kind = OCLINIT_DISTRIBUTION_NORMAL, .std = 1, .shape = {2, {SAMPLES, (int64_t)inputs}}};
    if (status == OCLINIT_SUCCESS)
        status = oclinit_init_fill_host(NULL, &normal, 2, 0, 0, (uint64_t)SAMPLES * inputs, x);
    for (size_t i = 0; y && i < SAMPLES; i++) y[i] = (float)(i % 2);
    /* The article's network on its 300 samples (the first 2 columns of x, as a 300 x 2 table would be read). */
    float *article = malloc(300 * 2 * sizeof(float));
    for (size_t i = 0; article && i < 300; i++) article[2 * i] = x[i * inputs], article[2 * i + 1] = x[i * inputs + 1];
    if (!article && status == OCLINIT_SUCCESS) status = OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
    if (status == OCLINIT_SUCCESS) status = measure(cfg, results, "train-article", 300, 2, 10, 5, 300, article, y);
    double widths[8];
    size_t count = bench_train_widths(cfg, widths);
    for (size_t i = 0; i < count && status == OCLINIT_SUCCESS; i++)
        status = measure(cfg, results, "train", widths[i], inputs, (size_t)widths[i], (size_t)widths[i], SAMPLES, x, y);
    free(article);
    free(x);
    free(y);
    return status;
}
