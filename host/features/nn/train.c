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

/* Sums over some rows of one layer's activations; inactive: saturated entries (relu: none, the units count). */
typedef struct activation_sums {
    double sum, squares, inactive;
} activation_sums;

static bool per_unit(int activation, bool probabilities) {
    return !probabilities && (activation == OCLINIT_ACTIVATION_RELU || activation == OCLINIT_ACTIVATION_LEAKY_RELU);
}

/* The sums of m rows of units into s, and into ever which units were ever positive. */
static void add_activations(const float *a, size_t m, size_t units, int activation, bool probabilities,
                            activation_sums *s, unsigned char *ever) {
    for (size_t j = 0; j < units; j++)
        for (size_t i = 0; i < m; i++) {
            float v = a[i * units + j];
            s->sum += v;
            s->squares += (double)v * v;
            if (ever) ever[j] |= v > 0;
            if (!per_unit(activation, probabilities)) {
                bool tanh_like = !probabilities && activation == OCLINIT_ACTIVATION_TANH;
                s->inactive += tanh_like ? fabsf(v) > 0.99f : (v < 0.01f || v > 0.99f);
            }
        }
}

/* Activation statistics of m rows of units from their sums (relu: inactive units never positive in ever). */
static void describe_activations(const activation_sums *s, const unsigned char *ever, size_t m, size_t units,
                                 int activation, bool probabilities, oclinit_layer_report *r) {
    double count = (double)m * (double)units, inactive = s->inactive;
    if (per_unit(activation, probabilities))
        for (size_t j = 0; j < units; j++) inactive += !ever[j];
    r->activation_mean = s->sum / count;
    r->activation_std = sqrt(fmax(s->squares / count - r->activation_mean * r->activation_mean, 0.0));
    r->inactive_share = inactive / (per_unit(activation, probabilities) ? (double)units : count);
}

/* One micro-batch's diagnostics: the three layers' sums, then which units of layers 1 and 2 were ever positive. */
static size_t record_bytes(oclinit_network_t net) {
    return 3 * sizeof(activation_sums) + net->shape.hidden1 + net->shape.hidden2;
}

/* After oi_net_forward on m rows: their sums into record (record_bytes, zeroed). */
static oclinit_status record_forward(oclinit_network_t net, size_t m, float *a, unsigned char *record) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t h1 = net->shape.hidden1, h2 = net->shape.hidden2;
    int activation = (int)net->shape.activation;
    activation_sums sums[3];
    float bias;
    memset(sums, 0, sizeof sums);
    unsigned char *ever = record + sizeof sums;
    OI_CHECK(oi_net_read(net, &net->a1, 0, a, m * h1));
    add_activations(a, m, h1, activation, false, &sums[0], ever);
    OI_CHECK(oi_net_read(net, &net->a2, 0, a, m * h2));
    add_activations(a, m, h2, activation, false, &sums[1], ever + h1);
    OI_CHECK(oi_net_read(net, &net->z3, 0, a, m));
    OI_CHECK(oi_net_read(net, &net->params, net->offsets[OI_NET_B3], &bias, 1));
    for (size_t i = 0; i < m; i++) a[i] = 1.0f / (1.0f + expf(-(a[i] + bias)));
    add_activations(a, m, 1, activation, true, &sums[2], NULL);
    memcpy(record, sums, sizeof sums);
cleanup:
    return status;
}

/* The activations of a batch of m rows from its count micro-batches' records, summed in micro-batch order. */
static void describe_records(oclinit_network_t net, const unsigned char *records, size_t count, size_t m,
                             unsigned char *ever, oclinit_layer_report layers[3]) {
    size_t h1 = net->shape.hidden1, h2 = net->shape.hidden2, bytes = record_bytes(net);
    activation_sums total[3];
    memset(total, 0, sizeof total);
    memset(ever, 0, h1 + h2);
    for (size_t k = 0; k < count; k++) {
        activation_sums sums[3];
        memcpy(sums, records + k * bytes, sizeof sums);
        for (int l = 0; l < 3; l++)
            total[l].sum += sums[l].sum, total[l].squares += sums[l].squares, total[l].inactive += sums[l].inactive;
        for (size_t j = 0; j < h1 + h2; j++) ever[j] |= records[k * bytes + sizeof sums + j];
    }
    int activation = (int)net->shape.activation;
    describe_activations(&total[0], ever, m, h1, activation, false, &layers[0]);
    describe_activations(&total[1], ever + h1, m, h2, activation, false, &layers[1]);
    describe_activations(&total[2], NULL, m, 1, activation, true, &layers[2]);
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

/* One epoch's Fisher-Yates shuffle of the order of the rows, with Philox words of (seed, SHUFFLE_STREAM + epoch):
 * applied to the previous epoch's order, so batch position i holds row order[i]. */
static void shuffle_order(size_t *order, size_t samples, uint64_t seed, uint64_t epoch) {
    for (size_t i = samples - 1; i > 0; i--) {
        oi_philox_words w = oi_philox_block(seed, SHUFFLE_STREAM + epoch, i / 4);
        size_t j = (size_t)(((uint64_t)w.w[i % 4] * (uint64_t)(i + 1)) >> 32);
        size_t row = order[i];
        order[i] = order[j];
        order[j] = row;
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

/* Rows [first, first + rows) of a data set: labels 0 or 1 (when y is given), finite inputs. */
static oclinit_status check_rows(oclinit_network_t net, const float *x, const float *y, size_t first, size_t rows) {
    for (size_t i = 0; y && i < rows; i++)
        if (y[i] != 0.0f && y[i] != 1.0f)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "label %zu is %g; labels must be 0 or 1", first + i + 1,
                           y[i]);
    size_t inputs = net->shape.inputs, bytes;
    oclinit_status status = oi_size_bytes("the samples' inputs", rows, inputs, sizeof(float), &bytes);
    if (status != OCLINIT_SUCCESS) return status;
    /* One NaN would spread through every parameter in one step, and an infinity soon after. */
    for (size_t i = 0; i < rows * inputs; i++)
        if (!isfinite(x[i]))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "x at row %zu, column %zu is %g; the data must be finite",
                           first + i / inputs + 1, i % inputs + 1, x[i]);
    return OCLINIT_SUCCESS;
}

static oclinit_status check_data(const char *function, oclinit_network_t net, const float *x, const float *y,
                                 size_t samples) {
    if (!net) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: network is NULL", function);
    if (!x) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: x is NULL", function);
    if (samples == 0) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "there are no samples");
    return check_rows(net, x, y, 0, samples);
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

/* This rank's part of the training set and what a batch needs: the device's x and y hold the rows the rank owns
 * (oi_dist_rows; rows [0, held)) and, after them, the rows of the batch's micro-batches it computes, which the ranks
 * exchange each iteration (whoever owns a row sends it to whoever computes it). So a rank holds about samples / N rows
 * and a batch, host and device, and every micro-batch still has the rows, in the order, that one process gives it. */
typedef struct shard {
    size_t first, held, samples, inputs;
    size_t base;      /* the device row of the first batch row this rank computes: after the rows it owns, or in them */
    uint64_t *bounds; /* rank r owns rows [bounds[r], bounds[r + 1]) */
    size_t *order;    /* the shuffled order (mini-batches); NULL: position i is row i */
    float *send, *receive;              /* a batch's rows, inputs + 1 floats each (x then the label) */
    size_t *send_bytes, *receive_bytes; /* per rank */
    size_t *cursor;                     /* per rank: rows of the received block placed so far */
    float *chunk_results;               /* cost and accuracy per OI_DIST_ROW_BLOCK rows of the training set */
    unsigned char *records, *copies;    /* the diagnostics of a batch's micro-batches; this rank's, once per rank */
    unsigned char *ever;                /* the units of layers 1 and 2 ever positive in the batch */
    float *activations;                 /* a layer's activations of a micro-batch, read back for the diagnostics */
} shard;

static void shard_free(shard *sh) {
    free(sh->activations);
    free(sh->ever);
    free(sh->copies);
    free(sh->records);
    free(sh->chunk_results);
    free(sh->cursor);
    free(sh->receive_bytes);
    free(sh->send_bytes);
    free(sh->receive);
    free(sh->send);
    free(sh->order);
    free(sh->bounds);
}

/* The host's buffers for batches of which this rank computes at most rows rows, micro-batches of at most micro rows
 * (and at most most of them). */
static oclinit_status shard_reserve(shard *sh, oclinit_network_t net, size_t rows, size_t micro, size_t most,
                                    bool shuffled) {
    int size = oi_dist_size();
    size_t h = net->shape.hidden1 > net->shape.hidden2 ? net->shape.hidden1 : net->shape.hidden2, row = sh->inputs + 1;
    size_t chunks = (sh->samples + OI_DIST_ROW_BLOCK - 1) / OI_DIST_ROW_BLOCK;
    /* It sends at most the rows it owns, and deals the rows it computes back in the same buffer. */
    size_t sent = sh->held > rows ? sh->held : rows;
    sh->bounds = malloc(((size_t)size + 1) * sizeof *sh->bounds);
    sh->order = shuffled ? malloc(sh->samples * sizeof *sh->order) : NULL;
    sh->send = malloc((sent ? sent : 1) * row * sizeof(float));
    sh->receive = malloc((rows ? rows : 1) * row * sizeof(float));
    sh->send_bytes = malloc((size_t)size * sizeof(size_t));
    sh->receive_bytes = malloc((size_t)size * sizeof(size_t));
    sh->cursor = malloc((size_t)size * sizeof(size_t));
    sh->chunk_results = malloc(chunks * 2 * sizeof(float));
    sh->records = malloc(most * record_bytes(net));
    sh->copies = malloc((size_t)size * most * record_bytes(net));
    sh->ever = malloc(net->shape.hidden1 + net->shape.hidden2);
    sh->activations = malloc(micro * h * sizeof(float));
    if (!sh->bounds || (shuffled && !sh->order) || !sh->send || !sh->receive || !sh->send_bytes || !sh->receive_bytes ||
        !sh->cursor || !sh->chunk_results || !sh->records || !sh->copies || !sh->ever || !sh->activations)
        return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating the buffers of a batch of %zu rows", rows);
    for (int r = 0; r < size; r++) {
        uint64_t end;
        oi_dist_rows(sh->samples, r, size, &sh->bounds[r], &end);
    }
    sh->bounds[size] = sh->samples;
    for (size_t i = 0; sh->order && i < sh->samples; i++) sh->order[i] = i;
    return OCLINIT_SUCCESS;
}

/* The rank that owns a row. */
static int owner(const shard *sh, size_t row) {
    int low = 0, high = oi_dist_size() - 1;
    while (low < high) {
        int middle = (low + high + 1) / 2;
        if (sh->bounds[middle] <= row)
            low = middle;
        else
            high = middle - 1;
    }
    return low;
}

/* The micro-batches rank computes of a batch cut into count, and the batch positions of their rows. */
static void computed(size_t m, size_t count, int rank, uint64_t *micro, uint64_t *micro_end, size_t *position,
                     size_t *position_end) {
    *micro = 0, *micro_end = count;
    if (oi_dist_active()) oi_dist_range(count, 1, rank, oi_dist_size(), micro, micro_end);
    *position = micro_first((size_t)*micro, m, count);
    *position_end = micro_first((size_t)*micro_end, m, count);
}

/* Collective: the rows of the batch at position first (m rows, count micro-batches) that this rank computes, from the
 * ranks that own them, onto the device after the rows it owns. */
static oclinit_status exchange_batch(oclinit_network_t net, shard *sh, const float *x, const float *y, size_t first,
                                     size_t m, size_t count, oclinit_status status) {
    int size = oi_dist_size(), me = oi_dist_rank();
    size_t row_floats = sh->inputs + 1, row_bytes = row_floats * sizeof(float), packed = 0;
    uint64_t micro, micro_end;
    size_t position, position_end;
    for (int d = 0; d < size; d++) {
        computed(m, count, d, &micro, &micro_end, &position, &position_end);
        size_t start = packed;
        for (size_t q = first + position; q < first + position_end; q++) {
            size_t row = sh->order ? sh->order[q] : q;
            if (row < sh->first || row >= sh->first + sh->held) continue;
            memcpy(sh->send + packed * row_floats, x + (row - sh->first) * sh->inputs, sh->inputs * sizeof(float));
            sh->send[packed * row_floats + sh->inputs] = y[row - sh->first];
            packed++;
        }
        sh->send_bytes[d] = (packed - start) * row_bytes;
        sh->receive_bytes[d] = 0;
    }
    computed(m, count, me, &micro, &micro_end, &position, &position_end);
    for (size_t q = first + position; q < first + position_end; q++)
        sh->receive_bytes[owner(sh, sh->order ? sh->order[q] : q)] += row_bytes;
    oclinit_status exchanged = oi_dist_exchange(sh->send, sh->send_bytes, sh->receive, sh->receive_bytes);
    if (status != OCLINIT_SUCCESS) return status;
    if (exchanged != OCLINIT_SUCCESS) return exchanged;
    /* Each rank's block holds its rows in batch order: dealt back into the batch's order, x then the labels. */
    size_t rows = position_end - position, placed = 0;
    for (int r = 0; r < size; r++) sh->cursor[r] = placed, placed += sh->receive_bytes[r] / row_bytes;
    for (size_t q = 0; q < rows; q++) {
        size_t row = sh->order ? sh->order[first + position + q] : first + position + q;
        const float *from = sh->receive + sh->cursor[owner(sh, row)]++ * row_floats;
        memcpy(sh->send + q * sh->inputs, from, sh->inputs * sizeof(float));
        sh->send[rows * sh->inputs + q] = from[sh->inputs];
    }
    status = oi_net_write(net, &net->x, sh->base * sh->inputs, sh->send, rows * sh->inputs);
    if (status == OCLINIT_SUCCESS) status = oi_net_write(net, &net->y, sh->base, sh->send + rows * sh->inputs, rows);
    return status;
}

/* Collective: cost and accuracy on the whole training set, the same bits for any number of ranks: each rank evaluates
 * its blocks of OI_DIST_ROW_BLOCK rows, and every rank sums all blocks' results in block order. */
static oclinit_status evaluate_shard(oclinit_network_t net, shard *sh, double *cost, double *accuracy) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t chunks = (sh->samples + OI_DIST_ROW_BLOCK - 1) / OI_DIST_ROW_BLOCK;
    for (size_t at = 0; at < sh->held && status == OCLINIT_SUCCESS; at += OI_DIST_ROW_BLOCK) {
        size_t m = sh->held - at < OI_DIST_ROW_BLOCK ? sh->held - at : OI_DIST_ROW_BLOCK;
        float *result = sh->chunk_results + (sh->first + at) / OI_DIST_ROW_BLOCK * 2;
        status = oi_net_forward(net, at, m);
        if (status == OCLINIT_SUCCESS) status = net->backend->output_loss(net, at, m, m, 0, &net->result, 0, false, 0);
        if (status == OCLINIT_SUCCESS) status = oi_net_read(net, &net->result, 0, result, 2);
    }
    OI_CHECK(oi_dist_status(status));
    OI_CHECK(oi_dist_gather(sh->chunk_results, chunks, 2));
    double cost_sum = 0, correct = 0;
    for (size_t c = 0; c < chunks; c++) {
        size_t m = sh->samples - c * OI_DIST_ROW_BLOCK < OI_DIST_ROW_BLOCK ? sh->samples - c * OI_DIST_ROW_BLOCK
                                                                           : OI_DIST_ROW_BLOCK;
        cost_sum += (double)sh->chunk_results[2 * c] * (double)m;
        correct += (double)sh->chunk_results[2 * c + 1] * (double)m;
    }
    *cost = cost_sum / (double)sh->samples;
    *accuracy = correct / (double)sh->samples;
cleanup:
    return status;
}

/* Collective: the activations of the batch (m rows, count micro-batches) for the diagnostics: each rank forwards its
 * micro-batches one by one (the rows of one process's) and every rank sums all their records in micro-batch order. */
static oclinit_status diagnose_batch(oclinit_network_t net, shard *sh, size_t m, size_t count,
                                     oclinit_layer_report layers[3], oclinit_status status) {
    int size = oi_dist_size();
    size_t bytes = record_bytes(net), position, position_end;
    uint64_t micro, micro_end;
    computed(m, count, oi_dist_rank(), &micro, &micro_end, &position, &position_end);
    size_t mine = (size_t)(micro_end - micro);
    memset(sh->records, 0, mine * bytes);
    for (size_t k = micro; k < micro_end && status == OCLINIT_SUCCESS; k++) {
        size_t begin = micro_first(k, m, count), rows = micro_first(k + 1, m, count) - begin;
        status = oi_net_forward(net, sh->base + (begin - position), rows);
        if (status == OCLINIT_SUCCESS)
            status = record_forward(net, rows, sh->activations, sh->records + (k - micro) * bytes);
    }
    /* Every rank's records to every rank (from copies, over records): they arrive in rank order, which is micro-batch
     * order. */
    for (int r = 0; r < size; r++) {
        uint64_t theirs, theirs_end;
        size_t p, p_end;
        computed(m, count, r, &theirs, &theirs_end, &p, &p_end);
        memcpy(sh->copies + (size_t)r * mine * bytes, sh->records, mine * bytes);
        sh->send_bytes[r] = mine * bytes;
        sh->receive_bytes[r] = (size_t)(theirs_end - theirs) * bytes;
    }
    oclinit_status exchanged = oi_dist_exchange(sh->copies, sh->send_bytes, sh->records, sh->receive_bytes);
    if (status == OCLINIT_SUCCESS) status = exchanged;
    if (status == OCLINIT_SUCCESS) describe_records(net, sh->records, count, m, sh->ever, layers);
    return status;
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

/* This process's part of iteration t on a batch of m rows whose rows this rank computes are on the device from row
 * base on: its micro-batches' forward and backward passes,
 * each into the slot on top of a stack of partial sums, and the additions of its subtrees as their leaves complete
 * them (levels + 1 slots, whatever the count); on more than one rank each subtree's value is read back for the
 * exchange. */
static oclinit_status local_gradients(oclinit_network_t net, gradient_sum *g, size_t base, size_t m, size_t count,
                                      size_t t) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t stride = OI_NET_STRIDE(net), position, position_end;
    uint64_t mine, end;
    computed(m, count, oi_dist_rank(), &mine, &end, &position, &position_end);
    g->node_count = oi_dist_active() ? oi_tree_cover(mine, end, g->nodes) : 1;
    if (!oi_dist_active()) g->nodes[0] = (oi_tree_node){oi_tree_levels(count), 0};
    bool whole = count == 1 && !oi_dist_active();
    for (size_t n = 0; n < g->node_count; n++) {
        size_t depth = 0;
        uint64_t leaf = g->nodes[n].index << g->nodes[n].level, last = leaf + ((uint64_t)1 << g->nodes[n].level);
        for (; leaf < last && leaf < count; leaf++) {
            size_t begin = micro_first(leaf, m, count), rows = micro_first(leaf + 1, m, count) - begin;
            OI_CHECK(oi_net_forward(net, base + (begin - position), rows));
            OI_CHECK(oi_net_backward(net, base + (begin - position), rows, m, depth++, whole, t));
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
static oclinit_status final_checks(oclinit_network_t net, const oclinit_train_options *o, shard *sh,
                                   oclinit_train_result *r) {
    oclinit_status status = OCLINIT_SUCCESS;
    float values[3];
    OI_CHECK(oi_net_read(net, &net->result, 0, values, 3));
    if (values[2] >= 0) return not_finite(net, (size_t)values[2], values[0], o->learning_rate);
    OI_CHECK(evaluate_shard(net, sh, &r->cost_end, &r->accuracy_end));
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
    uint64_t first = 0, end = samples;
    if (!net) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: network is NULL", __func__);
    OI_REQUIRE(x, "x");
    OI_REQUIRE(y, "y");
    /* Under mpirun every rank was given the whole set: each trains on its share, as when given only that. */
    oi_dist_rows(samples, oi_dist_rank(), oi_dist_size(), &first, &end);
    return oi_network_train_part(net, x + first * net->shape.inputs, y + first, (size_t)first, (size_t)(end - first),
                                 samples, options, result);
}

oclinit_status oi_network_train_part(oclinit_network_t net, const float *x, const float *y, size_t first, size_t held,
                                     size_t samples, const oclinit_train_options *options,
                                     oclinit_train_result *result) {
    oclinit_status status = OCLINIT_SUCCESS;
    gradient_sum sums;
    memset(&sums, 0, sizeof sums);
    shard sh;
    memset(&sh, 0, sizeof sh);
    oclinit_train_result r;
    memset(&r, 0, sizeof r);
    double start = oi_clock_seconds();
    if (!net) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: network is NULL", __func__);
    OI_REQUIRE(x, "x");
    OI_REQUIRE(y, "y");
    if (samples == 0) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "there are no samples");
    const oclinit_train_options o = options ? *options : oclinit_train_options_default();
    if (!(o.learning_rate > 0) || !isfinite(o.learning_rate))
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the learning rate must be a finite number > 0, got %g",
                       o.learning_rate);
    if ((unsigned)o.optimizer > OCLINIT_OPTIMIZER_ADAM)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown optimizer %d", (int)o.optimizer);
    bool full_batch = o.optimizer == OCLINIT_OPTIMIZER_GD;
    size_t batch = full_batch ? samples : (o.batch ? o.batch : 64);
    if (batch > samples) batch = samples;
    size_t batches = (samples + batch - 1) / batch;
    /* The most micro-batches of any batch (the last may be shorter), and the stack of partial sums they need. */
    size_t most = oi_train_micro_batches(&o, batch), slots = oi_tree_levels(most) + 1;
    sh.first = first, sh.held = held, sh.samples = samples, sh.inputs = net->shape.inputs;
    /* The rows this rank computes of a batch and the largest micro-batch, over the two batch sizes there are. */
    size_t rows = 0, micro = 0;
    for (size_t m = batch, k = 0; k < 2; m = samples - (batches - 1) * batch, k++) {
        size_t count = oi_train_micro_batches(&o, m), position, position_end;
        uint64_t mine, mine_end;
        computed(m, count, oi_dist_rank(), &mine, &mine_end, &position, &position_end);
        if (position_end - position > rows) rows = position_end - position;
        if ((m + count - 1) / count > micro) micro = (m + count - 1) / count;
    }
    /* One process's full batch is the rows it holds, in order: computed where they are. */
    bool in_place = full_batch && !oi_dist_active();
    sh.base = in_place ? 0 : held;

    /* Set-up that one rank alone may fail (its rows, memory, the device): agreed before the first collective step. */
    status = check_rows(net, x, y, first, held);
    /* The device holds this rank's rows, then those it computes of a batch; the work buffers take a micro-batch or an
     * evaluated block. */
    size_t block = samples < OI_DIST_ROW_BLOCK ? samples : OI_DIST_ROW_BLOCK;
    if (status == OCLINIT_SUCCESS)
        status = oi_net_reserve(net, held + (in_place ? 0 : rows), micro > block ? micro : block);
    if (status == OCLINIT_SUCCESS) status = oi_net_reserve_slots(net, slots);
    if (status == OCLINIT_SUCCESS) status = gradient_sum_reserve(&sums, net, most);
    if (status == OCLINIT_SUCCESS) status = shard_reserve(&sh, net, rows, micro, most, !full_batch);
    if (status == OCLINIT_SUCCESS && held) status = oi_net_write(net, &net->x, 0, x, held * sh.inputs);
    if (status == OCLINIT_SUCCESS && held) status = oi_net_write(net, &net->y, 0, y, held);
    OI_CHECK(oi_dist_status(status));
    double accuracy;
    OI_CHECK(evaluate_shard(net, &sh, &r.cost_start, &accuracy));
    const float fresh[4] = {0, 0, -1, 0};
    status = oi_net_write(net, &net->result, 0, fresh, 4);

    /* Each iteration meets the other ranks once before its exchange (oi_dist_status): whatever failed on one rank
     * since, a cancel included, stops every rank there. The row and diagnostics exchanges before it are taken part in
     * whatever the status, so that every rank makes the same collective calls. */
    for (size_t t = 0; t < o.iterations; t++) {
        size_t b = t % batches;
        size_t at = b * batch, m = samples - at < batch ? samples - at : batch, count = oi_train_micro_batches(&o, m);
        bool diagnose = t == 0 || (o.diagnose_every && t % o.diagnose_every == 0);
        bool report = diagnose || (o.report_every && (t % o.report_every == 0 || t + 1 == o.iterations));
        oclinit_train_report rep;
        memset(&rep, 0, sizeof rep);
        rep.iteration = t;
        rep.diagnosed = diagnose;
        if (!full_batch && b == 0) shuffle_order(sh.order, samples, o.seed, t / batches);
        /* Full batch: the same rows every iteration, exchanged once. */
        if (!in_place && (!full_batch || t == 0)) status = exchange_batch(net, &sh, x, y, at, m, count, status);
        if (diagnose) status = diagnose_batch(net, &sh, m, count, rep.layers, status);
        if (status == OCLINIT_SUCCESS) status = local_gradients(net, &sums, sh.base, m, count, t);
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
    status = final_checks(net, &o, &sh, &r);
    OI_CHECK(oi_dist_status(status));
    r.seconds = oi_clock_seconds() - start;
    if (result) *result = r;
cleanup:
    shard_free(&sh);
    gradient_sum_free(&sums);
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
