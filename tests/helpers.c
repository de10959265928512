#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

const unsigned test_one_lane = 1, test_sixteen_lanes = 16;

/* OCLINIT_TEST_FILTER runs only the tests whose names match it (cmocka's * and ? patterns), set before main
 * runs cmocka_run_group_tests: the second implementation's runs pick their tests by name that way. */
__attribute__((constructor)) static void apply_test_filter(void) {
    const char *filter = getenv("OCLINIT_TEST_FILTER");
    if (filter && *filter) cmocka_set_test_filter(filter);
}

oclinit_runtime_t test_device(unsigned lanes) {
    static bool named;
    oclinit_runtime_t runtime = NULL;
    const char *spec = getenv("OCLINIT_TEST_DEVICE");
    oclinit_status status = oclinit_runtime_create(spec, &runtime);
    if (status != OCLINIT_SUCCESS || oclinit_runtime_get_context(runtime) == NULL) {
        print_error("device tests need an OpenCL device (CI installs pocl-opencl-icd and mesa-opencl-icd), "
                    "OCLINIT_TEST_DEVICE=\"%s\" must name one and OCLINIT_DEVICE must not be cpu: %s %s\n",
                    spec ? spec : "", oclinit_status_str(status), oclinit_error_get_detail());
        fail();
    }
    if (!named) {
        const oclinit_device_info *d = oclinit_runtime_get_device(runtime);
        print_message("device tests run on %u:%u %s, implementation %s %s\n", d->platform_index, d->device_index,
                      d->name, d->implementation, d->driver_version);
        named = true;
    }
    if (lanes) assert_ok(oi_runtime_set_lanes(runtime, lanes));
    return runtime;
}

cl_program test_build(oclinit_runtime_t runtime, const char *name, const char *source) {
    cl_program program = NULL;
    oclinit_status status = oi_runtime_build(runtime, name, source, &program);
    if (status != OCLINIT_SUCCESS) print_error("%s\n", oclinit_runtime_get_build_log(runtime));
    assert_int_equal(status, OCLINIT_SUCCESS);
    return program;
}

cl_mem test_buffer(oclinit_runtime_t runtime, size_t bytes, const void *from) {
    cl_int error;
    cl_mem buffer = clCreateBuffer(oclinit_runtime_get_context(runtime),
                                   CL_MEM_READ_WRITE | (from ? CL_MEM_COPY_HOST_PTR : 0), bytes, (void *)from, &error);
    assert_int_equal(error, CL_SUCCESS);
    return buffer;
}

long first_difference(const float *a, const float *b, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) {
            print_error("%s: element %zu differs: %.9g vs %.9g\n", what, i, a[i], b[i]);
            return (long)i;
        }
    }
    return -1;
}

double normal_cdf(double x) {
    return 0.5 * erfc(-x / sqrt(2.0));
}

double normal_quantile_reference(double q) {
    double z = -sqrt(-2.0 * log(q));
    for (int i = 0; i < 100; i++) {
        double step = (normal_cdf(z) - q) / (exp(-z * z / 2) / sqrt(2 * M_PI));
        z -= step;
        if (fabs(step) <= 1e-15 * fmax(1.0, fabs(z))) break;
    }
    return z;
}

void test_read_output(int fd, char *text, size_t size) {
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, text, size - 1);
    text[n > 0 ? n : 0] = '\0';
    close(fd);
}
