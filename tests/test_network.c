/* The three-layer network: gradients against central finite differences in double, device against host for
 * every activation and optimizer, the article's experiment on circles, model files (round trip, every bad file,
 * non-finite parameters), divergence (NaN and a cost that grows and stays), non-finite data refused, and the
 * number of kernel launches per iteration that README.md states. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <zlib.h>

#include "helpers.h"

/* ---- Counting every kernel launch, CLBlast's included: this executable's clEnqueueNDRangeKernel comes first. */

static size_t kernel_launches = 0;

CL_API_ENTRY cl_int CL_API_CALL clEnqueueNDRangeKernel(cl_command_queue queue, cl_kernel kernel, cl_uint dims,
                                                       const size_t *offset, const size_t *global, const size_t *local,
                                                       cl_uint waits, const cl_event *wait_list, cl_event *event) {
    static cl_int(CL_API_CALL * real)(cl_command_queue, cl_kernel, cl_uint, const size_t *, const size_t *,
                                      const size_t *, cl_uint, const cl_event *, cl_event *) = NULL;
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "clEnqueueNDRangeKernel");
    kernel_launches++;
    return real(queue, kernel, dims, offset, global, local, waits, wait_list, event);
}

/* bench/README.md, "Training": launches per training iteration (6 of oclinit's kernels and 8 CLBlast SGEMM calls,
 * each one kernel at these sizes). */
#define LAUNCHES_PER_ITERATION 14

static const oclinit_activation activations[] = {OCLINIT_ACTIVATION_RELU, OCLINIT_ACTIVATION_LEAKY_RELU,
                                                 OCLINIT_ACTIVATION_TANH, OCLINIT_ACTIVATION_SIGMOID};

static oclinit_network_t make_network(oclinit_runtime_t rt, size_t inputs, size_t h1, size_t h2,
                                      oclinit_activation activation, oclinit_scheme_kind kind, uint64_t seed) {
    oclinit_network_shape shape = {inputs, h1, h2, activation, 0};
    oclinit_network_t net = NULL;
    assert_ok(oclinit_network_create(rt, &shape, &net));
    oclinit_scheme scheme = oclinit_scheme_default(kind);
    assert_ok(oclinit_network_init(net, &scheme, seed));
    return net;
}

/* Data: inputs ~ N(0, 1), labels from a fixed rule. */
static void make_data(size_t samples, size_t inputs, uint64_t seed, float *x, float *y) {
    oclinit_distribution d = {
        .kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 0, .std = 1, .shape = {2, {(int64_t)samples, (int64_t)inputs}}};
    assert_ok(oclinit_init_fill_host(NULL, &d, seed, 9, 0, samples * inputs, x));
    for (size_t i = 0; i < samples; i++) y[i] = x[i * inputs] * x[i * inputs + 1] > 0 ? 1.0f : 0.0f;
}

/* Gradients after one forward and backward pass over all samples. */
static void gradients(oclinit_network_t net, const float *x, const float *y, size_t samples, float *grads) {
    assert_ok(oi_net_reserve(net, samples, samples));
    assert_ok(oi_net_write(net, &net->x, 0, x, samples * net->shape.inputs));
    assert_ok(oi_net_write(net, &net->y, 0, y, samples));
    assert_ok(oi_net_forward(net, 0, samples));
    assert_ok(oi_net_backward(net, 0, samples, samples, 0, true, 0));
    assert_ok(oi_net_read(net, &net->grads, 0, grads, net->parameter_count));
}

/* The cost in double, from the same parameters, written out plainly: the reference for the gradients. */
static double activation_double(oclinit_activation kind, double z, double slope) {
    switch (kind) {
    case OCLINIT_ACTIVATION_RELU: return z > 0 ? z : 0;
    case OCLINIT_ACTIVATION_LEAKY_RELU: return z > 0 ? z : slope * z;
    case OCLINIT_ACTIVATION_TANH: return tanh(z);
    case OCLINIT_ACTIVATION_SIGMOID: return 1 / (1 + exp(-z));
    }
    return NAN;
}

static double cost_double(const oclinit_network_t net, const double *p, const float *x, const float *y, size_t m) {
    const size_t n = net->shape.inputs, h1 = net->shape.hidden1, h2 = net->shape.hidden2;
    const size_t *o = net->offsets;
    double total = 0, a1[64], a2[64];
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < h1; j++) {
            double z = p[o[OI_NET_B1] + j];
            for (size_t k = 0; k < n; k++) z += p[o[OI_NET_W1] + j * n + k] * x[i * n + k];
            a1[j] = activation_double(net->shape.activation, z, net->shape.negative_slope);
        }
        for (size_t j = 0; j < h2; j++) {
            double z = p[o[OI_NET_B2] + j];
            for (size_t k = 0; k < h1; k++) z += p[o[OI_NET_W2] + j * h1 + k] * a1[k];
            a2[j] = activation_double(net->shape.activation, z, net->shape.negative_slope);
        }
        double z = p[o[OI_NET_B3]];
        for (size_t k = 0; k < h2; k++) z += p[o[OI_NET_W3] + k] * a2[k];
        total += fmax(z, 0) - z * y[i] + log1p(exp(-fabs(z)));
    }
    return total / (double)m;
}

static void gradients_match_finite_differences(void **state) {
    unsigned lanes = test_lanes(state);
    enum { SAMPLES = 13, INPUTS = 3 };
    float x[SAMPLES * INPUTS], y[SAMPLES];
    make_data(SAMPLES, INPUTS, 3, x, y);
    for (size_t a = 0; a < sizeof activations / sizeof activations[0]; a++) {
        oclinit_runtime_t rt = test_device(lanes);
        oclinit_network_t net = make_network(rt, INPUTS, 5, 4, activations[a], OCLINIT_SCHEME_XAVIER_NORMAL, 11);
        size_t count = oclinit_network_get_parameter_count(net);
        float *params = malloc(count * sizeof(float)), *grads = malloc(count * sizeof(float));
        double *p = malloc(count * sizeof(double));
        assert_ok(oclinit_network_get_parameters(net, params));
        const size_t biases[3][2] = {{net->offsets[OI_NET_B1], net->offsets[OI_NET_W2]},
                                     {net->offsets[OI_NET_B2], net->offsets[OI_NET_W3]},
                                     {net->offsets[OI_NET_B3], count}};
        for (int b = 0; b < 3; b++) /* biases away from 0, so they are checked too */
            for (size_t k = biases[b][0]; k < biases[b][1]; k++) params[k] = 0.05f * (float)((k * 7) % 11) - 0.25f;
        assert_ok(oclinit_network_set_parameters(net, params));
        gradients(net, x, y, SAMPLES, grads);
        double worst = 0;
        for (size_t k = 0; k < count; k++) {
            for (size_t i = 0; i < count; i++) p[i] = params[i];
            double h = 1e-5 * fmax(1.0, fabs(p[k]));
            p[k] = params[k] + h;
            double up = cost_double(net, p, x, y, SAMPLES);
            p[k] = params[k] - h;
            double down = cost_double(net, p, x, y, SAMPLES), numeric = (up - down) / (2 * h);
            double error = fabs(grads[k] - numeric) / fmax(1e-3, fabs(numeric));
            if (error > worst) worst = error;
        }
        printf("%-10s worst gradient error %.2g (relative, floor 1e-3)\n", oclinit_activation_str(activations[a]),
               worst);
        assert_true(worst < 2e-3);
        free(p);
        free(grads);
        free(params);
        oclinit_network_free(net);
        oclinit_runtime_free(rt);
    }
}

static void device_gradients_equal_host(void **state) {
    (void)state;
    enum { SAMPLES = 301, INPUTS = 7 };
    static float x[SAMPLES * INPUTS], y[SAMPLES];
    make_data(SAMPLES, INPUTS, 5, x, y);
    oclinit_runtime_t rt = test_device(0);
    for (size_t a = 0; a < sizeof activations / sizeof activations[0]; a++) {
        oclinit_network_t device = make_network(rt, INPUTS, 17, 9, activations[a], OCLINIT_SCHEME_KAIMING_NORMAL, 2);
        oclinit_network_t host = make_network(NULL, INPUTS, 17, 9, activations[a], OCLINIT_SCHEME_KAIMING_NORMAL, 2);
        size_t count = oclinit_network_get_parameter_count(device);
        float *pd = malloc(count * sizeof(float)), *ph = malloc(count * sizeof(float));
        assert_ok(oclinit_network_get_parameters(device, pd));
        assert_ok(oclinit_network_get_parameters(host, ph));
        assert_int_equal(first_difference(pd, ph, count, "initial parameters"), -1); /* same seed, same weights */
        gradients(device, x, y, SAMPLES, pd);
        gradients(host, x, y, SAMPLES, ph);
        double norm = 0, difference = 0;
        for (size_t k = 0; k < count; k++) {
            norm += (double)ph[k] * ph[k];
            difference += ((double)pd[k] - ph[k]) * ((double)pd[k] - ph[k]);
        }
        printf("%-10s |device - host| / |host| = %.2g over %zu gradients\n", oclinit_activation_str(activations[a]),
               sqrt(difference / norm), count);
        assert_true(sqrt(difference / norm) < 1e-5);
        free(ph);
        free(pd);
        oclinit_network_free(host);
        oclinit_network_free(device);
    }
    oclinit_runtime_free(rt);
}

/* A few hundred steps of every optimizer end at the same cost on the device and on the host. */
static void training_on_device_equals_host(void **state) {
    (void)state;
    static float x[600], y[300];
    assert_ok(oclinit_dataset_make(OCLINIT_DATASET_MOONS, 300, 0.1, 4, 100, x, y));
    static const oclinit_optimizer optimizers[] = {OCLINIT_OPTIMIZER_GD, OCLINIT_OPTIMIZER_SGD,
                                                   OCLINIT_OPTIMIZER_MOMENTUM, OCLINIT_OPTIMIZER_ADAM};
    oclinit_runtime_t rt = test_device(0);
    for (size_t k = 0; k < sizeof optimizers / sizeof optimizers[0]; k++) {
        for (size_t a = 0; a < sizeof activations / sizeof activations[0]; a += 2) {
            oclinit_train_options o = oclinit_train_options_default();
            o.optimizer = optimizers[k];
            o.iterations = 300;
            o.learning_rate = optimizers[k] == OCLINIT_OPTIMIZER_ADAM ? 0.01 : 0.1;
            o.batch = 50;
            o.seed = 8;
            o.report_every = 0;
            double cost[2];
            for (int on_device = 0; on_device < 2; on_device++) {
                oclinit_network_t net =
                    make_network(on_device ? rt : NULL, 2, 10, 5, activations[a], OCLINIT_SCHEME_KAIMING_NORMAL, 6);
                oclinit_train_result r;
                assert_ok(oclinit_network_train(net, x, y, 300, &o, &r));
                cost[on_device] = r.cost_end;
                assert_true(r.cost_end < r.cost_start);
                oclinit_network_free(net);
            }
            printf("%-9s %-10s cost after 300 steps: host %.7f, device %.7f\n", oclinit_optimizer_str(optimizers[k]),
                   oclinit_activation_str(activations[a]), cost[0], cost[1]);
            assert_true(fabs(cost[1] - cost[0]) <= 1e-4 * cost[0]);
        }
    }
    oclinit_runtime_free(rt);
}

/* The article's outcome on circles, on the device: zeros stays at 50 %, He learns, too large ends worse. */
static void the_articles_experiment(void **state) {
    (void)state;
    static float x[600], y[300], tx[200], ty[100];
    assert_ok(oclinit_dataset_make(OCLINIT_DATASET_CIRCLES, 300, 0.05, 1, 100, x, y));
    assert_ok(oclinit_dataset_make(OCLINIT_DATASET_CIRCLES, 100, 0.05, 1, 102, tx, ty));
    oclinit_runtime_t rt = test_device(0);
    struct {
        oclinit_scheme_kind kind;
        double scale;
        oclinit_nonlinearity nonlinearity;
        double train, test, cost;
        char warning[300];
    } runs[3] = {{OCLINIT_SCHEME_ZEROS, 0, 0, 0, 0, 0, ""},
                 {OCLINIT_SCHEME_SCALED_NORMAL, 10, 0, 0, 0, 0, ""},
                 {OCLINIT_SCHEME_KAIMING_NORMAL, 0, OCLINIT_NONLINEARITY_RELU, 0, 0, 0, ""}};
    for (int k = 0; k < 3; k++) {
        oclinit_network_shape shape = {2, 10, 5, OCLINIT_ACTIVATION_RELU, 0};
        oclinit_network_t net = NULL;
        assert_ok(oclinit_network_create(rt, &shape, &net));
        oclinit_scheme scheme = oclinit_scheme_default(runs[k].kind);
        scheme.scale = runs[k].scale;
        scheme.nonlinearity = runs[k].nonlinearity;
        assert_ok(oclinit_network_init(net, &scheme, 1));
        oclinit_train_options o = oclinit_train_options_default();
        o.iterations = 15000;
        o.report_every = 0;
        oclinit_train_result r;
        size_t before = kernel_launches;
        assert_ok(oclinit_network_train(net, x, y, 300, &o, &r));
        double launches = (double)(kernel_launches - before) / 15000;
        double test_cost;
        assert_ok(oclinit_network_evaluate(net, tx, ty, 100, &test_cost, &runs[k].test));
        runs[k].train = r.accuracy_end;
        runs[k].cost = r.cost_end;
        bool warned = oclinit_network_diagnose(r.start, runs[k].warning, sizeof runs[k].warning);
        printf("%s: train %.3f, test %.3f, cost %.4f, %.2f kernel launches per iteration%s%s\n",
               oclinit_scheme_kind_str(runs[k].kind), runs[k].train, runs[k].test, runs[k].cost, launches,
               warned ? "; " : "", runs[k].warning);
        /* 15000 training iterations plus two evaluations of the whole set (output kernels only). */
        assert_true(launches >= LAUNCHES_PER_ITERATION && launches < LAUNCHES_PER_ITERATION + 0.01);
        oclinit_network_free(net);
    }
    assert_true(fabs(runs[0].train - 0.5) < 0.02 && fabs(runs[0].test - 0.5) < 0.02);
    assert_non_null(strstr(runs[0].warning, "every weight gradient is 0"));
    assert_true(runs[2].train >= 0.95 && runs[2].test >= 0.90);
    assert_true(runs[2].warning[0] == '\0');
    assert_true(runs[2].train - runs[1].train >= 0.05 && runs[2].cost < runs[1].cost);
    oclinit_runtime_free(rt);
}

static void launches_per_iteration(void **state) {
    (void)state;
    static float x[600], y[300];
    assert_ok(oclinit_dataset_make(OCLINIT_DATASET_CIRCLES, 300, 0.05, 1, 100, x, y));
    oclinit_runtime_t rt = test_device(0);
    oclinit_network_t net = make_network(rt, 2, 10, 5, OCLINIT_ACTIVATION_RELU, OCLINIT_SCHEME_KAIMING_NORMAL, 1);
    assert_ok(oi_net_reserve(net, 300, 300));
    assert_ok(oi_net_write(net, &net->x, 0, x, 600));
    assert_ok(oi_net_write(net, &net->y, 0, y, 300));
    oclinit_train_options o = oclinit_train_options_default();
    size_t before = kernel_launches, counted = net->launches;
    for (size_t t = 0; t < 10; t++) {
        assert_ok(oi_net_forward(net, 0, 300));
        assert_ok(oi_net_backward(net, 0, 300, 300, 0, true, t));
        assert_ok(oi_net_update(net, OCLINIT_OPTIMIZER_GD, &o));
    }
    printf("%zu kernel launches in 10 iterations (oclinit's own count: %zu)\n", kernel_launches - before,
           net->launches - counted);
    assert_int_equal(kernel_launches - before, 10 * LAUNCHES_PER_ITERATION);
    assert_int_equal(net->launches - counted, 10 * LAUNCHES_PER_ITERATION);
    oclinit_network_free(net);
    oclinit_runtime_free(rt);
}

static void divergence_names_the_iteration(void **state) {
    (void)state;
    static float x[600], y[300];
    assert_ok(oclinit_dataset_make(OCLINIT_DATASET_CIRCLES, 300, 0.05, 1, 100, x, y));
    oclinit_runtime_t rt = test_device(0);
    for (int on_device = 0; on_device < 2; on_device++) {
        oclinit_network_shape shape = {2, 10, 5, OCLINIT_ACTIVATION_RELU, 0};
        oclinit_network_t net = NULL;
        assert_ok(oclinit_network_create(on_device ? rt : NULL, &shape, &net));
        oclinit_scheme scheme = oclinit_scheme_default(OCLINIT_SCHEME_SCALED_NORMAL);
        scheme.scale = 1e18;
        assert_ok(oclinit_network_init(net, &scheme, 1));
        oclinit_train_options o = oclinit_train_options_default();
        o.learning_rate = 1e30;
        o.iterations = 50;
        o.report_every = 0;
        assert_int_equal(oclinit_network_train(net, x, y, 300, &o, NULL), OCLINIT_ERROR_DIVERGED);
        printf("%s\n", oclinit_error_get_detail());
        assert_non_null(strstr(oclinit_error_get_detail(), "at iteration"));
        assert_non_null(strstr(oclinit_error_get_detail(), "std 1e+18"));
        assert_non_null(strstr(oclinit_error_get_detail(), "try he-normal"));
        oclinit_network_free(net);
    }
    oclinit_runtime_free(rt);
}

/* A cost that grows over tenfold and stays finite is divergence too (Adam with lr 1e6 on circles: 0.75 to about
 * 5e4); the same run with lr 0.01 is not. */
static void divergence_that_stays_finite(void **state) {
    (void)state;
    static float x[600], y[300];
    assert_ok(oclinit_dataset_make(OCLINIT_DATASET_CIRCLES, 300, 0.05, 1, 100, x, y));
    oclinit_runtime_t rt = test_device(0);
    for (int on_device = 0; on_device < 2; on_device++) {
        for (int large = 1; large >= 0; large--) {
            oclinit_network_t net = make_network(on_device ? rt : NULL, 2, 10, 5, OCLINIT_ACTIVATION_RELU,
                                                 OCLINIT_SCHEME_KAIMING_NORMAL, 1);
            oclinit_train_options o = oclinit_train_options_default();
            o.optimizer = OCLINIT_OPTIMIZER_ADAM;
            o.learning_rate = large ? 1e6 : 0.01;
            o.report_every = 0;
            oclinit_train_result r;
            oclinit_status status = oclinit_network_train(net, x, y, 300, &o, &r);
            printf("lr %g: %s\n", o.learning_rate, status == OCLINIT_SUCCESS ? "trained" : oclinit_error_get_detail());
            if (large) {
                assert_int_equal(status, OCLINIT_ERROR_DIVERGED);
                assert_non_null(strstr(oclinit_error_get_detail(), "the cost on the training set grew from 0.7"));
                assert_non_null(strstr(oclinit_error_get_detail(), "in 1000 iterations (learning rate 1e+06)"));
                assert_non_null(strstr(oclinit_error_get_detail(), "try a smaller --lr"));
            } else {
                assert_ok(status);
                assert_true(r.cost_end < r.cost_start);
            }
            oclinit_network_free(net);
        }
    }
    oclinit_runtime_free(rt);
}

/* NaN or infinity in x is refused before any work, with its row and column; the parameters stay as they were. */
static void non_finite_data_are_refused(void **state) {
    (void)state;
    static float x[600], y[300];
    assert_ok(oclinit_dataset_make(OCLINIT_DATASET_CIRCLES, 300, 0.05, 1, 100, x, y));
    oclinit_runtime_t rt = test_device(0);
    for (int on_device = 0; on_device < 2; on_device++) {
        oclinit_network_t net =
            make_network(on_device ? rt : NULL, 2, 10, 5, OCLINIT_ACTIVATION_RELU, OCLINIT_SCHEME_KAIMING_NORMAL, 1);
        size_t count = oclinit_network_get_parameter_count(net);
        float *before = malloc(count * sizeof(float)), *after = malloc(count * sizeof(float)), probabilities[300];
        assert_ok(oclinit_network_get_parameters(net, before));
        x[5 * 2 + 1] = NAN;
        assert_int_equal(oclinit_network_train(net, x, y, 300, NULL, NULL), OCLINIT_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(oclinit_error_get_detail(), "x at row 6, column 2 is nan"));
        x[5 * 2 + 1] = 0;
        x[299 * 2] = -INFINITY;
        double cost, accuracy;
        assert_int_equal(oclinit_network_evaluate(net, x, y, 300, &cost, &accuracy), OCLINIT_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(oclinit_error_get_detail(), "x at row 300, column 1 is -inf"));
        assert_int_equal(oclinit_network_predict(net, x, 300, probabilities), OCLINIT_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(oclinit_error_get_detail(), "x at row 300, column 1 is -inf"));
        x[299 * 2] = 0;
        assert_ok(oclinit_network_get_parameters(net, after));
        assert_int_equal(first_difference(before, after, count, "parameters"), -1);
        free(after);
        free(before);
        oclinit_network_free(net);
    }
    oclinit_runtime_free(rt);
}

static void bad_arguments(void **state) {
    (void)state;
    oclinit_network_t net = NULL;
    oclinit_network_shape shape = {2, 0, 5, OCLINIT_ACTIVATION_RELU, 0};
    assert_int_equal(oclinit_network_create(NULL, &shape, &net), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "at least one unit"));
    shape.hidden1 = 4;
    assert_ok(oclinit_network_create(NULL, &shape, &net));
    float x[8] = {0}, y[4] = {0, 1, 2, 0};
    oclinit_train_options o = oclinit_train_options_default();
    assert_int_equal(oclinit_network_train(net, x, y, 4, &o, NULL), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "label 3 is 2; labels must be 0 or 1"));
    y[2] = 1;
    o.learning_rate = 0;
    assert_int_equal(oclinit_network_train(net, x, y, 4, &o, NULL), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "learning rate must be a finite number > 0"));
    oclinit_network_free(net);
    /* A network larger than one device buffer: a clear message naming the device. */
    oclinit_runtime_t rt = test_device(0);
    size_t units = (size_t)sqrt((double)oclinit_runtime_get_device(rt)->max_allocation / 4) + 16;
    oclinit_network_shape huge = {2, units, units, OCLINIT_ACTIVATION_RELU, 0};
    assert_int_equal(oclinit_network_create(rt, &huge, &net), OCLINIT_ERROR_OUT_OF_DEVICE_MEMORY);
    assert_non_null(strstr(oclinit_error_get_detail(), oclinit_runtime_get_device(rt)->name));
    oclinit_runtime_free(rt);
}

static void datasets_are_balanced_and_reproducible(void **state) {
    (void)state;
    for (int kind = 0; kind < 3; kind++) {
        float x[402], y[201], x2[402], y2[201];
        assert_ok(oclinit_dataset_make((oclinit_dataset)kind, 201, 0.1, 3, 7, x, y));
        assert_ok(oclinit_dataset_make((oclinit_dataset)kind, 201, 0.1, 3, 7, x2, y2));
        assert_memory_equal(x, x2, sizeof x);
        double ones = 0;
        for (int i = 0; i < 201; i++) ones += y[i];
        assert_true(ones == 101);
        assert_true(y[0] != y[1] || y[1] != y[2] || y[2] != y[3]); /* shuffled */
    }
}

/* ---- Model files ---- */

static void write_bytes(const char *path, const unsigned char *data, size_t size) {
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, size, f);
    fclose(f);
}

static void model_round_trip_and_bad_files(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0);
    oclinit_network_t net = make_network(rt, 3, 6, 4, OCLINIT_ACTIVATION_TANH, OCLINIT_SCHEME_XAVIER_UNIFORM, 4);
    oclinit_table_t table = NULL;
    float data[12] = {1, 2, 3, 2, 4, 1, 5, 0, 2, 3, 3, 3};
    assert_ok(oclinit_table_create(4, 3, data, &table));
    oclinit_normalizer_t normalizer = NULL, loaded_normalizer = NULL;
    assert_ok(oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_ZSCORE, 0, 1, table, &normalizer));
    assert_ok(oclinit_network_save(net, normalizer, "test_network.model"));
    oclinit_network_t loaded = NULL;
    assert_ok(oclinit_network_load(NULL, "test_network.model", &loaded, &loaded_normalizer));
    size_t count = oclinit_network_get_parameter_count(net);
    float *a = malloc(count * sizeof(float)), *b = malloc(count * sizeof(float));
    assert_ok(oclinit_network_get_parameters(net, a));
    assert_ok(oclinit_network_get_parameters(loaded, b));
    assert_int_equal(first_difference(a, b, count, "loaded parameters"), -1);
    assert_int_equal(oclinit_network_get_shape(loaded).activation, OCLINIT_ACTIVATION_TANH);
    assert_non_null(loaded_normalizer);
    oclinit_stats s1 = oclinit_normalizer_get_stats(normalizer, 2),
                  s2 = oclinit_normalizer_get_stats(loaded_normalizer, 2);
    assert_memory_equal(&s1, &s2, sizeof s1);
    float probabilities[2][4];
    assert_ok(oclinit_network_predict(net, data, 4, probabilities[0]));
    assert_ok(oclinit_network_predict(loaded, data, 4, probabilities[1]));
    for (int i = 0; i < 4; i++) assert_true(fabsf(probabilities[0][i] - probabilities[1][i]) < 1e-6f);
    oclinit_network_free(loaded);
    oclinit_normalizer_free(loaded_normalizer);

    char *bytes;
    size_t size;
    assert_ok(oi_read_file("test_network.model", &bytes, &size));
    unsigned char *copy = malloc(size);
    struct {
        const char *what, *message;
        size_t size, offset;
        unsigned char value;
    } cases[] = {
        {"truncated", "truncated", size - 9, size, 0},
        {"truncated header", "truncated", 40, size, 0},
        {"flipped byte", "checksum does not match", size, size / 2, 0x5a},
        {"foreign", "not an oclinit model", size, 0, 'X'},
        {"newer version", "version 7 was written by a newer oclinit", size, 8, 6}, /* 1 ^ 6 */
        {"longer", "longer than its header says", size, size, 0},
        {"empty", "not an oclinit model", 0, size, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(copy, bytes, size);
        if (cases[k].offset < size) copy[cases[k].offset] ^= cases[k].value;
        size_t written = cases[k].size;
        unsigned char *file = copy;
        if (strcmp(cases[k].what, "longer") == 0) {
            file = malloc(size + 3);
            memcpy(file, copy, size);
            memset(file + size, 0, 3);
            written = size + 3;
        }
        write_bytes("test_network_bad.model", file, written);
        if (file != copy) free(file);
        oclinit_network_t bad = NULL;
        oclinit_normalizer_t bad_normalizer = NULL;
        oclinit_status status = oclinit_network_load(rt, "test_network_bad.model", &bad, &bad_normalizer);
        if (status == OCLINIT_SUCCESS || !strstr(oclinit_error_get_detail(), cases[k].message))
            print_error("%s: got %s\n", cases[k].what, oclinit_error_get_detail());
        assert_int_equal(status, OCLINIT_ERROR_BAD_MODEL);
        assert_null(bad);
        assert_null(bad_normalizer);
        assert_non_null(strstr(oclinit_error_get_detail(), cases[k].message));
    }
    remove("test_network_bad.model");
    remove("test_network.model");
    free(copy);
    free(bytes);
    free(b);
    free(a);
    oclinit_normalizer_free(normalizer);
    oclinit_table_free(table);
    oclinit_network_free(net);
    oclinit_runtime_free(rt);
}

static size_t occurrences(const char *text, const char *part) {
    size_t count = 0;
    for (const char *p = strstr(text, part); p; p = strstr(p + 1, part)) count++;
    return count;
}

static uint64_t get_le(const unsigned char *p, int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; i++) value |= (uint64_t)p[i] << (8 * i);
    return value;
}

/* A copy of a model file with one change and a valid CRC-32 (zlib's), as a hand-edited file would have. */
static void write_with_checksum(const char *path, unsigned char *data, size_t size) {
    uint32_t crc = (uint32_t)crc32(0L, data, (uInt)(size - 4));
    for (int i = 0; i < 4; i++) data[size - 4 + i] = (unsigned char)(crc >> (8 * i));
    write_bytes(path, data, size);
}

/* Non-finite parameters are never saved, and a file that has them is refused even with a valid checksum, naming
 * the first one; the messages of a model whose parts cannot be made say their cause once. */
/* Finite but huge weights overflow to inf - inf on ordinary data: predict and evaluate refuse rather than hand out
 * NaN, on the host and on the device. */
static void huge_weights_give_no_nan(void **state) {
    (void)state;
    oclinit_network_shape shape = {2, 4, 4, OCLINIT_ACTIVATION_RELU, 0};
    float x[4] = {0.5f, 0.25f, 1.0f, 2.0f}, y[2] = {0, 1}, p[2];
    for (int on_device = 0; on_device < 2; on_device++) {
        oclinit_runtime_t rt = on_device ? test_device(0) : NULL;
        oclinit_network_t net;
        assert_ok(oclinit_network_create(rt, &shape, &net));
        size_t count = oclinit_network_get_parameter_count(net);
        float *params = malloc(count * sizeof *params);
        assert_non_null(params);
        for (size_t k = 0; k < count; k++) params[k] = k % 2 ? 1e35f : -1e35f;
        assert_ok(oclinit_network_set_parameters(net, params));
        assert_int_equal(oclinit_network_predict(net, x, 2, p), OCLINIT_ERROR_BAD_MODEL);
        assert_non_null(strstr(oclinit_error_get_detail(), "too large for float32"));
        double cost, accuracy;
        assert_int_equal(oclinit_network_evaluate(net, x, y, 2, &cost, &accuracy), OCLINIT_ERROR_BAD_MODEL);
        free(params);
        oclinit_network_free(net);
        oclinit_runtime_free(rt);
    }
}

static void models_with_non_finite_parameters(void **state) {
    (void)state;
    oclinit_network_t net = make_network(NULL, 3, 4, 2, OCLINIT_ACTIVATION_RELU, OCLINIT_SCHEME_KAIMING_NORMAL, 2);
    float data[6] = {1, 2, 3, 2, 4, 1};
    oclinit_table_t table = NULL;
    oclinit_normalizer_t normalizer = NULL;
    assert_ok(oclinit_table_create(2, 3, data, &table));
    assert_ok(oclinit_normalizer_fit(NULL, OCLINIT_NORMALIZE_ZSCORE, 0, 1, table, &normalizer));
    size_t count = oclinit_network_get_parameter_count(net); /* W1 12, b1 4, W2 8, b2 2, W3 2, b3 1 */
    float *params = malloc(count * sizeof(float));
    assert_ok(oclinit_network_get_parameters(net, params));
    float saved = params[16 + 5];
    params[16 + 5] = INFINITY; /* W2 row 2, column 2 */
    assert_int_equal(oclinit_network_set_parameters(net, params), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "parameter 22 of 29 is inf"));
    net->params.host[16 + 5] = INFINITY; /* as a diverged training leaves it (the host network's own buffer) */
    remove("test_network_nan.model");
    assert_int_equal(oclinit_network_save(net, normalizer, "test_network_nan.model"), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "parameter 22 of 29 (W2 row 2, column 2) is inf"));
    assert_non_null(strstr(oclinit_error_get_detail(), "not saved"));
    assert_null(fopen("test_network_nan.model", "rb"));
    params[16 + 5] = saved;
    assert_ok(oclinit_network_set_parameters(net, params));
    assert_ok(oclinit_network_save(net, normalizer, "test_network_nan.model"));

    char *bytes;
    size_t size;
    assert_ok(oi_read_file("test_network_nan.model", &bytes, &size));
    unsigned char *copy = malloc(size);
    size_t text = 60, first_parameter = text + get_le((unsigned char *)bytes + 52, 8);
    static const struct {
        size_t parameter;
        float value;
        const char *message;
    } cases[] = {
        {4, NAN, "parameter 5 of 29 (W1 row 2, column 2) is nan"},
        {28, -INFINITY, "parameter 29 of 29 (b3 entry 1) is -inf"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(copy, bytes, size);
        uint32_t u;
        memcpy(&u, &cases[k].value, 4);
        for (int i = 0; i < 4; i++) copy[first_parameter + 4 * cases[k].parameter + i] = (unsigned char)(u >> (8 * i));
        write_with_checksum("test_network_bad.model", copy, size);
        oclinit_network_t bad = NULL;
        oclinit_normalizer_t bad_normalizer = NULL;
        assert_int_equal(oclinit_network_load(NULL, "test_network_bad.model", &bad, &bad_normalizer),
                         OCLINIT_ERROR_BAD_MODEL);
        printf("%s\n", oclinit_error_get_detail());
        assert_non_null(strstr(oclinit_error_get_detail(), cases[k].message));
        assert_null(bad);
        assert_null(bad_normalizer);
    }
    /* Statistics that do not parse, and a shape that cannot be made: the cause once, after the file's name. */
    memcpy(copy, bytes, size);
    char *method = strstr((char *)copy + text, "method zscore");
    assert_non_null(method);
    method[12] = 'X'; /* zscorX */
    write_with_checksum("test_network_bad.model", copy, size);
    oclinit_network_t bad = NULL;
    oclinit_normalizer_t bad_normalizer = NULL;
    assert_int_equal(oclinit_network_load(NULL, "test_network_bad.model", &bad, &bad_normalizer),
                     OCLINIT_ERROR_BAD_MODEL);
    printf("%s\n", oclinit_error_get_detail());
    assert_int_equal(occurrences(oclinit_error_get_detail(), "its normalization statistics are invalid"), 1);
    assert_int_equal(occurrences(oclinit_error_get_detail(), "is not valid statistics"), 1);
    memcpy(copy, bytes, size);
    memset(copy + 20, 0, 8); /* hidden1 = 0 */
    write_with_checksum("test_network_bad.model", copy, size);
    assert_int_equal(oclinit_network_load(NULL, "test_network_bad.model", &bad, &bad_normalizer),
                     OCLINIT_ERROR_BAD_MODEL);
    printf("%s\n", oclinit_error_get_detail());
    assert_int_equal(occurrences(oclinit_error_get_detail(), "its network cannot be made"), 1);
    assert_int_equal(occurrences(oclinit_error_get_detail(), "at least one unit"), 1);
    remove("test_network_bad.model");
    remove("test_network_nan.model");
    free(copy);
    free(bytes);
    free(params);
    oclinit_normalizer_free(normalizer);
    oclinit_table_free(table);
    oclinit_network_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        DEVICE_LANES_TESTS(gradients_match_finite_differences),
        cmocka_unit_test(device_gradients_equal_host),
        cmocka_unit_test(training_on_device_equals_host),
        cmocka_unit_test(launches_per_iteration),
        cmocka_unit_test(the_articles_experiment),
        cmocka_unit_test(divergence_names_the_iteration),
        cmocka_unit_test(divergence_that_stays_finite),
        cmocka_unit_test(non_finite_data_are_refused),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(datasets_are_balanced_and_reproducible),
        cmocka_unit_test(model_round_trip_and_bad_files),
        cmocka_unit_test(models_with_non_finite_parameters),
        cmocka_unit_test(huge_weights_give_no_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
