/* Training speed: milliseconds per full-batch gradient-descent iteration (forward, backward, update) for the
 * article's network ([2, 10, 5, 1], 300 samples) and a large one ([512, 1024, 1024, 1], 2048 samples), on the
 * device (CLBlast) beside the host twin (OpenBLAS). Median of --repeat runs of --iterations iterations each,
 * after a warm-up run (CLBlast's and oclinit's kernels are compiled then).
 *
 *   build/bench/bench_train [--repeat R] [--device D] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "timing.h"

typedef struct job {
    oclinit_network_t net;
    size_t samples, iterations;
    oclinit_train_options options;
} job;

static oclinit_status iterate(void *context) {
    job *j = context;
    oclinit_status status = OCLINIT_SUCCESS;
    for (size_t t = 0; t < j->iterations && status == OCLINIT_SUCCESS; t++) {
        status = oi_net_forward(j->net, 0, j->samples);
        if (status == OCLINIT_SUCCESS) status = oi_net_backward(j->net, 0, j->samples, t);
        if (status == OCLINIT_SUCCESS) status = oi_net_update(j->net, OCLINIT_OPTIMIZER_GD, &j->options);
    }
    if (status == OCLINIT_SUCCESS && j->net->rt && clFinish(j->net->rt->queue) != CL_SUCCESS) status = OCLINIT_ERROR_IO;
    return status;
}

static oclinit_status prepare(job *j, oclinit_runtime_t rt, size_t inputs, size_t h1, size_t h2, size_t samples) {
    oclinit_network_shape shape = {inputs, h1, h2, OCLINIT_ACTIVATION_RELU, 0};
    oclinit_scheme scheme = oclinit_scheme_default(OCLINIT_SCHEME_KAIMING_NORMAL);
    oclinit_status status = oclinit_network_create(rt, &shape, &j->net);
    if (status == OCLINIT_SUCCESS) status = oclinit_network_init(j->net, &scheme, 1);
    float *x = malloc(samples * inputs * sizeof(float)), *y = malloc(samples * sizeof(float));
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 0, .std = 1, .rows = (int64_t)samples,
                              .columns = (int64_t)inputs};
    if (!x || !y) status = OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
    if (status == OCLINIT_SUCCESS) status = oclinit_init_fill_host(NULL, &d, 2, 0, 0, samples * inputs, x);
    for (size_t i = 0; y && i < samples; i++) y[i] = (float)(i % 2);
    if (status == OCLINIT_SUCCESS) status = oi_net_reserve(j->net, samples, samples);
    if (status == OCLINIT_SUCCESS) status = oi_net_write(j->net, &j->net->x, 0, x, samples * inputs);
    if (status == OCLINIT_SUCCESS) status = oi_net_write(j->net, &j->net->y, 0, y, samples);
    free(y);
    free(x);
    j->samples = samples;
    j->options = oclinit_train_options_default();
    return status;
}

int main(int argc, char **argv) {
    int repeat = 5;
    const char *device = NULL;
    static const struct option options[] = {{"repeat", required_argument, NULL, 'r'},
                                            {"device", required_argument, NULL, 'd'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'r') repeat = atoi(optarg);
        else if (c == 'd') device = optarg;
        else {
            printf("Usage: bench_train [--repeat R] [--device D]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    oclinit_runtime_t rt = NULL;
    oclinit_status status = oclinit_runtime_create(device, &rt);
    if (status != OCLINIT_SUCCESS || !oclinit_runtime_get_context(rt)) {
        fprintf(stderr, "bench_train: needs an OpenCL device: %s\n", oclinit_error_detail());
        return 1;
    }
    printf("bench_train: ms per full-batch gradient-descent iteration, ReLU, median of %d runs after a warm-up\n",
           repeat);
    printf("device: %s; host twin: OpenBLAS\n\n", oclinit_runtime_get_device(rt)->name);
    static const struct {
        const char *name;
        size_t inputs, h1, h2, samples, iterations;
    } networks[] = {{"article [2, 10, 5, 1], 300 samples", 2, 10, 5, 300, 500},
                    {"large [512, 1024, 1024, 1], 2048 samples", 512, 1024, 1024, 2048, 3}};
    printf("%-44s %-7s %12s %16s %12s\n", "network", "where", "ms/iteration", "(min, max)", "GFLOP/s");
    for (size_t n = 0; n < 2; n++) {
        /* Multiply-adds of the 8 products: X W1^T, A1 W2^T, A2 W3^T forward; dW3, dA2, dW2, dA1, dW1 backward. */
        double i = (double)networks[n].inputs, a = (double)networks[n].h1, b = (double)networks[n].h2,
               m = (double)networks[n].samples;
        double flops = 2 * m * (i * a + a * b + b) + 2 * m * (b + b + a * b + a * b + a * i);
        for (int on_device = 1; on_device >= 0; on_device--) {
            job j = {.iterations = networks[n].iterations};
            status = prepare(&j, on_device ? rt : NULL, networks[n].inputs, networks[n].h1, networks[n].h2,
                             networks[n].samples);
            timing t = status == OCLINIT_SUCCESS ? bench_measure(iterate, &j, repeat) : (timing){0, 0, 0};
            if (status != OCLINIT_SUCCESS) fprintf(stderr, "bench_train: %s\n", oclinit_error_detail());
            double per = t.median / (double)j.iterations;
            printf("%-44s %-7s %12.3f   (%6.3f, %6.3f) %12.2f\n", networks[n].name, on_device ? "device" : "host",
                   per * 1e3, t.min / (double)j.iterations * 1e3, t.max / (double)j.iterations * 1e3,
                   flops / per / 1e9);
            oclinit_network_free(j.net);
        }
    }
    oclinit_runtime_free(rt);
    return 0;
}
