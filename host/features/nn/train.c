/* Training the network: batches and per-epoch shuffles, the optimizer steps, diagnostics at chosen
 * iterations, divergence detection, and evaluation and prediction over a data set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "features/features.h"
#include "philox.h"

/* Streams of the per-epoch shuffles: 2^32 + epoch, apart from the layers' streams 1, 2, 3. */
#define SHUFFLE_STREAM ((uint64_t)1 << 32)
/* Largest batch used to evaluate or predict. */
#define EVALUATION_BATCH 8192

oclinit_train_options oclinit_train_options_default(void) {
    oclinit_train_options o;
    memset(&o, 0, sizeof o);
    o.optimizer = OCLINIT_OPTIMIZER_GD;
    o.learning_rate = 0.01;
    o.iterations = 1000;
    o.batch = 64;
    o.momentum = 0.9;
    o.beta1 = 0.9;
    o.beta2 = 0.999;
    o.epsilon = 1e-8;
    o.report_every = 100;
    return o;
}

bool oclinit_network_diagnose(const oclinit_layer_report layers[3], char *text, size_t size) {
    OI_REQUIRE_OR(text || size == 0, "text", false);
    if (size) text[0] = '\0';
    OI_REQUIRE_OR(layers, "layers", false);
    double first = layers[0].gradient_norm, last = layers[2].gradient_norm;
    if (first == 0 && last == 0) {
        snprintf(text, size,
                 "every weight gradient is 0: the units of a layer all start the same (zeros init?) "
                 "or are all inactive, and the network cannot learn");
        return true;
    }
    if (first == 0 || (last > 0 && first / last < 1e-3)) {
        snprintf(text, size,
                 "gradients vanish: layer 1's gradient norm is %.3g, %.3g times layer 3's (%.3g); the first "
                 "layer will hardly learn",
                 first, last > 0 ? first / last : 0.0, last);
        return true;
    }
    if (last < 1e-4) {
        snprintf(text, size,
                 "gradients are tiny in every layer (layer 3's norm is %.3g, layer 1's %.3g): the weights "
                 "are probably too small, and learning will crawl",
                 last, first);
        return true;
    }
    if (last == 0 || first / last > 1e3) {
        snprintf(text, size, "gradients explode: layer 1's gradient norm is %.3g, %.3g times layer 3's (%.3g)", first,
                 last > 0 ? first / last : INFINITY, last);
        return true;
    }
    return false;
}

/* ---- Diagnostics -------------------------------------------------------------------------------------------- */

/* Activation statistics of m rows of units; inactive: units never positive (relu) or saturated entries. */
static void describe_activations(const float *a, size_t m, size_t units, int activation, bool probabilities,
                                 oclinit_layer_report *r) {
    double sum = 0, squares = 0;
    size_t inactive = 0;
    bool per_unit =
        !probabilities && (activation == OCLINIT_ACTIVATION_RELU || activation == OCLINIT_ACTIVATION_LEAKY_RELU);
    for (size_t j = 0; j < units; j++) {
        bool ever_active = false;
        for (size_t i = 0; i < m; i++) {
            float v = a[i * units + j];
            sum += v;
            squares += (double)v * v;
            ever_active |= v > 0;
            if (!per_unit) {
                bool tanh_like = !probabilities && activation == OCLINIT_ACTIVATION_TANH;
                inactive += tanh_like ? fabsf(v) > 0.99f : (v < 0.01f || v > 0.99f);
            }
        }
        if (per_unit) inactive += !ever_active;
    }
    double count = (double)m * (double)units;
    r->activation_mean = sum / count;
    r->activation_std = sqrt(fmax(squares / count - r->activation_mean * r->activation_mean, 0.0));
    r->inactive_share = (double)inactive / (per_unit ? (double)units : count);
}

/* After oi_net_forward on m rows: the activations of the three layers. */
static oclinit_status diagnose_forward(oclinit_network_t net, size_t m, oclinit_layer_report layers[3]) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t h1 = net->shape.hidden1, h2 = net->shape.hidden2, largest = m * (h1 > h2 ? h1 : h2);
    float *a = malloc(largest * sizeof(float)), bias;
    if (!a) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating diagnostics");
    OI_CHECK(oi_net_read(net, &net->a1, 0, a, m * h1));
    describe_activations(a, m, h1, (int)net->shape.activation, false, &layers[0]);
    OI_CHECK(oi_net_read(net, &net->a2, 0, a, m * h2));
    describe_activations(a, m, h2, (int)net->shape.activation, false, &layers[1]);
    OI_CHECK(oi_net_read(net, &net->z3, 0, a, m));
    OI_CHECK(oi_net_read(net, &net->params, net->offsets[OI_NET_B3], &bias, 1));
    for (size_t i = 0; i < m; i++) a[i] = 1.0f / (1.0f + expf(-(a[i] + bias)));
    describe_activations(a, m, 1, (int)net->shape.activation, true, &layers[2]);
cleanup:
    free(a);
    return status;
}

/* After oi_net_backward: the norms of the three weight gradients. */
static oclinit_status diagnose_gradients(oclinit_network_t net, oclinit_layer_report layers[3]) {
    float *g = malloc(net->parameter_count * sizeof(float));
    if (!g) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating diagnostics");
    oclinit_status status = oi_net_read(net, &net->grads, 0, g, net->parameter_count);
    for (int layer = 0; layer < 3 && status == OCLINIT_SUCCESS; layer++) {
        double squares = 0;
        for (size_t k = net->offsets[2 * layer]; k < net->offsets[2 * layer + 1]; k++) squares += (double)g[k] * g[k];
        layers[layer].gradient_norm = sqrt(squares);
    }
    free(g);
    return status;
}

/* ---- Training ----------------------------------------------------------------------------------------------- */

/* Training stops with OCLINIT_ERROR_DIVERGED when the cost is no longer finite, or when the final cost on the
 * whole training set is over DIVERGED_FACTOR times the starting one and over it by more than DIVERGED_MARGIN
 * (so that tiny costs moving a little do not count): a cost that grew that much and stayed is divergence too. */
#define DIVERGED_FACTOR 10.0
#define DIVERGED_MARGIN 1.0

/* what: how the cost went wrong ("the cost became NaN at iteration 12"); then the likely cause. */
static oclinit_status diverged(oclinit_network_t net, const char *what, double learning_rate) {
    const char *advice = net->init_std[0] > 1 || net->init_std[1] > 1 || net->init_std[2] > 1
                             ? "weights that large saturate the units and make the gradients explode: try he-normal or "
                               "xavier-normal (a smaller init scale), or a smaller --lr"
                         : learning_rate > 0.5
                             ? "the learning rate overshoots: try a smaller --lr"
                             : "try a smaller --lr, a smaller init scale, or normalized inputs (--normalize zscore)";
    return oi_fail(OCLINIT_ERROR_DIVERGED,
                   "%s (learning rate %g). The weights started with std %.3g, %.3g, %.3g (%s); %s", what, learning_rate,
                   net->init_std[0], net->init_std[1], net->init_std[2], oclinit_scheme_kind_str(net->init_scheme),
                   advice);
}

static oclinit_status not_finite(oclinit_network_t net, size_t iteration, double cost, double learning_rate) {
    char what[96];
    snprintf(what, sizeof what, "the cost became %s at iteration %zu", isnan(cost) ? "NaN" : "infinite", iteration);
    return diverged(net, what, learning_rate);
}

/* Row-wise Fisher-Yates shuffle of (x, y) for one epoch, with Philox words of (seed, SHUFFLE_STREAM + epoch). */
static void shuffle_rows(float *x, float *y, size_t samples, size_t inputs, uint64_t seed, uint64_t epoch, float *row) {
    for (size_t i = samples - 1; i > 0; i--) {
        oi_philox_words w = oi_philox_block(seed, SHUFFLE_STREAM + epoch, i / 4);
        size_t j = (size_t)(((uint64_t)w.w[i % 4] * (uint64_t)(i + 1)) >> 32);
        memcpy(row, x + i * inputs, inputs * sizeof(float));
        memcpy(x + i * inputs, x + j * inputs, inputs * sizeof(float));
        memcpy(x + j * inputs, row, inputs * sizeof(float));
        float label = y[i];
        y[i] = y[j];
        y[j] = label;
    }
}

/* Cost and accuracy of the uploaded data's first samples rows, in batches that fit the work buffers. */
static oclinit_status evaluate_uploaded(oclinit_network_t net, size_t samples, double *cost, double *accuracy) {
    oclinit_status status = OCLINIT_SUCCESS;
    double cost_sum = 0, correct = 0;
    for (size_t first = 0; first < samples; first += net->batch_capacity) {
        size_t m = samples - first < net->batch_capacity ? samples - first : net->batch_capacity;
        float result[2];
        OI_CHECK(oi_net_forward(net, first, m));
        OI_CHECK(oi_net_loss(net, first, m, 0));
        OI_CHECK(oi_net_read(net, &net->result, 0, result, 2));
        cost_sum += (double)result[0] * (double)m;
        correct += (double)result[1] * (double)m;
    }
    *cost = cost_sum / (double)samples;
    *accuracy = correct / (double)samples;
cleanup:
    return status;
}

static oclinit_status check_data(const char *function, oclinit_network_t net, const float *x, const float *y,
                                 size_t samples) {
    if (!net) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: network is NULL", function);
    if (!x) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: x is NULL", function);
    if (samples == 0) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "there are no samples");
    for (size_t i = 0; y && i < samples; i++)
        if (y[i] != 0.0f && y[i] != 1.0f)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "label %zu is %g; labels must be 0 or 1", i + 1, y[i]);
    size_t inputs = net->shape.inputs, bytes;
    oclinit_status status = oi_size_bytes("the samples' inputs", samples, inputs, sizeof(float), &bytes);
    if (status != OCLINIT_SUCCESS) return status;
    /* One NaN would spread through every parameter in one step, and an infinity soon after. */
    for (size_t i = 0; i < samples * inputs; i++)
        if (!isfinite(x[i]))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "x at row %zu, column %zu is %g; the data must be finite",
                           i / inputs + 1, i % inputs + 1, x[i]);
    return OCLINIT_SUCCESS;
}

oclinit_status oclinit_network_train(oclinit_network_t net, const float *x, const float *y, size_t samples,
                                     const oclinit_train_options *options, oclinit_train_result *result) {
    oclinit_status status = OCLINIT_SUCCESS;
    float *shuffled_x = NULL, *shuffled_y = NULL, *row = NULL;
    oclinit_train_result r;
    memset(&r, 0, sizeof r);
    double start = oi_clock_seconds();
    OI_CHECK(check_data(__func__, net, x, y, samples));
    OI_REQUIRE(y, "y");
    const oclinit_train_options o = options ? *options : oclinit_train_options_default();
    if (!(o.learning_rate > 0) || !isfinite(o.learning_rate))
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the learning rate must be a finite number > 0, got %g",
                       o.learning_rate);
    if ((unsigned)o.optimizer > OCLINIT_OPTIMIZER_ADAM)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown optimizer %d", (int)o.optimizer);
    bool full_batch = o.optimizer == OCLINIT_OPTIMIZER_GD;
    size_t batch = full_batch ? samples : (o.batch ? o.batch : 64);
    if (batch > samples) batch = samples;
    size_t inputs = net->shape.inputs, batches = (samples + batch - 1) / batch;

    OI_CHECK(oi_net_reserve(
        net, samples, batch > EVALUATION_BATCH ? batch : (samples < EVALUATION_BATCH ? samples : EVALUATION_BATCH)));
    if (full_batch) {
        OI_CHECK(oi_net_write(net, &net->x, 0, x, samples * inputs));
        OI_CHECK(oi_net_write(net, &net->y, 0, y, samples));
    } else {
        shuffled_x = malloc(samples * inputs * sizeof(float));
        shuffled_y = malloc(samples * sizeof(float));
        row = malloc(inputs * sizeof(float));
        if (!shuffled_x || !shuffled_y || !row) {
            status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "copying %zu samples for shuffling", samples);
            goto cleanup;
        }
        memcpy(shuffled_x, x, samples * inputs * sizeof(float));
        memcpy(shuffled_y, y, samples * sizeof(float));
        OI_CHECK(oi_net_write(net, &net->x, 0, x, samples * inputs));
        OI_CHECK(oi_net_write(net, &net->y, 0, y, samples));
    }
    double accuracy;
    OI_CHECK(evaluate_uploaded(net, samples, &r.cost_start, &accuracy));
    const float fresh[4] = {0, 0, -1, 0};
    OI_CHECK(oi_net_write(net, &net->result, 0, fresh, 4));

    for (size_t t = 0; t < o.iterations; t++) {
        size_t b = t % batches;
        if (!full_batch && b == 0) {
            shuffle_rows(shuffled_x, shuffled_y, samples, inputs, o.seed, t / batches, row);
            OI_CHECK(oi_net_write(net, &net->x, 0, shuffled_x, samples * inputs));
            OI_CHECK(oi_net_write(net, &net->y, 0, shuffled_y, samples));
        }
        size_t first = b * batch, m = samples - first < batch ? samples - first : batch;
        bool diagnose = t == 0 || (o.diagnose_every && t % o.diagnose_every == 0);
        bool report = diagnose || (o.report_every && (t % o.report_every == 0 || t + 1 == o.iterations));
        oclinit_train_report rep;
        memset(&rep, 0, sizeof rep);
        rep.iteration = t;
        rep.diagnosed = diagnose;
        OI_CHECK(oi_net_forward(net, first, m));
        if (diagnose) OI_CHECK(diagnose_forward(net, m, rep.layers));
        OI_CHECK(oi_net_backward(net, first, m, t));
        if (diagnose) OI_CHECK(diagnose_gradients(net, rep.layers));
        if (t == 0) memcpy(r.start, rep.layers, sizeof r.start);
        if (report) {
            float values[3];
            OI_CHECK(oi_net_read(net, &net->result, 0, values, 3));
            if (values[2] >= 0) {
                status = not_finite(net, (size_t)values[2], values[0], o.learning_rate);
                goto cleanup;
            }
            rep.cost = values[0];
            rep.accuracy = values[1];
            oclinit_progress progress = {.done = t + 1, .total = o.iterations, .train = &rep};
            if (o.progress && o.progress(o.user, &progress) != 0) {
                status = oi_fail(OCLINIT_ERROR_CANCELLED, "training was stopped at iteration %zu", t);
                goto cleanup;
            }
        }
        OI_CHECK(oi_net_update(net, o.optimizer, &o));
        r.iterations = t + 1;
        if (t % 128 == 127) OI_CHECK(net->backend->finish(net)); /* keep the queue short */
    }
    float values[3];
    OI_CHECK(oi_net_read(net, &net->result, 0, values, 3));
    if (values[2] >= 0) {
        status = not_finite(net, (size_t)values[2], values[0], o.learning_rate);
        goto cleanup;
    }
    OI_CHECK(evaluate_uploaded(net, samples, &r.cost_end, &r.accuracy_end));
    if (!isfinite(r.cost_end)) {
        status = not_finite(net, r.iterations, r.cost_end, o.learning_rate);
        goto cleanup;
    }
    if (r.cost_end > DIVERGED_FACTOR * r.cost_start && r.cost_end > r.cost_start + DIVERGED_MARGIN) {
        char what[160];
        snprintf(what, sizeof what, "the cost on the training set grew from %.4g to %.4g in %zu iterations",
                 r.cost_start, r.cost_end, r.iterations);
        status = diverged(net, what, o.learning_rate);
        goto cleanup;
    }
    r.seconds = oi_clock_seconds() - start;
    if (result) *result = r;
cleanup:
    free(row);
    free(shuffled_y);
    free(shuffled_x);
    return status;
}

/* ---- Evaluating and predicting ----------------------------------------------------------------------------- */

oclinit_status oclinit_network_evaluate(oclinit_network_t net, const float *x, const float *y, size_t samples,
                                        double *cost, double *accuracy) {
    oclinit_status status = check_data(__func__, net, x, y, samples);
    if (status != OCLINIT_SUCCESS) return status;
    OI_REQUIRE(y, "y");
    OI_REQUIRE(cost, "cost");
    OI_REQUIRE(accuracy, "accuracy");
    OI_CHECK(oi_net_reserve(net, samples, samples < EVALUATION_BATCH ? samples : EVALUATION_BATCH));
    OI_CHECK(oi_net_write(net, &net->x, 0, x, samples * net->shape.inputs));
    OI_CHECK(oi_net_write(net, &net->y, 0, y, samples));
    OI_CHECK(evaluate_uploaded(net, samples, cost, accuracy));
    if (isnan(*cost))
        status = oi_fail(OCLINIT_ERROR_BAD_MODEL,
                         "the network's cost on these %zu rows is not a number: its weights are too large for float32 "
                         "on this input",
                         samples);
cleanup:
    return status;
}

oclinit_status oclinit_network_predict(oclinit_network_t net, const float *x, size_t samples, float *probabilities) {
    oclinit_status status = check_data(__func__, net, x, NULL, samples);
    if (status != OCLINIT_SUCCESS) return status;
    OI_REQUIRE(probabilities, "probabilities");
    OI_CHECK(oi_net_reserve(net, samples, samples < EVALUATION_BATCH ? samples : EVALUATION_BATCH));
    OI_CHECK(oi_net_write(net, &net->x, 0, x, samples * net->shape.inputs));
    for (size_t first = 0; first < samples; first += net->batch_capacity) {
        size_t m = samples - first < net->batch_capacity ? samples - first : net->batch_capacity;
        OI_CHECK(oi_net_forward(net, first, m));
        OI_CHECK(oi_net_probabilities(net, m, probabilities + first));
    }
    /* Finite data through finite but huge weights can still overflow to inf - inf: never hand out a NaN. */
    for (size_t i = 0; i < samples; i++)
        if (isnan(probabilities[i])) {
            status = oi_fail(OCLINIT_ERROR_BAD_MODEL,
                             "the network's output for row %zu is not a number: its weights are too large for "
                             "float32 on this input",
                             i + 1);
            goto cleanup;
        }
cleanup:
    return status;
}
