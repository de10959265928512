/* Training the network: batches and per-epoch shuffles, the optimizer steps, diagnostics at chosen
 * iterations, divergence detection, and evaluation and prediction over a data set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist/dist.h"
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
        OI_CHECK(net->backend->output_loss(net, first, m, m, 0, &net->result, 0, false, 0));
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

/* Micro-batches of a batch of m rows: the option, else one per OCLINIT_MICRO_BATCH_ROWS rows up to MICRO_BATCHES_MOST;
 * never more than its rows. Micro-batch k is rows [k m / count, (k + 1) m / count) of the batch. */
#define MICRO_BATCHES_MOST 64

size_t oi_train_micro_batches(const oclinit_train_options *o, size_t m) {
    size_t count = o->micro_batches ? o->micro_batches : m / OCLINIT_MICRO_BATCH_ROWS;
    if (!o->micro_batches && count > MICRO_BATCHES_MOST) count = MICRO_BATCHES_MOST;
    if (count < 1) count = 1;
    return count < m ? count : m;
}

static size_t micro_first(size_t k, size_t m, size_t count) {
    return (size_t)((uint64_t)k * m / count);
}

/* Where the batch's gradients are summed: the subtrees of the tree that lie inside this process's micro-batches, and
 * on more than one rank the exchange that does the rest (reduce.c). */
typedef struct gradient_sum {
    oi_tree_node nodes[128]; /* this process's subtrees */
    size_t node_count;
    float *values, *sum; /* on more than one rank: the subtrees' values and the batch's sum, on the host */
} gradient_sum;

static oclinit_status gradient_sum_reserve(gradient_sum *g, oclinit_network_t net, size_t most) {
    size_t stride = OI_NET_STRIDE(net);
    if (!oi_dist_active()) return OCLINIT_SUCCESS;
    /* A range of leaves is covered by at most two subtrees per level. */
    g->values = malloc((2 * (size_t)oi_tree_levels(most) + 2) * stride * sizeof(float));
    g->sum = malloc(stride * sizeof(float));
    return g->values && g->sum ? OCLINIT_SUCCESS
                               : oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating the gradients' sum");
}

static void gradient_sum_free(gradient_sum *g) {
    free(g->sum);
    free(g->values);
}

/* This process's part of iteration t on the batch's m rows at first: its micro-batches' forward and backward passes,
 * each into the slot on top of a stack of partial sums, and the additions of its subtrees as their leaves complete
 * them (levels + 1 slots, whatever the count); on more than one rank each subtree's value is read back for the
 * exchange. */
static oclinit_status local_gradients(oclinit_network_t net, gradient_sum *g, size_t first, size_t m, size_t count,
                                      size_t t) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t stride = OI_NET_STRIDE(net);
    uint64_t mine = 0, end = count;
    if (oi_dist_active()) oi_dist_range(count, 1, oi_dist_rank(), oi_dist_size(), &mine, &end);
    g->node_count = oi_dist_active() ? oi_tree_cover(mine, end, g->nodes) : 1;
    if (!oi_dist_active()) g->nodes[0] = (oi_tree_node){oi_tree_levels(count), 0};
    bool whole = count == 1 && !oi_dist_active();
    for (size_t n = 0; n < g->node_count; n++) {
        size_t depth = 0;
        uint64_t leaf = g->nodes[n].index << g->nodes[n].level, last = leaf + ((uint64_t)1 << g->nodes[n].level);
        for (; leaf < last && leaf < count; leaf++) {
            size_t begin = micro_first(leaf, m, count), rows = micro_first(leaf + 1, m, count) - begin;
            OI_CHECK(oi_net_forward(net, first + begin, rows));
            OI_CHECK(oi_net_backward(net, first + begin, rows, m, depth++, whole, t));
            for (size_t merges = oi_tree_merges(count, g->nodes[n], leaf, depth); merges > 0; merges--, depth--)
                OI_CHECK(net->backend->add(net, (depth - 2) * stride, (depth - 1) * stride, stride));
        }
        if (oi_dist_active()) OI_CHECK(oi_net_read(net, &net->grads, 0, g->values + n * stride, stride));
    }
cleanup:
    return status;
}

/* Collective: the batch's sum into slot 0 on every rank (on one process it is there already), and the result of
 * iteration t. */
static oclinit_status finish_gradients(oclinit_network_t net, gradient_sum *g, size_t count, size_t t) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t stride = OI_NET_STRIDE(net);
    if (oi_dist_active()) {
        OI_CHECK(oi_dist_tree_sum(count, g->values, stride, stride, g->sum));
        OI_CHECK(oi_net_write(net, &net->grads, 0, g->sum, stride));
    }
    if (count > 1 || oi_dist_active()) OI_CHECK(net->backend->result(net, t));
cleanup:
    return status;
}

/* After the last iteration: no cost went non-finite, and the cost on the whole training set did not grow too much. */
static oclinit_status final_checks(oclinit_network_t net, const oclinit_train_options *o, size_t samples,
                                   oclinit_train_result *r) {
    oclinit_status status = OCLINIT_SUCCESS;
    float values[3];
    OI_CHECK(oi_net_read(net, &net->result, 0, values, 3));
    if (values[2] >= 0) return not_finite(net, (size_t)values[2], values[0], o->learning_rate);
    OI_CHECK(evaluate_uploaded(net, samples, &r->cost_end, &r->accuracy_end));
    if (!isfinite(r->cost_end)) return not_finite(net, r->iterations, r->cost_end, o->learning_rate);
    if (r->cost_end > DIVERGED_FACTOR * r->cost_start && r->cost_end > r->cost_start + DIVERGED_MARGIN) {
        char what[160];
        snprintf(what, sizeof what, "the cost on the training set grew from %.4g to %.4g in %zu iterations",
                 r->cost_start, r->cost_end, r->iterations);
        return diverged(net, what, o->learning_rate);
    }
cleanup:
    return status;
}

oclinit_status oclinit_network_train(oclinit_network_t net, const float *x, const float *y, size_t samples,
                                     const oclinit_train_options *options, oclinit_train_result *result) {
    oclinit_status status = OCLINIT_SUCCESS;
    float *shuffled_x = NULL, *shuffled_y = NULL, *row = NULL;
    gradient_sum sums;
    memset(&sums, 0, sizeof sums);
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
    /* The most micro-batches of any batch (the last may be shorter), and the stack of partial sums they need. */
    size_t most = oi_train_micro_batches(&o, batch), slots = oi_tree_levels(most) + 1;

    /* Set-up that one rank alone may fail (memory, the device): agreed before the first collective step. */
    status = oi_net_reserve(
        net, samples, batch > EVALUATION_BATCH ? batch : (samples < EVALUATION_BATCH ? samples : EVALUATION_BATCH));
    if (status == OCLINIT_SUCCESS) status = oi_net_reserve_slots(net, slots);
    if (status == OCLINIT_SUCCESS) status = gradient_sum_reserve(&sums, net, most);
    if (status == OCLINIT_SUCCESS && !full_batch) {
        shuffled_x = malloc(samples * inputs * sizeof(float));
        shuffled_y = malloc(samples * sizeof(float));
        row = malloc(inputs * sizeof(float));
        if (!shuffled_x || !shuffled_y || !row)
            status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "copying %zu samples for shuffling", samples);
        else
            memcpy(shuffled_x, x, samples * inputs * sizeof(float)), memcpy(shuffled_y, y, samples * sizeof(float));
    }
    if (status == OCLINIT_SUCCESS) status = oi_net_write(net, &net->x, 0, x, samples * inputs);
    if (status == OCLINIT_SUCCESS) status = oi_net_write(net, &net->y, 0, y, samples);
    double accuracy;
    if (status == OCLINIT_SUCCESS) status = evaluate_uploaded(net, samples, &r.cost_start, &accuracy);
    const float fresh[4] = {0, 0, -1, 0};
    if (status == OCLINIT_SUCCESS) status = oi_net_write(net, &net->result, 0, fresh, 4);

    /* Each iteration meets the other ranks once before its exchange (oi_dist_status): whatever failed on one rank
     * since, a cancel included, stops every rank there. */
    for (size_t t = 0; t < o.iterations; t++) {
        size_t b = t % batches;
        size_t first = b * batch, m = samples - first < batch ? samples - first : batch,
               count = oi_train_micro_batches(&o, m);
        bool diagnose = t == 0 || (o.diagnose_every && t % o.diagnose_every == 0);
        bool report = diagnose || (o.report_every && (t % o.report_every == 0 || t + 1 == o.iterations));
        oclinit_train_report rep;
        memset(&rep, 0, sizeof rep);
        rep.iteration = t;
        rep.diagnosed = diagnose;
        if (status == OCLINIT_SUCCESS && !full_batch && b == 0) {
            shuffle_rows(shuffled_x, shuffled_y, samples, inputs, o.seed, t / batches, row);
            status = oi_net_write(net, &net->x, 0, shuffled_x, samples * inputs);
            if (status == OCLINIT_SUCCESS) status = oi_net_write(net, &net->y, 0, shuffled_y, samples);
        }
        if (status == OCLINIT_SUCCESS && diagnose) {
            status = oi_net_forward(net, first, m);
            if (status == OCLINIT_SUCCESS) status = diagnose_forward(net, m, rep.layers);
        }
        if (status == OCLINIT_SUCCESS) status = local_gradients(net, &sums, first, m, count, t);
        OI_CHECK(oi_dist_status(status));
        status = finish_gradients(net, &sums, count, t);
        if (status == OCLINIT_SUCCESS && diagnose) status = diagnose_gradients(net, rep.layers);
        if (t == 0) memcpy(r.start, rep.layers, sizeof r.start);
        if (status == OCLINIT_SUCCESS && report) {
            float values[3];
            status = oi_net_read(net, &net->result, 0, values, 3);
            /* The same values on every rank: all stop at the next agreement. */
            if (status == OCLINIT_SUCCESS && values[2] >= 0)
                status = not_finite(net, (size_t)values[2], values[0], o.learning_rate);
            rep.cost = values[0];
            rep.accuracy = values[1];
            oclinit_progress progress = {.done = t + 1, .total = o.iterations, .train = &rep};
            if (status == OCLINIT_SUCCESS && o.progress && o.progress(o.user, &progress) != 0)
                status = oi_fail(OCLINIT_ERROR_CANCELLED, "training was stopped at iteration %zu", t);
        }
        if (status == OCLINIT_SUCCESS) status = oi_net_update(net, o.optimizer, &o);
        if (status == OCLINIT_SUCCESS) r.iterations = t + 1;
        if (status == OCLINIT_SUCCESS && t % 128 == 127) status = net->backend->finish(net); /* keep the queue short */
    }
    OI_CHECK(oi_dist_status(status));
    /* The final checks, the same on every rank, and then their outcome shared once more. */
    status = final_checks(net, &o, samples, &r);
    OI_CHECK(oi_dist_status(status));
    r.seconds = oi_clock_seconds() - start;
    if (result) *result = r;
cleanup:
    gradient_sum_free(&sums);
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
