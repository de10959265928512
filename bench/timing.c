/* Timing and the results table shared by the benchmarks. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The untimed warm-up runs the job for at least this long: after each call OpenBLAS keeps a worker thread
 * spinning for about 0.1 s, which would leave PoCL one core of two when the device runs right after the host. */
#define WARM_UP_SECONDS 0.15

timing bench_measure(bench_job job, void *context, int repeat) {
    return bench_measure_then(job, NULL, context, repeat);
}

timing bench_measure_then(bench_job job, bench_cleanup cleanup, void *context, int repeat) {
    timing t;
    bench_measure_turns(&(bench_task){job, cleanup, context}, 1, repeat, &t);
    return t;
}

/* One run of a task, cleaned up after; false when it failed. */
static bool run_task(const bench_task *task, double *seconds) {
    double start = oi_clock_seconds();
    oclinit_status status = task->job(task->context);
    if (seconds) *seconds = oi_clock_seconds() - start;
    if (task->cleanup) task->cleanup(task->context);
    return status == OCLINIT_SUCCESS;
}

void bench_measure_turns(const bench_task *tasks, size_t count, int repeat, timing *out) {
    double *seconds = calloc((size_t)repeat * count, sizeof *seconds);
    bool *ok = calloc(count, sizeof *ok);
    for (size_t k = 0; k < count; k++) out[k] = (timing){NAN, NAN, NAN};
    if (!seconds || !ok) goto cleanup;
    for (size_t k = 0; k < count; k++) {
        ok[k] = true;
        for (double start = oi_clock_seconds(); ok[k];) {
            ok[k] = run_task(&tasks[k], NULL);
            if (oi_clock_seconds() - start >= WARM_UP_SECONDS) break;
        }
    }
    for (int r = 0; r < repeat; r++)
        for (size_t k = 0; k < count; k++)
            if (ok[k]) ok[k] = run_task(&tasks[k], &seconds[k * (size_t)repeat + (size_t)r]);
    for (size_t k = 0; k < count; k++) {
        if (!ok[k]) continue;
        double *mine = &seconds[k * (size_t)repeat];
        qsort(mine, (size_t)repeat, sizeof *mine, compare_doubles);
        out[k] = (timing){mine[repeat / 2], mine[0], mine[repeat - 1]};
    }
cleanup:
    free(ok);
    free(seconds);
}

int bench_runs(const char *benchmark, int repeat) {
    return strncmp(benchmark, "gemm", 4) == 0 ? 3 * repeat : repeat;
}

bool bench_add(bench_results *results, const char *benchmark, const char *backend, double size, timing t, double work,
               const char *unit, const char *detail) {
    if (results->count == results->capacity) {
        size_t capacity = results->capacity ? 2 * results->capacity : 64;
        bench_row *grown = realloc(results->rows, capacity * sizeof *grown);
        if (!grown) return false;
        results->rows = grown;
        results->capacity = capacity;
    }
    bench_row *row = &results->rows[results->count++];
    memset(row, 0, sizeof *row);
    snprintf(row->benchmark, sizeof row->benchmark, "%s", benchmark);
    snprintf(row->backend, sizeof row->backend, "%s", backend);
    snprintf(row->detail, sizeof row->detail, "%s", detail ? detail : "");
    snprintf(row->unit, sizeof row->unit, "%s", unit);
    row->size = size;
    row->seconds = t;
    row->throughput = work / t.median;
    return true;
}

void bench_note(bench_results *results, const char *format, ...) {
    size_t used = strlen(results->notes);
    va_list args;
    va_start(args, format);
    if (used + 2 < sizeof results->notes)
        vsnprintf(results->notes + used, sizeof results->notes - used - 1, format, args);
    va_end(args);
    used = strlen(results->notes);
    if (used + 1 < sizeof results->notes) strcat(results->notes, "\n");
}

void bench_results_free(bench_results *results) {
    free(results->rows);
    memset(results, 0, sizeof *results);
}

oclinit_status bench_say(const bench_config *cfg, const char *format, ...) {
    char what[160];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    if (cfg->progress && cfg->progress(cfg->user, what)) return OCLINIT_ERROR_CANCELLED;
    return OCLINIT_SUCCESS;
}
