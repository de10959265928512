/* The network's primitives on a device: CLBlast for the products (blas), kernels/network.cl for the rest. Work is
 * enqueued without waiting; reads wait. */
#include "features/features.h"
#include "network.h"

extern const char oi_kernel_network[];
const oi_program oi_program_network = {"kernels/network.cl", oi_kernel_network, 0};

static oclinit_status device_alloc(oclinit_network_t net, oi_net_buffer *b, size_t floats) {
    return oi_buffer_create(net->rt, (floats ? floats : 1) * sizeof(float), &b->mem);
}

static oclinit_status device_write(oclinit_network_t net, oi_net_buffer *b, size_t offset, const float *from,
                                   size_t floats) {
    cl_int error = clEnqueueWriteBuffer(net->rt->queue, b->mem, CL_TRUE, offset * sizeof(float), floats * sizeof(float),
                                        from, 0, NULL, NULL);
    return error == CL_SUCCESS ? OCLINIT_SUCCESS
                               : oi_fail((oclinit_status)error, "uploading to the device: %s",
                                         oclinit_status_str((oclinit_status)error));
}

static oclinit_status device_read(oclinit_network_t net, const oi_net_buffer *b, size_t offset, float *to,
                                  size_t floats) {
    cl_int error = clEnqueueReadBuffer(net->rt->queue, b->mem, CL_TRUE, offset * sizeof(float), floats * sizeof(float),
                                       to, 0, NULL, NULL);
    return error == CL_SUCCESS ? OCLINIT_SUCCESS
                               : oi_fail((oclinit_status)error, "reading from the device: %s",
                                         oclinit_status_str((oclinit_status)error));
}

static oclinit_status device_zero(oclinit_network_t net, oi_net_buffer *b, size_t floats) {
    cl_float zero = 0.0f;
    cl_int error =
        clEnqueueFillBuffer(net->rt->queue, b->mem, &zero, sizeof zero, 0, floats * sizeof(float), 0, NULL, NULL);
    return error == CL_SUCCESS
               ? OCLINIT_SUCCESS
               : oi_fail((oclinit_status)error, "clearing a buffer: %s", oclinit_status_str((oclinit_status)error));
}

static oclinit_status device_gemm(oclinit_network_t net, const oi_gemm_shape *shape, const oi_net_buffer *a,
                                  size_t a_offset, size_t lda, const oi_net_buffer *b, size_t b_offset, size_t ldb,
                                  oi_net_buffer *c, size_t c_offset, size_t ldc) {
    return oi_gemm_device(net->rt, shape, a->mem, a_offset, lda, b->mem, b_offset, ldb, c->mem, c_offset, ldc,
                          &net->launches);
}

/* Enqueues a kernel of kernels/network.cl whose arguments are set. */
static oclinit_status enqueue(oclinit_network_t net, cl_kernel kernel, size_t items, size_t group) {
    net->launches++;
    return oi_runtime_enqueue(net->rt, kernel, items, group);
}

static oclinit_status device_bias_activation(oclinit_network_t net, oi_net_buffer *z, size_t rows, size_t units,
                                             size_t bias_offset) {
    oclinit_status status = OCLINIT_SUCCESS;
    int activation = (int)net->shape.activation;
    float slope = net->shape.negative_slope;
    cl_kernel kernel;
    cl_uint units_arg = (cl_uint)units;
    cl_ulong offset_arg = bias_offset;
    OI_CHECK(oi_runtime_kernel(net->rt, &oi_program_network, "oi_bias_activation", &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 6, sizeof z->mem, &z->mem, sizeof units_arg, &units_arg, sizeof net->params.mem,
                                &net->params.mem, sizeof offset_arg, &offset_arg, sizeof activation, &activation,
                                sizeof slope, &slope));
    OI_CHECK(enqueue(net, kernel, rows * units, 0));
cleanup:
    return status;
}

#define LOSS_GROUP 64 /* OI_LOSS_GROUP in kernels/network.cl */

static oclinit_status device_output_loss(oclinit_network_t net, size_t first, size_t m, size_t batch,
                                         size_t gradient_base, oi_net_buffer *totals, size_t at, bool finish,
                                         size_t iteration) {
    oclinit_status status = OCLINIT_SUCCESS;
    float inverse = (float)(1.0 / (double)batch);
    cl_kernel kernel;
    cl_ulong y_offset = first, bias_arg = net->offsets[OI_NET_B3], gradient_arg = gradient_base + bias_arg, at_arg = at;
    cl_uint samples = (cl_uint)m, iteration_arg = (cl_uint)iteration;
    cl_int finish_arg = finish;
    OI_CHECK(oi_runtime_kernel(net->rt, &oi_program_network, "oi_output_loss", &kernel));
    OI_CHECK(oi_set_kernel_args(
        kernel, 14, sizeof net->z3.mem, &net->z3.mem, sizeof net->y.mem, &net->y.mem, sizeof y_offset, &y_offset,
        sizeof samples, &samples, sizeof inverse, &inverse, sizeof net->params.mem, &net->params.mem, sizeof bias_arg,
        &bias_arg, sizeof net->grads.mem, &net->grads.mem, sizeof gradient_arg, &gradient_arg, sizeof totals->mem,
        &totals->mem, sizeof at_arg, &at_arg, sizeof finish_arg, &finish_arg, sizeof net->result.mem, &net->result.mem,
        sizeof iteration_arg, &iteration_arg));
    OI_CHECK(enqueue(net, kernel, LOSS_GROUP, LOSS_GROUP));
cleanup:
    return status;
}

static oclinit_status device_add(oclinit_network_t net, size_t to, size_t from, size_t count) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_kernel kernel;
    cl_ulong to_arg = to, from_arg = from;
    OI_CHECK(oi_runtime_kernel(net->rt, &oi_program_network, "oi_add", &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 3, sizeof net->grads.mem, &net->grads.mem, sizeof to_arg, &to_arg,
                                sizeof from_arg, &from_arg));
    OI_CHECK(enqueue(net, kernel, count, 0));
cleanup:
    return status;
}

static oclinit_status device_result(oclinit_network_t net, size_t iteration) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_kernel kernel;
    cl_ulong totals = net->parameter_count;
    cl_uint iteration_arg = (cl_uint)iteration;
    OI_CHECK(oi_runtime_kernel(net->rt, &oi_program_network, "oi_result", &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 4, sizeof net->grads.mem, &net->grads.mem, sizeof totals, &totals,
                                sizeof net->result.mem, &net->result.mem, sizeof iteration_arg, &iteration_arg));
    OI_CHECK(enqueue(net, kernel, 1, 1));
cleanup:
    return status;
}

static oclinit_status device_activation_backward(oclinit_network_t net, oi_net_buffer *delta, const oi_net_buffer *a,
                                                 size_t m, size_t units, size_t bias_offset) {
    oclinit_status status = OCLINIT_SUCCESS;
    int activation = (int)net->shape.activation;
    float slope = net->shape.negative_slope;
    cl_kernel kernel;
    cl_uint samples = (cl_uint)m, units_arg = (cl_uint)units;
    cl_ulong offset_arg = bias_offset;
    OI_CHECK(oi_runtime_kernel(net->rt, &oi_program_network, "oi_activation_backward", &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 8, sizeof delta->mem, &delta->mem, sizeof a->mem, &a->mem, sizeof samples,
                                &samples, sizeof units_arg, &units_arg, sizeof activation, &activation, sizeof slope,
                                &slope, sizeof net->grads.mem, &net->grads.mem, sizeof offset_arg, &offset_arg));
    OI_CHECK(enqueue(net, kernel, units, 0));
cleanup:
    return status;
}

static oclinit_status device_update(oclinit_network_t net, int optimizer, const oi_step_params *p) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_kernel kernel;
    OI_CHECK(oi_runtime_kernel(net->rt, &oi_program_network, "oi_update", &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 12, sizeof net->params.mem, &net->params.mem, sizeof net->grads.mem,
                                &net->grads.mem, sizeof net->state1.mem, &net->state1.mem, sizeof net->state2.mem,
                                &net->state2.mem, sizeof optimizer, &optimizer, sizeof p->learning_rate,
                                &p->learning_rate, sizeof p->momentum, &p->momentum, sizeof p->beta1, &p->beta1,
                                sizeof p->beta2, &p->beta2, sizeof p->epsilon, &p->epsilon, sizeof p->correction1,
                                &p->correction1, sizeof p->correction2, &p->correction2));
    OI_CHECK(enqueue(net, kernel, net->parameter_count, 0));
cleanup:
    return status;
}

static oclinit_status device_probabilities(oclinit_network_t net, size_t m, float *out) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_kernel kernel;
    cl_ulong bias_arg = net->offsets[OI_NET_B3];
    OI_CHECK(oi_runtime_kernel(net->rt, &oi_program_network, "oi_output_probability", &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 3, sizeof net->z3.mem, &net->z3.mem, sizeof net->params.mem, &net->params.mem,
                                sizeof bias_arg, &bias_arg));
    OI_CHECK(enqueue(net, kernel, m, 0));
    OI_CHECK(device_read(net, &net->z3, 0, out, m));
cleanup:
    return status;
}

static oclinit_status device_finish(oclinit_network_t net) {
    cl_int error = clFinish(net->rt->queue);
    return error == CL_SUCCESS ? OCLINIT_SUCCESS
                               : oi_fail((oclinit_status)error, "waiting for %s: %s", net->rt->info.name,
                                         oclinit_status_str((oclinit_status)error));
}

const oi_net_backend oi_net_device = {
    device_alloc,           device_write,         device_read,  device_zero,   device_gemm,
    device_bias_activation, device_output_loss,   device_add,   device_result, device_activation_backward,
    device_update,          device_probabilities, device_finish};
