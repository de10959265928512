/* The oclinit command-line tool: one file per command, shared option parsing and progress display. */
#ifndef OCLINIT_CLI_H
#define OCLINIT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dist/dist.h"
#include "features/features.h"

/* Exit codes: 0 success, 1 the work failed, 2 the command line is wrong, 130 interrupted. */
enum { EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

int command_devices(int argc, char **argv);
int command_init(int argc, char **argv);
int command_normalize(int argc, char **argv);
int command_experiment(int argc, char **argv);
int command_train(int argc, char **argv);
int command_predict(int argc, char **argv);
int command_tune(int argc, char **argv);
int command_bench(int argc, char **argv);
int command_inspect(int argc, char **argv);
int command_model(int argc, char **argv);

/* Strict number parsing: the whole text must be a number in range; on failure prints
 * "oclinit <command>: --<option> ..." and returns false. */
bool parse_int64(const char *command, const char *option, const char *text, int64_t *value);
/* CSV separators: , ; or tab (also written \t). */
bool parse_separator(const char *command, const char *text, char *separator);
/* A whole number of at least minimum. */
bool parse_count(const char *command, const char *option, const char *text, int64_t minimum, int64_t *value);
/* --chunk-mib: a count of MiB whose bytes fit a size_t. */
bool parse_chunk_mib(const char *command, const char *text, int64_t *mib);
bool parse_uint64(const char *command, const char *option, const char *text, uint64_t *value);
bool parse_double(const char *command, const char *option, const char *text, double *value);
/* A number that becomes a float32 (a distribution's parameter, a range, the noise): one out of float32's range is
 * refused quoting the text given, and with keep_nonzero so is one that would round to 0. */
bool parse_float32(const char *command, const char *option, const char *text, bool keep_nonzero, double *value);

/* getopt_long for a command, after options_reset(): the next option's id (or 'h'), -1 at the end, or
 * OPTION_INVALID after printing why (a missing value, an unknown option, a stray argument). */
enum { OPTION_INVALID = -2 };
struct option;
void options_reset(void);
int next_option(const char *command, int argc, char **argv, const struct option *options);

/* Under mpirun, where every rank parses its own command line: each rank's outcome of a step, -1 to go on or an exit
 * code to stop with (its message printed by that rank). Returns -1 when every rank goes on, else, on every rank, the
 * code of the lowest rank that stops. Without a job it returns code. (main.c) */
int stop_together(int code);

/* Prints "oclinit <command>: error: <status>: <detail>" to stderr. */
void report_failure(const char *command, oclinit_status status);

/* A warning when the device's CLBlast cache file was ignored, or (when gemm_matters: products large enough for
 * CLBlast's parameters to count) when there is none. */
void report_tuning(const char *command, oclinit_runtime_t runtime, bool gemm_matters);

/* Signal handlers, installed once (check_files and progress_start call this): SIGINT while a progress display
 * is live cancels the work through its callback; any signal that ends the process (SIGINT otherwise, SIGTERM,
 * SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1/2, ...) first removes the temporary files of the outputs being written.
 * Signals ignored when the process started stay ignored. */
void catch_signals(void);

/* A progress bar on stderr when it is a terminal; its callback also cancels on SIGINT. */
typedef struct progress {
    bool enabled;
    const char *label;
    double start, last_draw;
} progress;

void progress_start(progress *p, const char *label, bool quiet);
int progress_update(void *progress, const oclinit_progress *so_far);
/* For training: iteration, cost, accuracy and rate; returns non-zero after SIGINT. */
int progress_iterations(progress *p, size_t done, size_t total, double cost, double accuracy);
/* For work measured otherwise: a bar at fraction, the elapsed time and a detail; non-zero after SIGINT. */
int progress_status(progress *p, double fraction, const char *detail);
void progress_finish(progress *p);
/* Whether Ctrl-C was seen while work polled for it. */
bool interrupted(void);
/* The exit code of work that failed: 130 when it was cancelled, or failed after Ctrl-C (a driver's compiler may
 * fail on the signal before the work polls it), else 1. */
int failure_exit_code(oclinit_status status);

/* Scheme options, shared by init and train. Each command puts SCHEME_LONG_OPTIONS in its getopt_long table. */
enum {
    OPT_VALUE = 2000,
    OPT_MEAN,
    OPT_STD,
    OPT_A,
    OPT_B,
    OPT_SCALE,
    OPT_GAIN,
    OPT_NEGATIVE_SLOPE,
    OPT_MODE,
    OPT_NONLINEARITY,
    OPT_DISTRIBUTION,
    OPT_SPARSITY,
    OPT_GROUPS,
    OPT_CONVENTION,
    OPT_SCHEME_END
};
#define SCHEME_OPTION_COUNT (OPT_SCHEME_END - OPT_VALUE)
#define SCHEME_LONG_OPTIONS                                                                                            \
    {"value", required_argument, NULL, OPT_VALUE}, {"mean", required_argument, NULL, OPT_MEAN},                        \
        {"std", required_argument, NULL, OPT_STD}, {"a", required_argument, NULL, OPT_A},                              \
        {"b", required_argument, NULL, OPT_B}, {"scale", required_argument, NULL, OPT_SCALE},                          \
        {"gain", required_argument, NULL, OPT_GAIN}, {"negative-slope", required_argument, NULL, OPT_NEGATIVE_SLOPE},  \
        {"mode", required_argument, NULL, OPT_MODE}, {"nonlinearity", required_argument, NULL, OPT_NONLINEARITY},      \
        {"distribution", required_argument, NULL, OPT_DISTRIBUTION},                                                   \
        {"sparsity", required_argument, NULL, OPT_SPARSITY}, {"groups", required_argument, NULL, OPT_GROUPS}, {        \
        "convention", required_argument, NULL, OPT_CONVENTION                                                          \
    }

/* Collected first, applied once the scheme (and so its defaults) is known. */
typedef struct scheme_args {
    bool given[SCHEME_OPTION_COUNT];
    double value, mean, std, a, b, scale, gain, negative_slope, sparsity;
    int64_t groups;
    const char *mode, *nonlinearity, *distribution, *convention;
} scheme_args;

/* 1: id was a scheme option and is stored; -1: its value is bad (message printed); 0: not a scheme option. */
int scheme_option(const char *command, int id, const char *arg, scheme_args *args);
/* The scheme called name with args on top of its defaults; false after printing why. */
bool scheme_build(const char *command, const char *name, const scheme_args *args, oclinit_scheme *scheme);

/* ---- Files (files.c): the output policy ---- */

/* A file a command reads or writes, named by its option in messages. */
typedef struct file_arg {
    const char *option; /* "--output" */
    const char *path;   /* NULL: not given */
    bool streams;       /* an output that may be "-": standard output */
} file_arg;

/* Before any work: every output is "-" only where it streams, else a regular file with one link or a new name
 * (oi_output_check), and none is the same file as an input or another output (existing files compared by
 * device and inode, new ones by their directory's real path and their name). Returns -1 to go on, else the exit
 * code after printing why: EXIT_USAGE for what the policy refuses, EXIT_FAILURE for a directory that is missing or
 * takes no new files (outputs are written as temporaries beside them).
 * Installs the signal handlers too. */
int check_files(const char *command, const file_arg *inputs, size_t input_count, const file_arg *outputs,
                size_t output_count);

/* One output of a command: write(object, out) fills it. */
typedef struct output_file {
    const char *path; /* NULL: not wanted; "-": standard output */
    oi_writer write;
    const void *object;
} output_file;

/* All or none: opens every file, writes and finishes each (standard output last), and only then publishes them;
 * on failure prints why, naming the path, and leaves every file as it was. */
bool write_outputs(const char *command, const output_file *files, size_t count);

/* Text printed by print(out, user), as the object of an output_file whose writer is write_printed. */
typedef struct printed_text {
    bool (*print)(FILE *out, void *user);
    void *user;
} printed_text;
oclinit_status write_printed(const void *text, oi_output *out);

typedef struct plot_series {
    const char *name;
    const double *x, *y;
    size_t count;
} plot_series;

enum { PLOT_LINEAR = 0, PLOT_LOG_X = 1, PLOT_LOG_Y = 2 };

/* An SVG line plot; non-finite points (and non-positive ones on a log scale) are left out. scale: PLOT_LOG_X
 * (powers of two) and PLOT_LOG_Y (powers of ten) or'ed, or PLOT_LINEAR. */
bool write_svg_plot(FILE *out, const char *title, const char *x_label, const char *y_label, unsigned scale,
                    const plot_series *series, size_t count);

/* Training data: a built-in set (circles, moons, spirals) or a CSV / .npy table. */
typedef struct dataset {
    oclinit_table_t table; /* for a built-in set, made from its points */
    float *x, *y;          /* the table's (rows, features) data, and labels (NULL without a label column) */
    size_t rows, features;
    bool built_in;
    /* A file read in part (dataset_request.share): its rows [first, first + rows) of total, and the fingerprint of
     * bytes every rank reads (oi_table_read_part). */
    bool part;
    size_t first, total;
    uint64_t fingerprint;
    const char *label; /* a file's label column: the request's label, or its label_if_column; NULL for none */
} dataset;

typedef struct dataset_request {
    const char *spec;  /* file name or built-in name */
    const char *label; /* label column of a file */
    /* Without label: the label column when the file has a feature of this header name (never an index), as the
     * model's label in data that still hold it; taken out of the table read, so the file is read once. */
    const char *label_if_column;
    oclinit_read_options read;
    size_t samples; /* built-in */
    double noise;   /* built-in */
    uint64_t seed, stream;
    bool share; /* a file: read only this rank's rows (oi_dist_rows) */
} dataset_request;

/* --noise: a float32 number >= 0. */
bool parse_noise(const char *command, const char *text, double *noise);
/* 0, or the exit code after printing why: EXIT_USAGE when the command line is incomplete (a file without --label
 * where labels are needed), else EXIT_FAILURE. */
int load_dataset(const char *command, const dataset_request *request, bool need_labels, dataset *out);
void free_dataset(dataset *d);

/* "column 3" or "column 3 (\"name\")": feature f's column in the table and its name in the statistics. */
void describe_feature(oclinit_normalizer_t n, size_t f, oclinit_table_t table, char *text, size_t size);
/* Warnings on stderr, from normalize and train alike: each feature that was constant in the training data (it maps
 * to one value) or extreme in magnitude (its squares leave float32's range). */
void warn_about_features(const char *command, oclinit_normalizer_t n, oclinit_table_t table);

/* Prints the per-layer diagnostics table and any gradient warning. */
void print_diagnostics(FILE *out, const char *indent, const oclinit_train_report *report);

#endif
