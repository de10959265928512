/* Timing for the benchmarks: the median of repeated runs after a warm-up run, with the spread. */
#ifndef OCLINIT_BENCH_TIMING_H
#define OCLINIT_BENCH_TIMING_H

#include "oclinit.h"

typedef struct timing {
    double median, min, max; /* seconds; NAN when the job failed */
} timing;

typedef oclinit_status (*bench_job)(void *context);

double bench_now(void);

/* Runs job once untimed (kernel compilation, first-touch page faults), then repeat times. */
timing bench_measure(bench_job job, void *context, int repeat);

/* The store-only kernel of bench/fill.cl over count floats of buffer (count a multiple of 16): the device's
 * write limit, the reference line of the init and normalize benchmarks. */
oclinit_status bench_store(oclinit_runtime_t runtime, cl_mem buffer, size_t count);

#endif
