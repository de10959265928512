/* Element-wise kernels of the three-layer network; every matrix product is a CLBlast call (host/network.c).
 *
 * Layout: activations and their gradients are (samples, units) row-major, element (i, j) at [i units + j].
 * All parameters live in one buffer (W1, b1, W2, b2, W3, b3), the gradients in another with the same layout;
 * kernels take offsets into them. One iteration launches, per micro-batch: oi_bias_activation twice,
 * oi_output_loss once and oi_activation_backward twice; then oi_add once per addition of the micro-batches' tree,
 * oi_result when there is more than one, and oi_update once (README.md, "The network"). */
#include "network.h"

/* z = g(z + b) in place; work-item k is element k of (samples, units). */
__kernel void oi_bias_activation(__global float *z, uint units, __global const float *params, ulong bias_offset,
                                 int activation, float slope) {
    size_t k = get_global_id(0);
    z[k] = oi_activation(activation, z[k] + params[bias_offset + k % units], slope);
}

#define OI_LOSS_GROUP 64

/* The output layer on samples rows of a batch of 1 / inverse_samples rows, in one work-group: logit = z + b3; z
 * becomes dZ3 = (sigmoid(logit) - y) / batch; grads[gradient_offset] (b3's gradient) the sum of dZ3; totals[at] the
 * rows' cross-entropy and totals[at + 1] their correct answers at 0.5, each divided by the batch's rows. With
 * finish (these rows are the whole batch, on one process), also what oi_result does, saving its launch. */
__kernel __attribute__((reqd_work_group_size(OI_LOSS_GROUP, 1, 1))) void
oi_output_loss(__global float *z, __global const float *y, ulong y_offset, uint samples, float inverse_samples,
               __global const float *params, ulong bias_offset, __global float *grads, ulong gradient_offset,
               __global float *totals, ulong at, int finish, __global float *result, uint iteration) {
    __local float loss_sums[OI_LOSS_GROUP], gradient_sums[OI_LOSS_GROUP], correct_sums[OI_LOSS_GROUP];
    uint lid = get_local_id(0);
    float bias = params[bias_offset], loss = 0.0f, gradient = 0.0f, correct = 0.0f;
    for (uint i = lid; i < samples; i += OI_LOSS_GROUP) {
        float logit = z[i] + bias, label = y[y_offset + i], p = oi_sigmoid(logit);
        float d = (p - label) * inverse_samples;
        loss += oi_bce_from_logit(logit, label);
        correct += oi_correct(p, label);
        gradient += d;
        z[i] = d;
    }
    loss_sums[lid] = loss;
    gradient_sums[lid] = gradient;
    correct_sums[lid] = correct;
    for (uint stride = OI_LOSS_GROUP / 2; stride > 0; stride /= 2) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < stride) {
            loss_sums[lid] += loss_sums[lid + stride];
            gradient_sums[lid] += gradient_sums[lid + stride];
            correct_sums[lid] += correct_sums[lid + stride];
        }
    }
    if (lid == 0) {
        float cost = loss_sums[0] * inverse_samples, accuracy = correct_sums[0] * inverse_samples;
        totals[at] = cost;
        totals[at + 1] = accuracy;
        grads[gradient_offset] = gradient_sums[0];
        if (finish) {
            result[0] = cost;
            result[1] = accuracy;
            if (!isfinite(cost) && result[2] < 0.0f) result[2] = (float)iteration;
        }
    }
}

/* One addition of the gradients' tree (host/dist/reduce.c): grads[to + k] += grads[from + k]. */
__kernel void oi_add(__global float *grads, ulong to, ulong from) {
    size_t k = get_global_id(0);
    grads[to + k] = grads[to + k] + grads[from + k];
}

/* The batch's cost and accuracy from the summed totals at grads[totals]; result[2], when still negative, the
 * iteration whose cost is not finite (so the host need not read the cost every iteration to say where training
 * diverged). One work-item. */
__kernel void oi_result(__global const float *grads, ulong totals, __global float *result, uint iteration) {
    float cost = grads[totals];
    result[0] = cost;
    result[1] = grads[totals + 1];
    if (!isfinite(cost) && result[2] < 0.0f) result[2] = (float)iteration;
}

/* delta = dA becomes dZ = dA g'(Z) in place (g' from A), and the bias gradient is its sum over samples;
 * work-item j is unit j. */
__kernel void oi_activation_backward(__global float *delta, __global const float *a, uint samples, uint units,
                                     int activation, float slope, __global float *grads, ulong bias_offset) {
    uint j = get_global_id(0);
    float sum = 0.0f;
    for (uint i = 0; i < samples; i++) {
        size_t k = (size_t)i * units + j;
        float d = delta[k] * oi_activation_derivative(activation, a[k], slope);
        delta[k] = d;
        sum += d;
    }
    grads[bias_offset + j] = sum;
}

/* Every parameter's optimizer step. The states are read and written for every optimizer (plain gradient
 * descent leaves them as they are): reading them only when used compiled to masked loads with a zero mask,
 * which are slow on AMD Zen (see oi_positive in network.h). */
__kernel void oi_update(__global float *params, __global const float *grads, __global float *state1,
                        __global float *state2, int optimizer, float learning_rate, float momentum, float beta1,
                        float beta2, float epsilon, float correction1, float correction2) {
    size_t k = get_global_id(0);
    oi_step_params p = {learning_rate, momentum, beta1, beta2, epsilon, correction1, correction2};
    float s1 = state1[k], s2 = state2[k];
    params[k] = oi_optimizer_step(optimizer, params[k], grads[k], &s1, &s2, p);
    state1[k] = s1;
    state2[k] = s2;
}

/* Probabilities for prediction: p = sigmoid(z + b3) in place. */
__kernel void oi_output_probability(__global float *z, __global const float *params, ulong bias_offset) {
    size_t i = get_global_id(0);
    z[i] = oi_sigmoid(z[i] + params[bias_offset]);
}
