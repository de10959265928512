#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"
#include "timing.h"

extern const char bench_kernel_fill[];

double bench_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

timing bench_measure(bench_job job, void *context, int repeat) {
    double *seconds = calloc((size_t)repeat, sizeof *seconds);
    timing t = {NAN, NAN, NAN};
    oclinit_status status = job(context);
    for (int r = 0; r < repeat && status == OCLINIT_SUCCESS; r++) {
        double start = bench_now();
        status = job(context);
        seconds[r] = bench_now() - start;
    }
    if (status == OCLINIT_SUCCESS) {
        qsort(seconds, (size_t)repeat, sizeof *seconds, compare_doubles);
        t = (timing){seconds[repeat / 2], seconds[0], seconds[repeat - 1]};
    } else {
        fprintf(stderr, "benchmark failed: %s: %s\n", oclinit_status_str(status), oclinit_error_detail());
    }
    free(seconds);
    return t;
}

oclinit_status bench_store(oclinit_runtime_t runtime, cl_mem buffer, size_t count) {
    static cl_kernel kernel = NULL; /* built once per process: the benchmarks use one runtime */
    oclinit_status status = OCLINIT_SUCCESS;
    cl_int error;
    float value = 0.5f;
    size_t items = count / 16;
    if (!kernel) {
        cl_program program;
        OI_CHECK(oi_runtime_build(runtime, "bench/fill.cl", bench_kernel_fill, &program));
        kernel = clCreateKernel(program, "store_constant", &error);
        clReleaseProgram(program); /* the kernel keeps it alive */
        OI_CL_CHECK(error);
    }
    OI_CL_CHECK(clSetKernelArg(kernel, 0, sizeof buffer, &buffer));
    OI_CL_CHECK(clSetKernelArg(kernel, 1, sizeof value, &value));
    OI_CL_CHECK(clEnqueueNDRangeKernel(runtime->queue, kernel, 1, NULL, &items, NULL, 0, NULL, NULL));
    OI_CL_CHECK(clFinish(runtime->queue));
cleanup:
    return status;
}
