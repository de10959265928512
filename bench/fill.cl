/* The memory limit for init: a kernel that only stores (16 floats per work-item, as init.cl's 16 lanes
 * write 64), so the benchmark can print how close the samplers come to the device's write bandwidth. */
__kernel void store_constant(__global float *out, float value) {
    vstore16((float16)(value), get_global_id(0), out);
}
