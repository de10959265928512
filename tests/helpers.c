#include <math.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

const unsigned test_one_lane = 1, test_sixteen_lanes = 16;

oclinit_runtime_t test_device(unsigned lanes) {
    oclinit_runtime_t runtime = NULL;
    oclinit_status status = oclinit_runtime_create(NULL, &runtime);
    if (status != OCLINIT_SUCCESS || oclinit_runtime_get_context(runtime) == NULL) {
        print_error("device tests need an OpenCL device (CI installs pocl-opencl-icd) and OCLINIT_DEVICE must not "
                    "be cpu: %s %s\n",
                    oclinit_status_str(status), oclinit_error_get_detail());
        fail();
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
