/* The network's primitives on the host: OpenBLAS for the products, kernels/network.h for the rest, in the order the
 * kernels of network_device.c use, so that both give the same bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/features.h"
#include "network.h"

static oclinit_status host_alloc(oclinit_network_t net, oi_net_buffer *b, size_t floats) {
    (void)net;
    b->host = calloc(floats ? floats : 1, sizeof(float));
    return b->host ? OCLINIT_SUCCESS : oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating %zu floats", floats);
}

static oclinit_status host_write(oclinit_network_t net, oi_net_buffer *b, size_t offset, const float *from,
                                 size_t floats) {
    (void)net;
    memcpy(b->host + offset, from, floats * sizeof(float));
    return OCLINIT_SUCCESS;
}

static oclinit_status host_read(oclinit_network_t net, const oi_net_buffer *b, size_t offset, float *to,
                                size_t floats) {
    (void)net;
    memcpy(to, b->host + offset, floats * sizeof(float));
    return OCLINIT_SUCCESS;
}

static oclinit_status host_zero(oclinit_network_t net, oi_net_buffer *b, size_t floats) {
    (void)net;
    memset(b->host, 0, floats * sizeof(float));
    return OCLINIT_SUCCESS;
}

static oclinit_status host_gemm(oclinit_network_t net, const oi_gemm_shape *shape, const oi_net_buffer *a,
                                size_t a_offset, size_t lda, const oi_net_buffer *b, size_t b_offset, size_t ldb,
                                oi_net_buffer *c, size_t c_offset, size_t ldc) {
    (void)net;
    oi_gemm_host(shape, a->host + a_offset, lda, b->host + b_offset, ldb, c->host + c_offset, ldc);
    return OCLINIT_SUCCESS;
}

static oclinit_status host_bias_activation(oclinit_network_t net, oi_net_buffer *z, size_t rows, size_t units,
                                           size_t bias_offset) {
    const float *bias = net->params.host + bias_offset;
    for (size_t k = 0; k < rows * units; k++)
        z->host[k] = oi_activation((int)net->shape.activation, z->host[k] + bias[k % units], net->shape.negative_slope);
    return OCLINIT_SUCCESS;
}

static oclinit_status host_result(oclinit_network_t net, size_t iteration) {
    float *result = net->result.host;
    result[0] = net->grads.host[net->parameter_count];
    result[1] = net->grads.host[net->parameter_count + 1];
    if (!isfinite(result[0]) && result[2] < 0) result[2] = (float)iteration;
    return OCLINIT_SUCCESS;
}

static oclinit_status host_output_loss(oclinit_network_t net, size_t first, size_t m, size_t batch,
                                       size_t gradient_base, oi_net_buffer *totals, size_t at, bool finish,
                                       size_t iteration) {
    size_t bias = net->offsets[OI_NET_B3];
    float inverse = (float)(1.0 / (double)batch);
    float loss = 0, correct = 0, gradient = 0, b = net->params.host[bias];
    for (size_t i = 0; i < m; i++) {
        float logit = net->z3.host[i] + b, label = net->y.host[first + i], p = oi_sigmoid(logit);
        float d = (p - label) * inverse;
        loss += oi_bce_from_logit(logit, label);
        correct += oi_correct(p, label);
        gradient += d;
        net->z3.host[i] = d;
    }
    totals->host[at] = loss * inverse;
    totals->host[at + 1] = correct * inverse;
    net->grads.host[gradient_base + bias] = gradient;
    return finish ? host_result(net, iteration) : OCLINIT_SUCCESS;
}

static oclinit_status host_add(oclinit_network_t net, size_t to, size_t from, size_t count) {
    float *g = net->grads.host;
    /* Memory-bound: all cores only where the vectors are large enough to pay for waking them. */
#pragma omp parallel for simd schedule(static) if (count > ((size_t)1 << 18))
    for (size_t j = 0; j < count; j++) g[to + j] = g[to + j] + g[from + j];
    return OCLINIT_SUCCESS;
}

static oclinit_status host_activation_backward(oclinit_network_t net, oi_net_buffer *delta, const oi_net_buffer *a,
                                               size_t m, size_t units, size_t bias_offset) {
    for (size_t j = 0; j < units; j++) {
        float sum = 0;
        for (size_t i = 0; i < m; i++) {
            size_t k = i * units + j;
            float d = delta->host[k] *
                      oi_activation_derivative((int)net->shape.activation, a->host[k], net->shape.negative_slope);
            delta->host[k] = d;
            sum += d;
        }
        net->grads.host[bias_offset + j] = sum;
    }
    return OCLINIT_SUCCESS;
}

static oclinit_status host_update(oclinit_network_t net, int optimizer, const oi_step_params *p) {
    for (size_t k = 0; k < net->parameter_count; k++)
        net->params.host[k] = oi_optimizer_step(optimizer, net->params.host[k], net->grads.host[k],
                                                &net->state1.host[k], &net->state2.host[k], *p);
    return OCLINIT_SUCCESS;
}

static oclinit_status host_probabilities(oclinit_network_t net, size_t m, float *out) {
    float bias = net->params.host[net->offsets[OI_NET_B3]];
    for (size_t i = 0; i < m; i++) out[i] = oi_sigmoid(net->z3.host[i] + bias);
    return OCLINIT_SUCCESS;
}

static oclinit_status host_finish(oclinit_network_t net) {
    (void)net;
    return OCLINIT_SUCCESS;
}

const oi_net_backend oi_net_host = {
    host_alloc,           host_write,         host_read,  host_zero,   host_gemm,
    host_bias_activation, host_output_loss,   host_add,   host_result, host_activation_backward,
    host_update,          host_probabilities, host_finish};
