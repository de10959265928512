/* The benchmarks behind `oclinit bench`: each measures one capability on the device beside the host C path
 * (and beside numpy and PyTorch, through bench/reference.py) and appends rows to a results table. Each figure
 * is the median of several runs after an untimed warm-up of at least 0.15 s (kernel compilation is never timed). */
#ifndef OCLINIT_BENCH_H
#define OCLINIT_BENCH_H

#include <stdbool.h>
#include <stddef.h>

#include "blas/blas.h"

typedef struct timing {
    double median, min, max; /* seconds; NAN when the job failed */
} timing;

/* One figure: benchmark (init-uniform, normalize-fit, gemm, train, ...), backend (device, host, numpy, ...),
 * size (elements, rows, n, ... as the benchmark says), seconds per run, and throughput = work / seconds. */
typedef struct bench_row {
    char benchmark[32], backend[32], detail[48];
    double size;
    timing seconds;
    double throughput;
    char unit[24];
} bench_row;

typedef struct bench_results {
    bench_row *rows;
    size_t count, capacity;
    char notes[1024]; /* what was skipped and why, one line each */
} bench_results;

typedef struct bench_config {
    oclinit_runtime_t runtime; /* an OpenCL device */
    bool quick;
    int repeat;
    const char *self;     /* this oclinit executable, for the end-to-end runs */
    const char *work_dir; /* where end-to-end runs write their files */
    /* Before each measurement; a non-zero return cancels (OCLINIT_ERROR_CANCELLED). */
    int (*progress)(void *user, const char *what);
    void *user;
} bench_config;

typedef oclinit_status (*bench_job)(void *context);

/* Runs job untimed for at least 0.15 s (at least once), then repeat times. */
timing bench_measure(bench_job job, void *context, int repeat);
/* The same with cleanup after each run, untimed (deleting a 2 GB file costs a third of a second). */
typedef void (*bench_cleanup)(void *context);
timing bench_measure_then(bench_job job, bench_cleanup cleanup, void *context, int repeat);
/* Several tasks in turn: after each one's warm-up, round r runs every task once, so that a disk or a machine whose
 * speed drifts over minutes moves all their figures alike. A task that fails gets NAN and is left out of the rest. */
typedef struct bench_task {
    bench_job job;
    bench_cleanup cleanup;
    void *context;
} bench_task;
void bench_measure_turns(const bench_task *tasks, size_t count, int repeat, timing *out);
/* The runs per figure of a benchmark when the others make repeat: three times as many for gemm and gemm-network,
 * whose products take milliseconds and whose CLBlast figures are the noisiest (bench/README.md). */
int bench_runs(const char *benchmark, int repeat);

/* Appends a row (throughput = work / median seconds); false when out of memory. */
bool bench_add(bench_results *results, const char *benchmark, const char *backend, double size, timing t, double work,
               const char *unit, const char *detail);
void bench_note(bench_results *results, const char *format, ...) __attribute__((format(printf, 2, 3)));
void bench_results_free(bench_results *results);
/* Asks cfg->progress; OCLINIT_ERROR_CANCELLED when it says stop. */
oclinit_status bench_say(const bench_config *cfg, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* init-uniform, init-he-normal, init-trunc-normal: G samples/s into a buffer, 2^16 to 2^28 elements; backends
 * device, host and fill-limit (a store-only kernel: the device's write bandwidth). Then init-orthogonal: M samples/s
 * of an n x n orthogonal tensor made in host memory (QR included). */
oclinit_status bench_init(const bench_config *cfg, bench_results *results);
/* init-npy: `oclinit init` writing an 8192 x 8192 he-normal .npy, process start included. */
oclinit_status bench_init_npy(const bench_config *cfg, bench_results *results);
/* normalize-fit, normalize-apply: z-score on rows x 16 float32, GB/s moved. */
oclinit_status bench_normalize(const bench_config *cfg, bench_results *results);
/* gemm (square n^3) and gemm-network (the large network's shapes): CLBlast against OpenBLAS, GFLOP/s. */
oclinit_status bench_gemm(const bench_config *cfg, bench_results *results);
/* train-article, train-large and train (a [512, h, h, 1] network on 2048 samples): ms per gradient-descent
 * iteration, device against the host twin. */
oclinit_status bench_train(const bench_config *cfg, bench_results *results);
/* model: `oclinit model` writing TinyLlama-1.1B (2 of its 22 layers with --quick) in bf16, on the device and the host
 * C path, against a plain write of the same bytes through the page cache (write-limit) and with O_DIRECT
 * (write-limit-direct); PyTorch's route is bench/reference.py's. GB/s. */
oclinit_status bench_model(const bench_config *cfg, bench_results *results);
int bench_model_layers(const bench_config *cfg);
double bench_model_parameters(int layers);
/* numpy and PyTorch on the CPU at the same sizes, through python3 and bench/reference.py; skipped with a note
 * when they cannot be imported. */
oclinit_status bench_python(const bench_config *cfg, bench_results *results);

/* The sizes each benchmark runs at (quick or full), shared with bench/reference.py through its arguments. */
size_t bench_init_sizes(const bench_config *cfg, double *sizes);
size_t bench_normalize_sizes(const bench_config *cfg, double *sizes);
size_t bench_train_widths(const bench_config *cfg, double *widths);
/* init-orthogonal's n x n (bench_init runs it after the samplers). */
size_t bench_orthogonal_size(const bench_config *cfg);

#endif
