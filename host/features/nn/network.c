/* The three-layer network: parameters in one buffer, and the forward/backward sequence written once over the
 * primitives of a backend (features.h: oi_net_backend), which network_host.c and network_device.c implement. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/features.h"
#include "network.h"
static const name_entry activation_names[] = {
    {"relu", OCLINIT_ACTIVATION_RELU},
    {"leaky_relu", OCLINIT_ACTIVATION_LEAKY_RELU},
    {"tanh", OCLINIT_ACTIVATION_TANH},
    {"sigmoid", OCLINIT_ACTIVATION_SIGMOID},
};

static const name_entry optimizer_names[] = {
    {"gd", OCLINIT_OPTIMIZER_GD},
    {"sgd", OCLINIT_OPTIMIZER_SGD},
    {"momentum", OCLINIT_OPTIMIZER_MOMENTUM},
    {"adam", OCLINIT_OPTIMIZER_ADAM},
};

OI_NAMED_ENUM(oclinit_activation, activation_names, "activation")
OI_NAMED_ENUM(oclinit_optimizer, optimizer_names, "optimizer")

/* ---- Buffers ------------------------------------------------------------------------------------------------ */

static void buffer_free(oi_net_buffer *b) {
    if (b->mem) clReleaseMemObject(b->mem);
    free(b->host);
    b->mem = NULL;
    b->host = NULL;
}

oclinit_status oi_net_write(oclinit_network_t net, oi_net_buffer *b, size_t offset, const float *from, size_t floats) {
    return floats ? net->backend->write(net, b, offset, from, floats) : OCLINIT_SUCCESS;
}

oclinit_status oi_net_read(oclinit_network_t net, const oi_net_buffer *b, size_t offset, float *to, size_t floats) {
    return floats ? net->backend->read(net, b, offset, to, floats) : OCLINIT_SUCCESS;
}

/* ---- Creating ----------------------------------------------------------------------------------------------- */

oclinit_status oclinit_network_create(oclinit_runtime_t runtime, const oclinit_network_shape *shape,
                                      oclinit_network_t *network) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_network_t net = NULL;
    OI_REQUIRE(shape, "shape");
    OI_REQUIRE(network, "network");
    *network = NULL;
    if (shape->inputs == 0 || shape->hidden1 == 0 || shape->hidden2 == 0)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "every layer needs at least one unit, got %zu inputs, hidden %zu,%zu", shape->inputs,
                       shape->hidden1, shape->hidden2);
    /* So that every product of two layer sizes below fits in 2^48 and its bytes in a size_t. */
    if (shape->inputs > (1u << 24) || shape->hidden1 > (1u << 24) || shape->hidden2 > (1u << 24))
        return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW,
                       "layers of more than 2^24 units are not supported, got %zu, %zu, %zu", shape->inputs,
                       shape->hidden1, shape->hidden2);
    if ((unsigned)shape->activation > OCLINIT_ACTIVATION_SIGMOID)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown activation %d", (int)shape->activation);
    net = calloc(1, sizeof *net);
    if (!net) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating a network");
    net->rt = oi_runtime_on_host(runtime) ? NULL : runtime;
    net->backend = net->rt ? &oi_net_device : &oi_net_host;
    net->shape = *shape;
    if (net->shape.activation == OCLINIT_ACTIVATION_LEAKY_RELU && net->shape.negative_slope == 0)
        net->shape.negative_slope = 0.01f;
    const size_t sizes[OI_NET_PARTS] = {shape->hidden1 * shape->inputs,
                                        shape->hidden1,
                                        shape->hidden2 * shape->hidden1,
                                        shape->hidden2,
                                        shape->hidden2,
                                        1};
    for (int k = 0; k < OI_NET_PARTS; k++) {
        net->offsets[k] = net->parameter_count;
        net->parameter_count += sizes[k];
    }
    OI_CHECK(net->backend->alloc(net, &net->params, net->parameter_count));
    OI_CHECK(oi_net_reserve_slots(net, 1));
    OI_CHECK(net->backend->alloc(net, &net->state1, net->parameter_count));
    OI_CHECK(net->backend->alloc(net, &net->state2, net->parameter_count));
    OI_CHECK(net->backend->alloc(net, &net->result, 4));
    *network = net;
    net = NULL;
cleanup:
    oclinit_network_free(net);
    return status;
}

static void free_work(oclinit_network_t net) {
    oi_net_buffer *work[] = {&net->x, &net->y, &net->a1, &net->a2, &net->z3, &net->d1, &net->d2};
    for (size_t k = 0; k < sizeof work / sizeof work[0]; k++) buffer_free(work[k]);
    net->data_capacity = net->batch_capacity = 0;
}

void oclinit_network_free(oclinit_network_t net) {
    if (!net) return;
    free_work(net);
    buffer_free(&net->result);
    buffer_free(&net->state2);
    buffer_free(&net->state1);
    buffer_free(&net->grads);
    buffer_free(&net->params);
    free(net);
}

oclinit_network_shape oclinit_network_get_shape(oclinit_network_t net) {
    const oclinit_network_shape none = {0};
    OI_REQUIRE_OR(net, "network", none);
    return net->shape;
}

size_t oclinit_network_get_parameter_count(oclinit_network_t net) {
    OI_REQUIRE_OR(net, "network", 0);
    return net->parameter_count;
}

oclinit_status oclinit_network_get_parameters(oclinit_network_t net, float *parameters) {
    OI_REQUIRE(net, "network");
    OI_REQUIRE(parameters, "parameters");
    return oi_net_read(net, &net->params, 0, parameters, net->parameter_count);
}

oclinit_status oclinit_network_set_parameters(oclinit_network_t net, const float *parameters) {
    OI_REQUIRE(net, "network");
    OI_REQUIRE(parameters, "parameters");
    for (size_t k = 0; k < net->parameter_count; k++)
        if (!isfinite(parameters[k]))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "parameter %zu of %zu is %g; parameters must be finite",
                           k + 1, net->parameter_count, parameters[k]);
    net->steps = 0;
    oclinit_status status = oi_net_write(net, &net->params, 0, parameters, net->parameter_count);
    if (status == OCLINIT_SUCCESS) status = net->backend->zero(net, &net->state1, net->parameter_count);
    if (status == OCLINIT_SUCCESS) status = net->backend->zero(net, &net->state2, net->parameter_count);
    return status;
}

oclinit_status oclinit_network_init(oclinit_network_t net, const oclinit_scheme *scheme, uint64_t seed) {
    oclinit_status status = OCLINIT_SUCCESS;
    OI_REQUIRE(net, "network");
    OI_REQUIRE(scheme, "scheme");
    float *params = calloc(net->parameter_count, sizeof(float));
    if (!params) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating %zu parameters", net->parameter_count);
    const size_t fans[3][2] = {
        {net->shape.inputs, net->shape.hidden1}, {net->shape.hidden1, net->shape.hidden2}, {net->shape.hidden2, 1}};
    /* The layers' own fans, in the network's (fan_out, fan_in) layout. */
    oclinit_scheme layer_scheme = *scheme;
    layer_scheme.convention = OCLINIT_CONVENTION_PYTORCH;
    layer_scheme.fan_in = layer_scheme.fan_out = 0;
    for (int layer = 0; layer < 3; layer++) {
        oclinit_distribution d;
        double mean;
        OI_CHECK(oclinit_scheme_resolve(&layer_scheme, (int64_t)fans[layer][0], (int64_t)fans[layer][1], &d));
        oclinit_distribution_get_moments(&d, &mean, &net->init_std[layer]);
        /* The weights are made where the network lives: the device's kernels or the host path, the same bits. */
        OI_CHECK(oclinit_init_fill_host(net->rt, &d, seed, (uint64_t)layer + 1, 0, fans[layer][0] * fans[layer][1],
                                        params + net->offsets[2 * layer]));
    }
    net->init_scheme = scheme->kind;
    OI_CHECK(oclinit_network_set_parameters(net, params));
cleanup:
    free(params);
    return status;
}

/* Room for a data set of samples rows and batches of batch rows. Checks that every buffer's bytes fit a size_t, so that
 * the callers' products of samples or batch rows with a layer's size (and sizeof(float)) do not overflow either. */
oclinit_status oi_net_reserve(oclinit_network_t net, size_t samples, size_t batch) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t widest = net->shape.inputs, bytes;
    if (net->shape.hidden1 > widest) widest = net->shape.hidden1;
    if (net->shape.hidden2 > widest) widest = net->shape.hidden2;
    if (samples <= net->data_capacity && batch <= net->batch_capacity) return OCLINIT_SUCCESS;
    status = oi_size_bytes("the samples' inputs", samples, net->shape.inputs, sizeof(float), &bytes);
    if (status == OCLINIT_SUCCESS)
        status = oi_size_bytes("a batch's activations", batch, widest, sizeof(float), &bytes);
    if (status != OCLINIT_SUCCESS) return status;
    free_work(net);
    OI_CHECK(net->backend->alloc(net, &net->x, samples * net->shape.inputs));
    OI_CHECK(net->backend->alloc(net, &net->y, samples));
    OI_CHECK(net->backend->alloc(net, &net->a1, batch * net->shape.hidden1));
    OI_CHECK(net->backend->alloc(net, &net->d1, batch * net->shape.hidden1));
    OI_CHECK(net->backend->alloc(net, &net->a2, batch * net->shape.hidden2));
    OI_CHECK(net->backend->alloc(net, &net->d2, batch * net->shape.hidden2));
    OI_CHECK(net->backend->alloc(net, &net->z3, batch));
    net->data_capacity = samples;
    net->batch_capacity = batch;
cleanup:
    if (status != OCLINIT_SUCCESS) free_work(net);
    return status;
}

oclinit_status oi_net_reserve_slots(oclinit_network_t net, size_t slots) {
    size_t bytes;
    if (slots <= net->slot_capacity) return OCLINIT_SUCCESS;
    oclinit_status status = oi_size_bytes("the gradients' slots", slots, OI_NET_STRIDE(net), sizeof(float), &bytes);
    if (status != OCLINIT_SUCCESS) return status;
    buffer_free(&net->grads);
    net->slot_capacity = 0;
    status = net->backend->alloc(net, &net->grads, slots * OI_NET_STRIDE(net));
    if (status == OCLINIT_SUCCESS) net->slot_capacity = slots;
    return status;
}

/* ---- The sequence, once for both backends ---------------------------------------------------------------- */

oclinit_status oi_net_update(oclinit_network_t net, oclinit_optimizer optimizer, const oclinit_train_options *o) {
    net->steps++;
    oi_step_params p = {(float)o->learning_rate,
                        (float)o->momentum,
                        (float)o->beta1,
                        (float)o->beta2,
                        (float)o->epsilon,
                        (float)(1.0 - pow(o->beta1, (double)net->steps)),
                        (float)(1.0 - pow(o->beta2, (double)net->steps))};
    return net->backend->update(net, (int)optimizer, &p);
}

/* C (m x n, ldc) = op(A) op(B) through the backend. */
static oclinit_status gemm(oclinit_network_t net, bool ta, bool tb, size_t m, size_t n, size_t k,
                           const oi_net_buffer *a, size_t a_offset, size_t lda, const oi_net_buffer *b, size_t b_offset,
                           size_t ldb, oi_net_buffer *c, size_t c_offset, size_t ldc) {
    oi_gemm_shape shape = {m, n, k, ta, tb};
    return net->backend->gemm(net, &shape, a, a_offset, lda, b, b_offset, ldb, c, c_offset, ldc);
}

enum { NO = false, YES = true };

oclinit_status oi_net_forward(oclinit_network_t net, size_t first, size_t m) {
    oclinit_status status = OCLINIT_SUCCESS;
    const size_t n = net->shape.inputs, h1 = net->shape.hidden1, h2 = net->shape.hidden2;
    const size_t *o = net->offsets;
    /* Z1 = X W1^T, A1 = g(Z1 + b1); Z2 = A1 W2^T, A2 = g(Z2 + b2); z3 = A2 W3^T */
    OI_CHECK(gemm(net, NO, YES, m, h1, n, &net->x, first * n, n, &net->params, o[OI_NET_W1], n, &net->a1, 0, h1));
    OI_CHECK(net->backend->bias_activation(net, &net->a1, m, h1, o[OI_NET_B1]));
    OI_CHECK(gemm(net, NO, YES, m, h2, h1, &net->a1, 0, h1, &net->params, o[OI_NET_W2], h1, &net->a2, 0, h2));
    OI_CHECK(net->backend->bias_activation(net, &net->a2, m, h2, o[OI_NET_B2]));
    OI_CHECK(gemm(net, NO, YES, m, 1, h2, &net->a2, 0, h2, &net->params, o[OI_NET_W3], h2, &net->z3, 0, 1));
cleanup:
    return status;
}

oclinit_status oi_net_backward(oclinit_network_t net, size_t first, size_t m, size_t batch, size_t slot, bool whole,
                               size_t iteration) {
    oclinit_status status = OCLINIT_SUCCESS;
    const size_t n = net->shape.inputs, h1 = net->shape.hidden1, h2 = net->shape.hidden2, g = slot * OI_NET_STRIDE(net);
    const size_t *p = net->offsets; /* the parameters' parts; o: the gradients' in the slot */
    size_t o[OI_NET_PARTS];
    for (int k = 0; k < OI_NET_PARTS; k++) o[k] = g + p[k];
    OI_CHECK(
        net->backend->output_loss(net, first, m, batch, g, &net->grads, g + net->parameter_count, whole, iteration));
    /* dW3 = dZ3^T A2, dA2 = dZ3 W3, dZ2 = dA2 g'(A2) */
    OI_CHECK(gemm(net, YES, NO, 1, h2, m, &net->z3, 0, 1, &net->a2, 0, h2, &net->grads, o[OI_NET_W3], h2));
    OI_CHECK(gemm(net, NO, NO, m, h2, 1, &net->z3, 0, 1, &net->params, p[OI_NET_W3], h2, &net->d2, 0, h2));
    OI_CHECK(net->backend->activation_backward(net, &net->d2, &net->a2, m, h2, o[OI_NET_B2]));
    /* dW2 = dZ2^T A1, dA1 = dZ2 W2, dZ1 = dA1 g'(A1) */
    OI_CHECK(gemm(net, YES, NO, h2, h1, m, &net->d2, 0, h2, &net->a1, 0, h1, &net->grads, o[OI_NET_W2], h1));
    OI_CHECK(gemm(net, NO, NO, m, h1, h2, &net->d2, 0, h2, &net->params, p[OI_NET_W2], h1, &net->d1, 0, h1));
    OI_CHECK(net->backend->activation_backward(net, &net->d1, &net->a1, m, h1, o[OI_NET_B1]));
    /* dW1 = dZ1^T X */
    OI_CHECK(gemm(net, YES, NO, h1, n, m, &net->d1, 0, h1, &net->x, first * n, n, &net->grads, o[OI_NET_W1], n));
cleanup:
    return status;
}

oclinit_status oi_net_probabilities(oclinit_network_t net, size_t m, float *out) {
    return net->backend->probabilities(net, m, out);
}
