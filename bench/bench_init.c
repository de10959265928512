/* Init throughput: samplers into a device buffer of 2^26 floats (configurable), beside the device's write
 * limit (a store-only kernel and clEnqueueFillBuffer) and beside the host C path on all cores.
 * Each figure is the median of --repeat runs after a warm-up run (kernel compilation is never timed).
 *
 *   build/bench/bench_init [--elements N] [--repeat R] [--device D] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "timing.h"
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct job {
    oclinit_runtime_t runtime;
    oclinit_distribution distribution;
    uint64_t elements;
    cl_mem buffer;
    float *host;
} job;

static oclinit_status device_fill(void *context) {
    job *j = context;
    return oclinit_init_fill_buffer(j->runtime, &j->distribution, 1, 0, 0, j->elements, j->buffer, 0);
}

static oclinit_status host_fill(void *context) {
    job *j = context;
    return oclinit_init_fill_host(NULL, &j->distribution, 1, 0, 0, j->elements, j->host);
}

static oclinit_status store_kernel(void *context) {
    job *j = context;
    return bench_store(j->runtime, j->buffer, (size_t)j->elements);
}

static oclinit_status fill_buffer(void *context) {
    job *j = context;
    float zero = 0;
    cl_command_queue queue = oclinit_runtime_get_queue(j->runtime);
    if (clEnqueueFillBuffer(queue, j->buffer, &zero, sizeof zero, 0, j->elements * sizeof(float), 0, NULL, NULL) !=
        CL_SUCCESS)
        return OCLINIT_ERROR_IO;
    return clFinish(queue) == CL_SUCCESS ? OCLINIT_SUCCESS : OCLINIT_ERROR_IO;
}

static void report(const char *what, const char *where, timing t, uint64_t elements) {
    printf("%-22s %-8s %9.3f G samples/s %8.2f GB/s   median %8.2f ms  (min %.2f, max %.2f)\n", what, where,
           (double)elements / t.median / 1e9, (double)elements * 4 / t.median / 1e9, t.median * 1e3, t.min * 1e3,
           t.max * 1e3);
}

int main(int argc, char **argv) {
    uint64_t elements = (uint64_t)1 << 26;
    int repeat = 7;
    const char *device = NULL;
    static const struct option options[] = {{"elements", required_argument, NULL, 'n'},
                                            {"repeat", required_argument, NULL, 'r'},
                                            {"device", required_argument, NULL, 'd'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'n')
            elements = strtoull(optarg, NULL, 0) / 16 * 16;
        else if (c == 'r')
            repeat = atoi(optarg);
        else if (c == 'd')
            device = optarg;
        else {
            printf("Usage: bench_init [--elements N] [--repeat R] [--device D]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (elements == 0 || repeat < 1) {
        fprintf(stderr, "bench_init: --elements must be >= 16 and --repeat >= 1\n");
        return 2;
    }

    job j = {.elements = elements};
    oclinit_status status = oclinit_runtime_create(device, &j.runtime);
    if (status == OCLINIT_SUCCESS && !oclinit_runtime_get_context(j.runtime)) {
        fprintf(stderr, "bench_init: needs an OpenCL device, not the host C path\n");
        return 1;
    }
    if (status == OCLINIT_SUCCESS) status = oi_buffer_create(j.runtime, elements * sizeof(float), &j.buffer);
    j.host = malloc(elements * sizeof(float));
    if (status != OCLINIT_SUCCESS || !j.host) {
        fprintf(stderr, "bench_init: %s: %s\n", oclinit_status_str(status), oclinit_error_detail());
        return 1;
    }
    const oclinit_device_info *info = oclinit_runtime_get_device(j.runtime);
    printf("bench_init: %llu float32 elements (%.0f MiB), median of %d runs after a warm-up\n",
           (unsigned long long)elements, elements * 4.0 / 1048576, repeat);
    printf("device: %s (%s), host C path: %d threads\n\n", info->name, info->platform_name,
#ifdef _OPENMP
           omp_get_max_threads()
#else
           1
#endif
    );
    report("store-only kernel", "device", bench_measure(store_kernel, &j, repeat), elements);
    report("clEnqueueFillBuffer", "device", bench_measure(fill_buffer, &j, repeat), elements);

    static const struct {
        const char *name;
        oclinit_scheme_kind kind;
    } schemes[] = {{"uniform", OCLINIT_SCHEME_UNIFORM},
                   {"he-normal", OCLINIT_SCHEME_KAIMING_NORMAL},
                   {"trunc-normal", OCLINIT_SCHEME_TRUNC_NORMAL}};
    for (size_t s = 0; s < sizeof schemes / sizeof schemes[0]; s++) {
        oclinit_scheme scheme = oclinit_scheme_default(schemes[s].kind);
        if (oclinit_scheme_resolve(&scheme, 4096, (int64_t)(elements / 4096), &j.distribution) != OCLINIT_SUCCESS) {
            fprintf(stderr, "bench_init: %s\n", oclinit_error_detail());
            return 1;
        }
        j.distribution.rows = (int64_t)elements, j.distribution.columns = 1;
        report(schemes[s].name, "device", bench_measure(device_fill, &j, repeat), elements);
        report(schemes[s].name, "host", bench_measure(host_fill, &j, repeat), elements);
    }
    clReleaseMemObject(j.buffer);
    free(j.host);
    oclinit_runtime_free(j.runtime);
    return 0;
}
