/* Philox4x32-10 against Random123's known answers, on the host and on the device with 1 and 16 lanes, and
 * the contract's mapping from (seed, stream, block) to counter and key. */
#include "helpers.h"
#include "kat_vectors.h"
#include "philox.h"

extern const char test_kernel_shared_math[];

static void host_known_answers(void **state) {
    (void)state;
    for (size_t i = 0; i < PHILOX_KAT_COUNT; i++) {
        const uint32_t *v = philox_kat[i];
        oi_philox_words w = oi_philox4x32_10(v[0], v[1], v[2], v[3], v[4], v[5]);
        for (int k = 0; k < 4; k++) assert_int_equal(w.w[k], v[6 + k]);
    }
}

static void device_known_answers(void **state) {
    unsigned lanes = test_lanes(state);
    oclinit_runtime_t rt = test_device(lanes);
    cl_program program = test_build(rt, "tests/shared_math.cl", test_kernel_shared_math);
    cl_int error;
    cl_kernel kernel = clCreateKernel(program, "philox_known_answers", &error);
    assert_int_equal(error, CL_SUCCESS);
    uint32_t cases[PHILOX_KAT_COUNT][6];
    for (size_t i = 0; i < PHILOX_KAT_COUNT; i++) memcpy(cases[i], philox_kat[i], sizeof cases[i]);
    size_t out_count = PHILOX_KAT_COUNT * 4 * lanes;
    cl_mem in = test_buffer(rt, sizeof cases, cases);
    cl_mem out = test_buffer(rt, out_count * sizeof(uint32_t), NULL);
    assert_int_equal(clSetKernelArg(kernel, 0, sizeof in, &in), CL_SUCCESS);
    assert_int_equal(clSetKernelArg(kernel, 1, sizeof out, &out), CL_SUCCESS);
    size_t items = PHILOX_KAT_COUNT;
    cl_command_queue queue = oclinit_runtime_get_queue(rt);
    assert_int_equal(clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &items, NULL, 0, NULL, NULL), CL_SUCCESS);
    uint32_t *words = malloc(out_count * sizeof *words);
    assert_int_equal(clEnqueueReadBuffer(queue, out, CL_TRUE, 0, out_count * sizeof *words, words, 0, NULL, NULL),
                     CL_SUCCESS);
    for (size_t i = 0; i < PHILOX_KAT_COUNT; i++)
        for (unsigned k = 0; k < 4; k++)
            for (unsigned l = 0; l < lanes; l++) assert_int_equal(words[(4 * i + k) * lanes + l], philox_kat[i][6 + k]);
    free(words);
    clReleaseMemObject(out);
    clReleaseMemObject(in);
    clReleaseKernel(kernel);
    clReleaseProgram(program);
    oclinit_runtime_free(rt);
}

/* key = (s mod 2^32, s div 2^32), counter = (j mod 2^32, j div 2^32, t mod 2^32, t div 2^32). */
static void block_mapping(void **state) {
    (void)state;
    const uint64_t seed = 0x299f31d0a4093822ull, stream = 0x0370734413198a2eull, block = 0x85a308d3243f6a88ull;
    oi_philox_words w = oi_philox_block(seed, stream, block);
    for (int k = 0; k < 4; k++) assert_int_equal(w.w[k], philox_kat[2][6 + k]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(host_known_answers),
        cmocka_unit_test(block_mapping),
        DEVICE_LANES_TESTS(device_known_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
