/* Shared by the tests: the device they run on, and small utilities. */
#ifndef OCLINIT_TEST_HELPERS_H
#define OCLINIT_TEST_HELPERS_H

#include <setjmp.h> /* cmocka needs these before its header */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "features/features.h"

/* The device that OCLINIT_TEST_DEVICE names (as --device would), else the default device (OCLINIT_DEVICE, else
 * first GPU, else first CPU: PoCL in CI), built with the given vector width (0 keeps the device's own). Fails the
 * test, never skips it, when there is no such device. The first call in a process prints the device's name. */
oclinit_runtime_t test_device(unsigned lanes);

/* A device test run twice, with the kernels built for 1 lane (as on GPUs) and for 16 (as on CPUs); the test
 * reads its width with test_lanes(state). */
extern const unsigned test_one_lane, test_sixteen_lanes;
#define DEVICE_LANES_TESTS(f)                                                                                          \
    {#f " (1 lane)", f, NULL, NULL, (void *)&test_one_lane}, {                                                         \
#f " (16 lanes)", f, NULL, NULL, (void *)&test_sixteen_lanes                                                   \
    }

static inline unsigned test_lanes(void **state) {
    return *(const unsigned *)*state;
}

/* Asserts status is success and prints the library's detail if not. */
#define assert_ok(expr)                                                                                                \
    do {                                                                                                               \
        oclinit_status assert_ok_status_ = (expr);                                                                     \
        if (assert_ok_status_ != OCLINIT_SUCCESS)                                                                      \
            print_error("%s: %s: %s\n", #expr, oclinit_status_str(assert_ok_status_), oclinit_error_get_detail());     \
        assert_int_equal(assert_ok_status_, OCLINIT_SUCCESS);                                                          \
    } while (0)

/* Builds a kernel program of the tests (embedded like the library's) for the runtime's device. */
cl_program test_build(oclinit_runtime_t runtime, const char *name, const char *source);

/* A device buffer holding count floats or words, optionally copied from host memory. */
cl_mem test_buffer(oclinit_runtime_t runtime, size_t bytes, const void *from);

/* Index of the first differing float (by bits) or -1; prints both values. */
long first_difference(const float *a, const float *b, size_t n, const char *what);

double normal_cdf(double x);

/* Phi^-1(q) in double for q in (0, 1/2], by Newton's method on erfc: the reference for the float quantile. */
double normal_quantile_reference(double q);

/* A child's captured output: the file at fd read from its start into text (NUL-terminated, cut at size - 1), and fd
 * closed. */
void test_read_output(int fd, char *text, size_t size);

#endif
