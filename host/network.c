/* The three-layer network: parameters in one buffer, one forward/backward sequence written once over a few
 * primitives (GEMM, bias + activation, output loss, activation backward, update), each with a device
 * implementation (CLBlast and kernels/network.cl) and a host twin (OpenBLAS and kernels/network.h). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
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

static oclinit_status buffer_alloc(oclinit_network_t net, oi_net_buffer *b, size_t floats) {
    size_t bytes = (floats ? floats : 1) * sizeof(float);
    if (net->rt && net->rt->device) return oi_buffer_create(net->rt, bytes, &b->mem);
    b->host = calloc(floats ? floats : 1, sizeof(float));
    return b->host ? OCLINIT_SUCCESS : oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating %zu floats", floats);
}

static void buffer_free(oi_net_buffer *b) {
    if (b->mem) clReleaseMemObject(b->mem);
    free(b->host);
    b->mem = NULL;
    b->host = NULL;
}

oclinit_status oi_net_write(oclinit_network_t net, oi_net_buffer *b, size_t offset, const float *from, size_t floats) {
    if (!floats) return OCLINIT_SUCCESS;
    if (b->host) {
        memcpy(b->host + offset, from, floats * sizeof(float));
        return OCLINIT_SUCCESS;
    }
    cl_int error = clEnqueueWriteBuffer(net->rt->queue, b->mem, CL_TRUE, offset * sizeof(float), floats * sizeof(float),
                                        from, 0, NULL, NULL);
    return error == CL_SUCCESS ? OCLINIT_SUCCESS
                               : oi_fail((oclinit_status)error, "uploading to the device: %s",
                                         oclinit_status_str((oclinit_status)error));
}

oclinit_status oi_net_read(oclinit_network_t net, const oi_net_buffer *b, size_t offset, float *to, size_t floats) {
    if (!floats) return OCLINIT_SUCCESS;
    if (b->host) {
        memcpy(to, b->host + offset, floats * sizeof(float));
        return OCLINIT_SUCCESS;
    }
    cl_int error = clEnqueueReadBuffer(net->rt->queue, b->mem, CL_TRUE, offset * sizeof(float), floats * sizeof(float),
                                       to, 0, NULL, NULL);
    return error == CL_SUCCESS ? OCLINIT_SUCCESS
                               : oi_fail((oclinit_status)error, "reading from the device: %s",
                                         oclinit_status_str((oclinit_status)error));
}

static oclinit_status buffer_zero(oclinit_network_t net, oi_net_buffer *b, size_t floats) {
    if (b->host) {
        memset(b->host, 0, floats * sizeof(float));
        return OCLINIT_SUCCESS;
    }
    cl_float zero = 0.0f;
    cl_int error =
        clEnqueueFillBuffer(net->rt->queue, b->mem, &zero, sizeof zero, 0, floats * sizeof(float), 0, NULL, NULL);
    return error == CL_SUCCESS
               ? OCLINIT_SUCCESS
               : oi_fail((oclinit_status)error, "clearing a buffer: %s", oclinit_status_str((oclinit_status)error));
}

/* ---- Creating ----------------------------------------------------------------------------------------------- */

oclinit_status oclinit_network_create(oclinit_runtime_t runtime, const oclinit_network_shape *shape,
                                      oclinit_network_t *network) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_network_t net = NULL;
    if (!shape || !network) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "shape or network is NULL");
    *network = NULL;
    if (shape->inputs == 0 || shape->hidden1 == 0 || shape->hidden2 == 0)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "every layer needs at least one unit, got %zu inputs, hidden %zu,%zu", shape->inputs,
                       shape->hidden1, shape->hidden2);
    if (shape->inputs > (1u << 24) || shape->hidden1 > (1u << 24) || shape->hidden2 > (1u << 24))
        return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "layers of more than 2^24 units are not supported");
    if ((unsigned)shape->activation > OCLINIT_ACTIVATION_SIGMOID)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown activation %d", (int)shape->activation);
    net = calloc(1, sizeof *net);
    if (!net) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating a network");
    net->rt = runtime && runtime->device ? runtime : NULL;
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
    OI_CHECK(buffer_alloc(net, &net->params, net->parameter_count));
    OI_CHECK(buffer_alloc(net, &net->grads, net->parameter_count));
    OI_CHECK(buffer_alloc(net, &net->state1, net->parameter_count));
    OI_CHECK(buffer_alloc(net, &net->state2, net->parameter_count));
    OI_CHECK(buffer_alloc(net, &net->result, 4));
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
    return net->shape;
}

size_t oclinit_network_parameter_count(oclinit_network_t net) {
    return net->parameter_count;
}

oclinit_status oclinit_network_get_parameters(oclinit_network_t net, float *parameters) {
    return oi_net_read(net, &net->params, 0, parameters, net->parameter_count);
}

oclinit_status oclinit_network_set_parameters(oclinit_network_t net, const float *parameters) {
    net->steps = 0;
    oclinit_status status = oi_net_write(net, &net->params, 0, parameters, net->parameter_count);
    if (status == OCLINIT_SUCCESS) status = buffer_zero(net, &net->state1, net->parameter_count);
    if (status == OCLINIT_SUCCESS) status = buffer_zero(net, &net->state2, net->parameter_count);
    return status;
}

oclinit_status oclinit_network_init(oclinit_network_t net, const oclinit_scheme *scheme, uint64_t seed) {
    oclinit_status status = OCLINIT_SUCCESS;
    float *params = calloc(net->parameter_count, sizeof(float));
    if (!params) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating %zu parameters", net->parameter_count);
    const size_t fans[3][2] = {
        {net->shape.inputs, net->shape.hidden1}, {net->shape.hidden1, net->shape.hidden2}, {net->shape.hidden2, 1}};
    for (int layer = 0; layer < 3; layer++) {
        oclinit_distribution d;
        double mean;
        OI_CHECK(oclinit_scheme_resolve(scheme, (int64_t)fans[layer][0], (int64_t)fans[layer][1], &d));
        oclinit_distribution_moments(&d, &mean, &net->init_std[layer]);
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

/* Room for a data set of samples rows and batches of batch rows. */
oclinit_status oi_net_reserve(oclinit_network_t net, size_t samples, size_t batch) {
    oclinit_status status = OCLINIT_SUCCESS;
    if (samples <= net->data_capacity && batch <= net->batch_capacity) return OCLINIT_SUCCESS;
    free_work(net);
    OI_CHECK(buffer_alloc(net, &net->x, samples * net->shape.inputs));
    OI_CHECK(buffer_alloc(net, &net->y, samples));
    OI_CHECK(buffer_alloc(net, &net->a1, batch * net->shape.hidden1));
    OI_CHECK(buffer_alloc(net, &net->d1, batch * net->shape.hidden1));
    OI_CHECK(buffer_alloc(net, &net->a2, batch * net->shape.hidden2));
    OI_CHECK(buffer_alloc(net, &net->d2, batch * net->shape.hidden2));
    OI_CHECK(buffer_alloc(net, &net->z3, batch));
    net->data_capacity = samples;
    net->batch_capacity = batch;
cleanup:
    if (status != OCLINIT_SUCCESS) free_work(net);
    return status;
}

/* ---- Primitives: device and host -------------------------------------------------------------------------- */

typedef enum transpose { NO, YES } transpose;

/* C (m x n, ldc) = op(A) op(B), row-major, at element offsets. */
static oclinit_status gemm(oclinit_network_t net, transpose ta, transpose tb, size_t m, size_t n, size_t k,
                           const oi_net_buffer *a, size_t a_offset, size_t lda, const oi_net_buffer *b, size_t b_offset,
                           size_t ldb, oi_net_buffer *c, size_t c_offset, size_t ldc) {
    if (!net->rt) {
        cblas_sgemm(CblasRowMajor, ta == YES ? CblasTrans : CblasNoTrans, tb == YES ? CblasTrans : CblasNoTrans, (int)m,
                    (int)n, (int)k, 1.0f, a->host + a_offset, (int)lda, b->host + b_offset, (int)ldb, 0.0f,
                    c->host + c_offset, (int)ldc);
        return OCLINIT_SUCCESS;
    }
    oclinit_gemm_shape shape = {m, n, k, ta == YES, tb == YES};
    return oi_sgemm(net->rt, &shape, a->mem, a_offset, lda, b->mem, b_offset, ldb, c->mem, c_offset, ldc,
                    &net->launches);
}

/* Enqueues a kernel of kernels/network.cl whose arguments are set. */
static oclinit_status enqueue(oclinit_network_t net, cl_kernel kernel, size_t items, size_t group) {
    cl_int error =
        clEnqueueNDRangeKernel(net->rt->queue, kernel, 1, NULL, &items, group ? &group : NULL, 0, NULL, NULL);
    net->launches++;
    return error == CL_SUCCESS ? OCLINIT_SUCCESS
                               : oi_fail((oclinit_status)error, "launching a network kernel on %s: %s",
                                         net->rt->info.name, oclinit_status_str((oclinit_status)error));
}

/* z = g(z + b) over a (rows, units) block. */
static oclinit_status bias_activation(oclinit_network_t net, oi_net_buffer *z, size_t rows, size_t units,
                                      size_t bias_offset) {
    oclinit_status status = OCLINIT_SUCCESS;
    int activation = (int)net->shape.activation;
    float slope = net->shape.negative_slope;
    if (!net->rt) {
        const float *bias = net->params.host + bias_offset;
        for (size_t k = 0; k < rows * units; k++)
            z->host[k] = oi_activation(activation, z->host[k] + bias[k % units], slope);
        return OCLINIT_SUCCESS;
    }
    cl_kernel kernel;
    cl_uint units_arg = (cl_uint)units;
    cl_ulong offset_arg = bias_offset;
    OI_CHECK(oi_runtime_kernel(net->rt, OI_KERNEL_BIAS_ACTIVATION, &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 6, sizeof z->mem, &z->mem, sizeof units_arg, &units_arg, sizeof net->params.mem,
                                &net->params.mem, sizeof offset_arg, &offset_arg, sizeof activation, &activation,
                                sizeof slope, &slope));
    OI_CHECK(enqueue(net, kernel, rows * units, 0));
cleanup:
    return status;
}

#define LOSS_GROUP 64 /* OI_LOSS_GROUP in kernels/network.cl */

/* The output layer on a batch of m rows starting at row first of the data: z3 becomes dZ3, the b3 gradient
 * is set, and result holds (cost, accuracy); result[2] records the first iteration whose cost was not finite. */
oclinit_status oi_net_loss(oclinit_network_t net, size_t first, size_t m, size_t iteration) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t bias = net->offsets[OI_NET_B3];
    float inverse = (float)(1.0 / (double)m);
    if (!net->rt) {
        float loss = 0, correct = 0, gradient = 0, b = net->params.host[bias];
        for (size_t i = 0; i < m; i++) {
            float logit = net->z3.host[i] + b, label = net->y.host[first + i], p = oi_sigmoid(logit);
            float d = (p - label) * inverse;
            loss += oi_bce_from_logit(logit, label);
            correct += oi_correct(p, label);
            gradient += d;
            net->z3.host[i] = d;
        }
        net->result.host[0] = loss * inverse;
        net->result.host[1] = correct * inverse;
        if (!isfinite(net->result.host[0]) && net->result.host[2] < 0) net->result.host[2] = (float)iteration;
        net->grads.host[bias] = gradient;
        return OCLINIT_SUCCESS;
    }
    cl_kernel kernel;
    cl_ulong y_offset = first, bias_arg = bias;
    cl_uint samples = (cl_uint)m, iteration_arg = (cl_uint)iteration;
    OI_CHECK(oi_runtime_kernel(net->rt, OI_KERNEL_OUTPUT_LOSS, &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 10, sizeof net->z3.mem, &net->z3.mem, sizeof net->y.mem, &net->y.mem,
                                sizeof y_offset, &y_offset, sizeof samples, &samples, sizeof inverse, &inverse,
                                sizeof net->params.mem, &net->params.mem, sizeof bias_arg, &bias_arg,
                                sizeof net->grads.mem, &net->grads.mem, sizeof net->result.mem, &net->result.mem,
                                sizeof iteration_arg, &iteration_arg));
    OI_CHECK(enqueue(net, kernel, LOSS_GROUP, LOSS_GROUP));
cleanup:
    return status;
}

/* delta (m, units) = dA becomes dZ, and the bias gradient its column sums. */
static oclinit_status activation_backward(oclinit_network_t net, oi_net_buffer *delta, const oi_net_buffer *a, size_t m,
                                          size_t units, size_t bias_offset) {
    oclinit_status status = OCLINIT_SUCCESS;
    int activation = (int)net->shape.activation;
    float slope = net->shape.negative_slope;
    if (!net->rt) {
        for (size_t j = 0; j < units; j++) {
            float sum = 0;
            for (size_t i = 0; i < m; i++) {
                size_t k = i * units + j;
                float d = delta->host[k] * oi_activation_derivative(activation, a->host[k], slope);
                delta->host[k] = d;
                sum += d;
            }
            net->grads.host[bias_offset + j] = sum;
        }
        return OCLINIT_SUCCESS;
    }
    cl_kernel kernel;
    cl_uint samples = (cl_uint)m, units_arg = (cl_uint)units;
    cl_ulong offset_arg = bias_offset;
    OI_CHECK(oi_runtime_kernel(net->rt, OI_KERNEL_ACTIVATION_BACKWARD, &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 8, sizeof delta->mem, &delta->mem, sizeof a->mem, &a->mem, sizeof samples,
                                &samples, sizeof units_arg, &units_arg, sizeof activation, &activation, sizeof slope,
                                &slope, sizeof net->grads.mem, &net->grads.mem, sizeof offset_arg, &offset_arg));
    OI_CHECK(enqueue(net, kernel, units, 0));
cleanup:
    return status;
}

oclinit_status oi_net_update(oclinit_network_t net, oclinit_optimizer optimizer, const oclinit_train_options *o) {
    oclinit_status status = OCLINIT_SUCCESS;
    net->steps++;
    oi_step_params p = {(float)o->learning_rate,
                        (float)o->momentum,
                        (float)o->beta1,
                        (float)o->beta2,
                        (float)o->epsilon,
                        (float)(1.0 - pow(o->beta1, (double)net->steps)),
                        (float)(1.0 - pow(o->beta2, (double)net->steps))};
    int kind = (int)optimizer;
    if (!net->rt) {
        for (size_t k = 0; k < net->parameter_count; k++)
            net->params.host[k] = oi_optimizer_step(kind, net->params.host[k], net->grads.host[k], &net->state1.host[k],
                                                    &net->state2.host[k], p);
        return OCLINIT_SUCCESS;
    }
    cl_kernel kernel;
    OI_CHECK(oi_runtime_kernel(net->rt, OI_KERNEL_UPDATE, &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 12, sizeof net->params.mem, &net->params.mem, sizeof net->grads.mem,
                                &net->grads.mem, sizeof net->state1.mem, &net->state1.mem, sizeof net->state2.mem,
                                &net->state2.mem, sizeof kind, &kind, sizeof p.learning_rate, &p.learning_rate,
                                sizeof p.momentum, &p.momentum, sizeof p.beta1, &p.beta1, sizeof p.beta2, &p.beta2,
                                sizeof p.epsilon, &p.epsilon, sizeof p.correction1, &p.correction1,
                                sizeof p.correction2, &p.correction2));
    OI_CHECK(enqueue(net, kernel, net->parameter_count, 0));
cleanup:
    return status;
}

/* ---- The sequence ------------------------------------------------------------------------------------------ */

oclinit_status oi_net_forward(oclinit_network_t net, size_t first, size_t m) {
    oclinit_status status = OCLINIT_SUCCESS;
    const size_t n = net->shape.inputs, h1 = net->shape.hidden1, h2 = net->shape.hidden2;
    const size_t *o = net->offsets;
    /* Z1 = X W1^T, A1 = g(Z1 + b1); Z2 = A1 W2^T, A2 = g(Z2 + b2); z3 = A2 W3^T */
    OI_CHECK(gemm(net, NO, YES, m, h1, n, &net->x, first * n, n, &net->params, o[OI_NET_W1], n, &net->a1, 0, h1));
    OI_CHECK(bias_activation(net, &net->a1, m, h1, o[OI_NET_B1]));
    OI_CHECK(gemm(net, NO, YES, m, h2, h1, &net->a1, 0, h1, &net->params, o[OI_NET_W2], h1, &net->a2, 0, h2));
    OI_CHECK(bias_activation(net, &net->a2, m, h2, o[OI_NET_B2]));
    OI_CHECK(gemm(net, NO, YES, m, 1, h2, &net->a2, 0, h2, &net->params, o[OI_NET_W3], h2, &net->z3, 0, 1));
cleanup:
    return status;
}

oclinit_status oi_net_backward(oclinit_network_t net, size_t first, size_t m, size_t iteration) {
    oclinit_status status = OCLINIT_SUCCESS;
    const size_t n = net->shape.inputs, h1 = net->shape.hidden1, h2 = net->shape.hidden2;
    const size_t *o = net->offsets;
    OI_CHECK(oi_net_loss(net, first, m, iteration));
    /* dW3 = dZ3^T A2, dA2 = dZ3 W3, dZ2 = dA2 g'(A2) */
    OI_CHECK(gemm(net, YES, NO, 1, h2, m, &net->z3, 0, 1, &net->a2, 0, h2, &net->grads, o[OI_NET_W3], h2));
    OI_CHECK(gemm(net, NO, NO, m, h2, 1, &net->z3, 0, 1, &net->params, o[OI_NET_W3], h2, &net->d2, 0, h2));
    OI_CHECK(activation_backward(net, &net->d2, &net->a2, m, h2, o[OI_NET_B2]));
    /* dW2 = dZ2^T A1, dA1 = dZ2 W2, dZ1 = dA1 g'(A1) */
    OI_CHECK(gemm(net, YES, NO, h2, h1, m, &net->d2, 0, h2, &net->a1, 0, h1, &net->grads, o[OI_NET_W2], h1));
    OI_CHECK(gemm(net, NO, NO, m, h1, h2, &net->d2, 0, h2, &net->params, o[OI_NET_W2], h1, &net->d1, 0, h1));
    OI_CHECK(activation_backward(net, &net->d1, &net->a1, m, h1, o[OI_NET_B1]));
    /* dW1 = dZ1^T X */
    OI_CHECK(gemm(net, YES, NO, h1, n, m, &net->d1, 0, h1, &net->x, first * n, n, &net->grads, o[OI_NET_W1], n));
cleanup:
    return status;
}

/* Probabilities of m rows starting at row first, after oi_net_forward. */
oclinit_status oi_net_probabilities(oclinit_network_t net, size_t m, float *out) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t bias = net->offsets[OI_NET_B3];
    if (!net->rt) {
        for (size_t i = 0; i < m; i++) out[i] = oi_sigmoid(net->z3.host[i] + net->params.host[bias]);
        return OCLINIT_SUCCESS;
    }
    cl_kernel kernel;
    cl_ulong bias_arg = bias;
    OI_CHECK(oi_runtime_kernel(net->rt, OI_KERNEL_OUTPUT_PROBABILITY, &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 3, sizeof net->z3.mem, &net->z3.mem, sizeof net->params.mem, &net->params.mem,
                                sizeof bias_arg, &bias_arg));
    OI_CHECK(enqueue(net, kernel, m, 0));
    OI_CHECK(oi_net_read(net, &net->z3, 0, out, m));
cleanup:
    return status;
}
