/* The shared float math (kernels/floatmath.h) against double libm on the host, over 2^20 inputs per
 * function, and the device against the host, bit for bit, over the same table. */
#include <math.h>
#include <stdio.h>

#include "distributions.h"
#include "helpers.h"

extern const char test_kernel_shared_math[];

#define TABLE_SIZE (1u << 20)

typedef struct table {
    float x[TABLE_SIZE];    /* log and sqrt: positive normal floats */
    uint32_t m[TABLE_SIZE]; /* sincos: odd 24-bit numerators */
    float q[TABLE_SIZE];    /* tail quantile: (2^-126, 1/2] */
    float log_x[TABLE_SIZE], sqrt_x[TABLE_SIZE], sin_m[TABLE_SIZE], cos_m[TABLE_SIZE], quantile_q[TABLE_SIZE];
} table;

/* Half the inputs spread evenly over the bit patterns of the whole range (all exponents), half where the
 * samplers use them: the uniform values u = (2k + 1) 2^-24 of the contract. */
static table *make_table(void) {
    table *t = calloc(1, sizeof *t);
    assert_non_null(t);
    for (uint32_t i = 0; i < TABLE_SIZE; i++) {
        uint32_t half = TABLE_SIZE / 2, k = i % half;
        uint32_t numerator = ((((uint32_t)((uint64_t)k * (1u << 23) / half)) + (i & 7)) & 0x7fffffu) * 2 + 1;
        float u = (float)numerator * 0x1p-24f;
        t->x[i] =
            i < half ? oi_bits_fvec(0x00800000u + (uint32_t)((uint64_t)k * (0x7f7fffffu - 0x00800000u) / half)) : u;
        t->m[i] = numerator;
        t->q[i] = i < half ? oi_bits_fvec(0x00800000u + (uint32_t)((uint64_t)k * (0x3f000000u - 0x00800000u) / half))
                           : 0.5f * u;
    }
    return t;
}

static void host_evaluate(table *t) {
    for (uint32_t i = 0; i < TABLE_SIZE; i++) {
        t->log_x[i] = oi_log(t->x[i]);
        t->sqrt_x[i] = oi_sqrt(t->x[i]);
        oi_sincos angle = oi_sincos_turn24(t->m[i]);
        t->sin_m[i] = angle.sin;
        t->cos_m[i] = angle.cos;
        t->quantile_q[i] = oi_normal_tail_quantile(t->q[i]);
    }
}

/* Error in units of the last place of the float nearest to the exact value. */
static double ulps(float got, double exact) {
    float nearest = (float)fabs(exact);
    double ulp = (double)nextafterf(nearest, INFINITY) - (double)nearest;
    return fabs((double)got - exact) / ulp;
}

static void host_accuracy(void **state) {
    (void)state;
    table *t = make_table();
    host_evaluate(t);
    double worst_log = 0, worst_sqrt = 0, worst_sincos = 0, worst_quantile = 0;
    for (uint32_t i = 0; i < TABLE_SIZE; i++) {
        worst_log = fmax(worst_log, ulps(t->log_x[i], log((double)t->x[i])));
        worst_sqrt = fmax(worst_sqrt, ulps(t->sqrt_x[i], sqrt((double)t->x[i])));
        double angle = 2 * M_PI * (double)t->m[i] * 0x1p-24;
        worst_sincos = fmax(worst_sincos, fabs(t->sin_m[i] - sin(angle)));
        worst_sincos = fmax(worst_sincos, fabs(t->cos_m[i] - cos(angle)));
        double z = -normal_quantile_reference(t->q[i]);
        worst_quantile = fmax(worst_quantile, fabs(t->quantile_q[i] - z) / fmax(1.0, z));
    }
    printf("over %u inputs each: log %.2f ulp, sqrt %.2f ulp, sin/cos %.2g absolute, quantile %.2g relative\n",
           TABLE_SIZE, worst_log, worst_sqrt, worst_sincos, worst_quantile);
    assert_true(worst_log <= 1.0);
    assert_true(worst_sqrt <= 3.0);
    assert_true(worst_sincos <= 0x1p-23);
    assert_true(worst_quantile <= 1e-6);
    free(t);
}

/* The bar: every normal sample within 1e-6 max(1, |z|) of the same formula in double from the same words. */
static void normal_samples_accuracy(void **state) {
    (void)state;
    double worst = 0;
    const uint64_t blocks = 1u << 19; /* 2^21 samples */
    for (uint64_t j = 0; j < blocks; j++) {
        oi_philox_words w = oi_philox_block(20261129, 3, j);
        oi_block b = oi_normal_block(w, 0.0f, 1.0f);
        for (int k = 0; k < 4; k += 2) {
            double r = sqrt(-2.0 * log((double)oi_uniform(w.w[k])));
            double angle = 2 * M_PI * (double)oi_uniform(w.w[k + 1]);
            double z0 = r * cos(angle), z1 = r * sin(angle);
            worst = fmax(worst, fabs(b.v[k] - z0) / fmax(1.0, fabs(z0)));
            worst = fmax(worst, fabs(b.v[k + 1] - z1) / fmax(1.0, fabs(z1)));
        }
    }
    printf("normal: %llu samples, worst error %.3g x max(1, |z|)\n", (unsigned long long)(4 * blocks), worst);
    assert_true(worst <= 1e-6);
}

/* Truncated normal: the inverse CDF in float against the same p in double. */
static void truncated_samples_accuracy(void **state) {
    (void)state;
    static const float intervals[][2] = {{-2, 2}, {0.5f, 3}, {-1, 4}, {5, 6}, {-9, -8.5f}};
    for (size_t c = 0; c < sizeof intervals / sizeof intervals[0]; c++) {
        oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL,
                                  .mean = 0,
                                  .std = 1,
                                  .a = intervals[c][0],
                                  .b = intervals[c][1],
                                  .shape = {2, {1, 1 << 20}}};
        float *out = malloc(sizeof(float) << 20);
        assert_ok(oclinit_init_fill_host(NULL, &d, 77, 0, 0, 1 << 20, out));
        /* Rebuild the kernel's parameters the way host/init.c documents them, then the exact value. */
        double alpha = d.a, beta = d.b, sign = 1;
        if (alpha + beta > 0) alpha = -d.b, beta = -d.a, sign = -1;
        float lower = (float)normal_cdf(alpha), upper = (float)normal_cdf(-beta);
        float width =
            (float)(beta <= 0 ? normal_cdf(beta) - normal_cdf(alpha) : 1 - normal_cdf(-beta) - normal_cdf(alpha));
        double worst = 0;
        for (uint64_t i = 0; i < (1u << 20); i++) {
            oi_philox_words w = oi_philox_block(77, 0, i / 4);
            double u = oi_uniform(w.w[i % 4]);
            double p = (double)lower + (double)width * u, complement = (double)upper + (double)width * (1 - u);
            double z = p <= 0.5 ? normal_quantile_reference(p) : -normal_quantile_reference(complement);
            double x = fmin(fmax(sign * z, d.a), d.b);
            assert_true(out[i] >= d.a && out[i] <= d.b);
            worst = fmax(worst, fabs(out[i] - x) / fmax(1.0, fabs(x)));
        }
        printf("truncated normal on [%g, %g]: worst error %.3g x max(1, |x|)\n", d.a, d.b, worst);
        assert_true(worst <= 1e-6);
        free(out);
    }
}

static void device_equals_host(void **state) {
    unsigned lanes = test_lanes(state);
    table *host = make_table(), *device = make_table();
    host_evaluate(host);
    oclinit_runtime_t rt = test_device(lanes);
    cl_program program = test_build(rt, "tests/shared_math.cl", test_kernel_shared_math);
    cl_int error;
    cl_kernel kernel = clCreateKernel(program, "math_table", &error);
    assert_int_equal(error, CL_SUCCESS);
    const size_t bytes = TABLE_SIZE * sizeof(float);
    cl_mem buffers[8] = {test_buffer(rt, bytes, host->x), test_buffer(rt, bytes, host->m),
                         test_buffer(rt, bytes, host->q)};
    for (int k = 3; k < 8; k++) buffers[k] = test_buffer(rt, bytes, NULL);
    for (cl_uint k = 0; k < 8; k++)
        assert_int_equal(clSetKernelArg(kernel, k, sizeof(cl_mem), &buffers[k]), CL_SUCCESS);
    size_t items = TABLE_SIZE / lanes;
    cl_command_queue queue = oclinit_runtime_get_queue(rt);
    assert_int_equal(clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &items, NULL, 0, NULL, NULL), CL_SUCCESS);
    float *results[5] = {device->log_x, device->sqrt_x, device->sin_m, device->cos_m, device->quantile_q};
    const float *expected[5] = {host->log_x, host->sqrt_x, host->sin_m, host->cos_m, host->quantile_q};
    const char *names[5] = {"log", "sqrt", "sin", "cos", "quantile"};
    for (int k = 0; k < 5; k++) {
        assert_int_equal(clEnqueueReadBuffer(queue, buffers[3 + k], CL_TRUE, 0, bytes, results[k], 0, NULL, NULL),
                         CL_SUCCESS);
        assert_int_equal(first_difference(results[k], expected[k], TABLE_SIZE, names[k]), -1);
    }
    for (int k = 7; k >= 0; k--) clReleaseMemObject(buffers[k]);
    clReleaseKernel(kernel);
    clReleaseProgram(program);
    oclinit_runtime_free(rt);
    free(device);
    free(host);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(host_accuracy),
        cmocka_unit_test(normal_samples_accuracy),
        cmocka_unit_test(truncated_samples_accuracy),
        DEVICE_LANES_TESTS(device_equals_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
