/* oclinit: reproducible neural-network weight initialization on OpenCL devices.
 *
 * One header, opaque handles, every symbol prefixed oclinit_. Every fallible function returns an
 * oclinit_status; oclinit_status_str() names it and oclinit_error_get_detail() says what went wrong in the
 * calling thread's last failed call. The library never prints and never exits.
 *
 * A NULL pointer argument (handle, output pointer, array, string) that is not stated to be optional is refused with
 * OCLINIT_ERROR_INVALID_ARGUMENT and the detail "<function>: <argument> is NULL". Functions that return a value
 * rather than a status return the empty value noted beside them ("on NULL: ...") for a NULL handle or an index out of
 * range, and record the same detail; the *_free functions accept NULL. Sizes computed from the arguments (rows x
 * features, samples x inputs, ...) that do not fit in memory's address space give OCLINIT_ERROR_SIZE_OVERFLOW.
 *
 * Every function that writes a file (oclinit_init_write_npy, oclinit_table_write, oclinit_normalizer_save,
 * oclinit_network_save) writes "<path>.tmp-<pid>-<n>" beside path and renames it into place when complete. path
 * must be a regular file with one link, or not exist: a directory, FIFO, device, socket, symbolic link or
 * hard-linked file is refused (OCLINIT_ERROR_INVALID_ARGUMENT) and left untouched. A replaced file keeps its
 * permissions (and owner, for root). path's own temporary files left by processes that no longer exist (and hold
 * no lock on them) are removed.
 *
 * Weights are float32, laid out (fan_out, fan_in) row-major as in PyTorch. Element i of a tensor made with
 * (seed, stream) is the same number on every device and on the host C path, whether the tensor is made
 * whole or in slices (README.md, "Reproducibility"). */
#ifndef OCLINIT_H
#define OCLINIT_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(OCLINIT_BUILDING)
#define OCLINIT_API __attribute__((visibility("default")))
#else
#define OCLINIT_API
#endif

#define OCLINIT_VERSION_MAJOR 0
#define OCLINIT_VERSION_MINOR 2
#define OCLINIT_VERSION_PATCH 0

/* ---- Status ------------------------------------------------------------------------------------------ */

/* Values from -1 to -1999 are OpenCL's own error codes, passed through unchanged (CL_OUT_OF_RESOURCES is
 * -5 here too); oclinit's own codes start at -2001. */
typedef enum oclinit_status {
    OCLINIT_SUCCESS = 0,
    OCLINIT_ERROR_INVALID_ARGUMENT = -2001,
    OCLINIT_ERROR_OUT_OF_HOST_MEMORY = -2002,
    OCLINIT_ERROR_NO_PLATFORM = -2003,
    OCLINIT_ERROR_DEVICE_NOT_FOUND = -2004,
    OCLINIT_ERROR_KERNEL_BUILD = -2005,
    OCLINIT_ERROR_OUT_OF_DEVICE_MEMORY = -2006,
    OCLINIT_ERROR_SIZE_OVERFLOW = -2007,
    OCLINIT_ERROR_IO = -2008,
    OCLINIT_ERROR_NO_SPACE = -2009,
    OCLINIT_ERROR_CANCELLED = -2010,
    OCLINIT_ERROR_NOT_SUPPORTED = -2011,
    OCLINIT_ERROR_DIVERGED = -2012, /* the training cost became NaN or infinite, or grew tenfold and stayed */
    OCLINIT_ERROR_BLAS = -2013,     /* CLBlast failed; the detail has its code */
    OCLINIT_ERROR_BAD_MODEL = -2014,
} oclinit_status;

/* A short static description of a status, e.g. "invalid argument" or "CL_OUT_OF_RESOURCES". */
OCLINIT_API const char *oclinit_status_str(oclinit_status status);

/* What the calling thread's last failed call said (which argument, which file, which device), or "". */
OCLINIT_API const char *oclinit_error_get_detail(void);

/* ---- Statistics and progress, shared by every long call -------------------------------------------------- */

/* Statistics of a tensor (oclinit_init_write_npy) or of a feature (oclinit_normalizer_get_stats). */
typedef struct oclinit_stats {
    uint64_t count;
    double mean, std, min, max; /* std: population (ddof 0) */
} oclinit_stats;

typedef struct oclinit_train_report oclinit_train_report;
typedef struct oclinit_tuning_report oclinit_tuning_report;

/* What a long call has done so far. done and total count its units: elements (oclinit_init_write_npy),
 * iterations (oclinit_network_train), candidates (oclinit_tuning_run, whose total is 0: not known ahead). */
typedef struct oclinit_progress {
    uint64_t done, total;
    const oclinit_train_report *train;   /* oclinit_network_train: the iteration's report; otherwise NULL */
    const oclinit_tuning_report *tuning; /* oclinit_tuning_run: the report so far; otherwise NULL */
} oclinit_progress;

/* The one callback type of every long call: a non-zero return cancels it (OCLINIT_ERROR_CANCELLED). */
typedef int (*oclinit_progress_fn)(void *user, const oclinit_progress *progress);

/* ---- Devices and runtime ------------------------------------------------------------------------------ */

typedef enum oclinit_device_type {
    OCLINIT_DEVICE_HOST, /* the plain C path, no OpenCL */
    OCLINIT_DEVICE_CPU,
    OCLINIT_DEVICE_GPU,
    OCLINIT_DEVICE_ACCELERATOR,
    OCLINIT_DEVICE_OTHER,
} oclinit_device_type;

typedef struct oclinit_device_info {
    unsigned platform_index, device_index; /* what --device P:D names */
    char platform_name[128];
    char name[128];
    char version[128]; /* CL_DEVICE_VERSION, e.g. "OpenCL 3.0 PoCL ..." */
    oclinit_device_type type;
    uint64_t global_memory;  /* bytes */
    uint64_t max_allocation; /* bytes in one buffer */
    unsigned compute_units;
    bool fp64;
    bool correctly_rounded_divide_sqrt; /* float divide and sqrt correctly rounded (CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT)
                                         */
} oclinit_device_info;

OCLINIT_API const char *oclinit_device_type_str(oclinit_device_type type);

/* Every device of every platform, in platform order. Writes at most capacity entries and sets *count to the
 * number that exist. OCLINIT_ERROR_NO_PLATFORM when no OpenCL platform is installed. */
OCLINIT_API oclinit_status oclinit_device_list(oclinit_device_info *devices, size_t capacity, size_t *count);

/* Resolves a device name as oclinit_runtime_create() would, without creating anything. */
OCLINIT_API oclinit_status oclinit_device_find(const char *device, oclinit_device_info *info);

/* A device with its context, queue and compiled kernels; or the host C path. Not thread-safe: use one
 * runtime per thread. */
typedef struct oclinit_runtime *oclinit_runtime_t;

/* device: "P:D" (platform and device index, as `oclinit devices` lists them), part of a device name
 * (case-insensitive), or "cpu" for the host C path. NULL or "" means the OCLINIT_DEVICE environment
 * variable, and without it the first GPU, else the first CPU device, else the first device. */
OCLINIT_API oclinit_status oclinit_runtime_create(const char *device, oclinit_runtime_t *runtime);
/* A runtime on a command queue the caller made: oclinit enqueues its work there (and on the queue's context and
 * device), retains the queue while the runtime lives, and never finishes work it did not enqueue. */
OCLINIT_API oclinit_status oclinit_runtime_create_from_queue(cl_command_queue queue, oclinit_runtime_t *runtime);
OCLINIT_API void oclinit_runtime_free(oclinit_runtime_t runtime);
/* On NULL: NULL. */
OCLINIT_API const oclinit_device_info *oclinit_runtime_get_device(oclinit_runtime_t runtime);
/* NULL for the host C path. On NULL: NULL. */
OCLINIT_API cl_context oclinit_runtime_get_context(oclinit_runtime_t runtime);
OCLINIT_API cl_command_queue oclinit_runtime_get_queue(oclinit_runtime_t runtime);
/* The compiler's log of the last kernel build, "" if none; after OCLINIT_ERROR_KERNEL_BUILD it says why. On NULL:
 * "". */
OCLINIT_API const char *oclinit_runtime_get_build_log(oclinit_runtime_t runtime);

/* ---- CLBlast tuned for the device ---------------------------------------------------------------------- */

/* CLBlast picks its GEMM kernel's parameters from a database of known devices; others (PoCL's CPU device
 * among them) get generic ones. oclinit_tuning_run searches better ones for a device and keeps them in a
 * per-device cache file, which is applied the first time a matrix product runs on that device (a runtime
 * that only makes weights leaves CLBlast as it is). */
typedef enum oclinit_tuning_state {
    OCLINIT_TUNING_NONE,    /* no cache file for the device (or the host C path): CLBlast's own parameters */
    OCLINIT_TUNING_APPLIED, /* the device's cache file is in use */
    OCLINIT_TUNING_IGNORED, /* the cache file could not be read or used: ignored, the message says why */
} oclinit_tuning_state;

/* The device's cache file: $OCLINIT_CACHE_DIR, else $XDG_CACHE_HOME/oclinit, else ~/.cache/oclinit, then
 * clblast-<device name>-<hash of platform, name and driver version>.txt. */
OCLINIT_API oclinit_status oclinit_tuning_get_path(const oclinit_device_info *device, char *path, size_t size);
/* Reads and checks the device's cache file without applying it; message (may be NULL) says why IGNORED. On NULL
 * device: OCLINIT_TUNING_NONE. */
OCLINIT_API oclinit_tuning_state oclinit_tuning_check(const oclinit_device_info *device, char *message, size_t size);
/* What the runtime's first matrix product did with the cache file (NONE before any); *message (may be NULL) is
 * "" or why it was ignored. On NULL runtime: OCLINIT_TUNING_NONE. */
OCLINIT_API oclinit_tuning_state oclinit_tuning_get_state(oclinit_runtime_t runtime, const char **message);

/* The shapes tuning times: 1024^3 and the large products of a [512, 1024, 1024, 1] network on 2048 samples. */
#define OCLINIT_TUNING_SHAPES 6

struct oclinit_tuning_report {
    size_t candidates;     /* parameter sets timed */
    size_t rejected;       /* of those, the ones CLBlast refused or whose products were wrong */
    double seconds;        /* so far */
    double before, best;   /* GFLOP/s over all shapes: at the start (the parameters in use) and the best found */
    double shape_before[OCLINIT_TUNING_SHAPES], shape_after[OCLINIT_TUNING_SHAPES]; /* per shape, when done */
    bool converged;        /* no neighbour of the best was faster: stopped before the budget */
    bool saved;            /* the best beat the start and is in the cache file */
    char parameters[512];  /* the parameters saved, as the cache file holds them; "" when nothing was saved */
    char path[1024];       /* the cache file */
};

typedef struct oclinit_tuning_options {
    double budget_seconds; /* stops starting new candidates after this long; 0 means 600 */
    oclinit_progress_fn progress; /* after each candidate; cancelling saves nothing */
    void *user;
} oclinit_tuning_options;

/* Searches the parameters of CLBlast's SGEMM kernel for the runtime's device, each candidate timed at
 * the OCLINIT_TUNING_SHAPES shapes and its products checked against OpenBLAS, then the product size from which CLBlast
 * should use that kernel rather than its direct one, and the budget by which long products split K to keep the
 * panels of A and B in the caches. Saves all three in the device's cache file when they beat the parameters in
 * use at the start (or refreshes a saved tuning the search started from). Afterwards this process uses the best
 * found too. OCLINIT_ERROR_NOT_SUPPORTED on the host C path. */
OCLINIT_API oclinit_status oclinit_tuning_run(oclinit_runtime_t runtime, const oclinit_tuning_options *options,
                                              oclinit_tuning_report *report);

/* ---- Initialization schemes --------------------------------------------------------------------------- */

typedef enum oclinit_scheme_kind {
    OCLINIT_SCHEME_ZEROS,
    OCLINIT_SCHEME_ONES,
    OCLINIT_SCHEME_CONSTANT,        /* value */
    OCLINIT_SCHEME_EYE,             /* ones on the diagonal, as torch.nn.init.eye_ */
    OCLINIT_SCHEME_UNIFORM,         /* U(a, b) */
    OCLINIT_SCHEME_NORMAL,          /* N(mean, std^2) */
    OCLINIT_SCHEME_TRUNC_NORMAL,    /* N(mean, std^2) cut to [a, b], as torch.nn.init.trunc_normal_ */
    OCLINIT_SCHEME_SCALED_NORMAL,   /* N(0, 1) * scale: the article's "too large" (10) and "too small" (0.01) */
    OCLINIT_SCHEME_XAVIER_NORMAL,   /* std = gain sqrt(2 / (fan_in + fan_out)) (PyTorch, Glorot) */
    OCLINIT_SCHEME_XAVIER_UNIFORM,  /* bound = gain sqrt(6 / (fan_in + fan_out)) */
    OCLINIT_SCHEME_KAIMING_NORMAL,  /* std = gain(nonlinearity, negative_slope) / sqrt(fan(mode)) (PyTorch) */
    OCLINIT_SCHEME_KAIMING_UNIFORM, /* bound = sqrt(3) std */
    OCLINIT_SCHEME_LECUN_NORMAL,    /* Keras: variance scaling 1, fan_in, truncated normal */
    OCLINIT_SCHEME_LECUN_UNIFORM,   /* Keras: variance scaling 1, fan_in, uniform */
    OCLINIT_SCHEME_VARIANCE_SCALING /* Keras: variance = scale / fan(mode), distribution */
} oclinit_scheme_kind;

typedef enum oclinit_fan_mode { OCLINIT_FAN_IN, OCLINIT_FAN_OUT, OCLINIT_FAN_AVG } oclinit_fan_mode;

/* torch.nn.init.calculate_gain's nonlinearities. */
typedef enum oclinit_nonlinearity {
    OCLINIT_NONLINEARITY_LINEAR,
    OCLINIT_NONLINEARITY_SIGMOID,
    OCLINIT_NONLINEARITY_TANH,
    OCLINIT_NONLINEARITY_RELU,
    OCLINIT_NONLINEARITY_LEAKY_RELU,
    OCLINIT_NONLINEARITY_SELU,
} oclinit_nonlinearity;

typedef enum oclinit_distribution_kind {
    OCLINIT_DISTRIBUTION_CONSTANT,
    OCLINIT_DISTRIBUTION_EYE,
    OCLINIT_DISTRIBUTION_UNIFORM,
    OCLINIT_DISTRIBUTION_NORMAL,
    OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL,
} oclinit_distribution_kind;

/* A scheme and its options; fields a scheme does not use are ignored. Start from oclinit_scheme_default(),
 * which sets PyTorch's (or for lecun and variance scaling, Keras's) defaults. */
typedef struct oclinit_scheme {
    oclinit_scheme_kind kind;
    double value;                           /* constant */
    double mean, std;                       /* normal, trunc-normal (std before truncation) */
    double a, b;                            /* uniform bounds; trunc-normal cut-offs (absolute, as PyTorch) */
    double scale;                           /* scaled-normal factor; variance-scaling scale */
    double gain;                            /* xavier-*: gain */
    double negative_slope;                  /* kaiming-*: slope of leaky_relu (PyTorch's a) */
    oclinit_fan_mode mode;                  /* kaiming-*: fan_in or fan_out; variance-scaling: also fan_avg */
    oclinit_nonlinearity nonlinearity;      /* kaiming-* */
    oclinit_distribution_kind distribution; /* variance-scaling: NORMAL, TRUNCATED_NORMAL or UNIFORM */
} oclinit_scheme;

OCLINIT_API oclinit_scheme oclinit_scheme_default(oclinit_scheme_kind kind);

/* Names as the CLI spells them ("kaiming-normal"; "he-normal", "glorot-uniform" and snake_case are
 * accepted too). OCLINIT_ERROR_INVALID_ARGUMENT for an unknown name. */
OCLINIT_API oclinit_status oclinit_scheme_kind_parse(const char *name, oclinit_scheme_kind *kind);
OCLINIT_API const char *oclinit_scheme_kind_str(oclinit_scheme_kind kind);
OCLINIT_API oclinit_status oclinit_fan_mode_parse(const char *name, oclinit_fan_mode *mode);
OCLINIT_API const char *oclinit_fan_mode_str(oclinit_fan_mode mode);
OCLINIT_API oclinit_status oclinit_nonlinearity_parse(const char *name, oclinit_nonlinearity *nonlinearity);
OCLINIT_API const char *oclinit_nonlinearity_str(oclinit_nonlinearity nonlinearity);
OCLINIT_API oclinit_status oclinit_distribution_kind_parse(const char *name, oclinit_distribution_kind *kind);
OCLINIT_API const char *oclinit_distribution_kind_str(oclinit_distribution_kind kind);

/* torch.nn.init.calculate_gain. */
OCLINIT_API double oclinit_nonlinearity_gain(oclinit_nonlinearity nonlinearity, double negative_slope);

/* What a scheme draws for a (fan_out, fan_in) layer: a concrete distribution with float parameters. */
typedef struct oclinit_distribution {
    oclinit_distribution_kind kind;
    float value;           /* constant */
    float mean, std;       /* normal; truncated normal (std before truncation) */
    float a, b;            /* uniform bounds; truncation bounds (absolute) */
    int64_t rows, columns; /* the shape: eye needs it */
} oclinit_distribution;

/* Checks the options (std > 0, a < b, fans > 0, ...) and resolves the scheme for a (fan_out, fan_in) layer. */
OCLINIT_API oclinit_status oclinit_scheme_resolve(const oclinit_scheme *scheme, int64_t fan_in, int64_t fan_out,
                                                  oclinit_distribution *distribution);

/* The exact mean and standard deviation of what the distribution draws (for eye: of the whole matrix). On NULL:
 * NaN into those of mean and std that are not NULL. */
OCLINIT_API void oclinit_distribution_get_moments(const oclinit_distribution *distribution, double *mean, double *std);

/* Writes e.g. "normal(mean=0, std=0.0441942)" into text. On NULL distribution: "". */
OCLINIT_API void oclinit_distribution_describe(const oclinit_distribution *distribution, char *text, size_t size);

/* ---- Filling --------------------------------------------------------------------------------------------
 * Elements [first, first + count) of the tensor drawn from distribution with (seed, stream). Any slice made
 * alone equals the same slice of the whole tensor, so sharded layers need no coordination. */

/* Into a device buffer, at element offset buffer_offset; enqueued on the runtime's queue, which is finished
 * before return. The runtime must be a device (not "cpu"). */
OCLINIT_API oclinit_status oclinit_init_fill_buffer(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                                    uint64_t seed, uint64_t stream, uint64_t first, uint64_t count,
                                                    cl_mem buffer, size_t buffer_offset);

/* Into host memory: on the runtime's device (through a device buffer of at most 64 MiB at a time) or, with a
 * NULL or "cpu" runtime, with the host C path on all cores. */
OCLINIT_API oclinit_status oclinit_init_fill_host(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                                  uint64_t seed, uint64_t stream, uint64_t first, uint64_t count,
                                                  float *out);

/* ---- Writing a layer to a .npy file ---------------------------------------------------------------------- */

typedef struct oclinit_write_options {
    size_t chunk_bytes; /* memory per chunk (two host chunks and one device chunk live at once); 0: 64 MiB */
    oclinit_progress_fn progress; /* after each chunk */
    void *user;
    oclinit_stats *stats; /* when not NULL, filled with the statistics of the whole tensor */
} oclinit_write_options;

/* Writes the (distribution->rows, distribution->columns) float32 tensor to a .npy file that numpy loads
 * with that shape. Made and written in chunks, so layers larger than device memory or RAM work. The file
 * appears under path only when complete: it is written to a temporary name beside it and renamed; on any
 * failure the temporary file is removed and an existing file at path is left untouched. options may be NULL. */
OCLINIT_API oclinit_status oclinit_init_write_npy(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                                  uint64_t seed, uint64_t stream, const char *path,
                                                  const oclinit_write_options *options);

/* ---- Tables: CSV and .npy files of samples x features ------------------------------------------------------
 * A table holds the numeric features of a file as a (rows, features) float32 row-major matrix, and passes an
 * optional label column through unchanged. CSV: comma, semicolon or tab (detected), RFC 4180 quotes, LF or
 * CRLF, blank lines skipped, a header row detected. .npy: 2-D float32 or float64 in C order (recognized by
 * its magic bytes, whatever the file name). Writing follows the format the table was read in. Bad files are
 * refused with the 1-based line (CSV) or row (.npy) and column of the first problem. */

typedef struct oclinit_table *oclinit_table_t;

typedef enum oclinit_header { OCLINIT_HEADER_AUTO, OCLINIT_HEADER_YES, OCLINIT_HEADER_NO } oclinit_header;

typedef struct oclinit_read_options {
    oclinit_header header; /* CSV: AUTO takes the first row as a header when it is text over numbers */
    char separator;        /* CSV: ',', ';' or '\t'; 0 detects it from the first line */
    const char *label;     /* the label column: its header name or its 1-based index; NULL for none */
} oclinit_read_options;

/* A table holding a copy of (rows, features) data, with no names and no label column (written as CSV). */
OCLINIT_API oclinit_status oclinit_table_create(size_t rows, size_t features, const float *data,
                                                oclinit_table_t *table);
/* options may be NULL (all defaults). */
OCLINIT_API oclinit_status oclinit_table_read(const char *path, const oclinit_read_options *options,
                                              oclinit_table_t *table);
/* Writes the table (with its current data) in the format it was read in; the file appears only when complete. */
OCLINIT_API oclinit_status oclinit_table_write(oclinit_table_t table, const char *path);
OCLINIT_API void oclinit_table_free(oclinit_table_t table);
/* On NULL: 0. */
OCLINIT_API size_t oclinit_table_get_rows(oclinit_table_t table);
OCLINIT_API size_t oclinit_table_get_features(oclinit_table_t table);
/* The (rows, features) row-major matrix, to read or change in place. On NULL: NULL. */
OCLINIT_API float *oclinit_table_get_data(oclinit_table_t table);
/* The feature's 1-based column in the file, and its header name (NULL without a header). On NULL or a feature out
 * of range: 0 and NULL. */
OCLINIT_API size_t oclinit_table_get_feature_column(oclinit_table_t table, size_t feature);
OCLINIT_API const char *oclinit_table_get_feature_name(oclinit_table_t table, size_t feature);
/* The label's 1-based column in the file (0 for none), and its header name (NULL without one). On NULL: 0, NULL. */
OCLINIT_API size_t oclinit_table_get_label_column(oclinit_table_t table);
OCLINIT_API const char *oclinit_table_get_label_name(oclinit_table_t table);

/* ---- Normalization ----------------------------------------------------------------------------------------
 * Fitted on training data, applied unchanged to any data, as scikit-learn's MinMaxScaler and StandardScaler:
 *   minmax: lo + (x - min) (hi - lo) / (max - min); both ends of the training range map exactly to lo, hi.
 *   zscore: (x - mean) / std, std the population one (ddof 0).
 * A constant feature (max == min) becomes lo (minmax) or 0 (zscore). Statistics are computed per chunk of
 * rows on the device (or the host twin, bit for bit the same) and merged in double; each chunk is scaled by a
 * power of two first, so any finite float32 data (1e-45 to 3.4e38 in magnitude) have their statistics and a
 * finite transform. Data with a NaN or an infinity are refused, naming the feature. */

typedef enum oclinit_normalize_method { OCLINIT_NORMALIZE_MINMAX, OCLINIT_NORMALIZE_ZSCORE } oclinit_normalize_method;

OCLINIT_API oclinit_status oclinit_normalize_method_parse(const char *name, oclinit_normalize_method *method);
OCLINIT_API const char *oclinit_normalize_method_str(oclinit_normalize_method method);

typedef struct oclinit_normalizer *oclinit_normalizer_t;

/* Fits on a table's features (names and label column are kept for the statistics file). At least two rows. */
OCLINIT_API oclinit_status oclinit_normalizer_fit(oclinit_runtime_t runtime, oclinit_normalize_method method, double lo,
                                                  double hi, oclinit_table_t table, oclinit_normalizer_t *normalizer);
/* Fits on (rows, features) float32 data already in a device buffer. */
OCLINIT_API oclinit_status oclinit_normalizer_fit_buffer(oclinit_runtime_t runtime, oclinit_normalize_method method,
                                                         double lo, double hi, cl_mem data, size_t rows,
                                                         size_t features, oclinit_normalizer_t *normalizer);
/* Transforms a table's features in place; they must match the fitted ones in number (and names, when both
 * have names). Data so far outside the fitted range that a result would pass float32's range (3e38 with a
 * training std of 0.1) give OCLINIT_ERROR_INVALID_ARGUMENT naming the row and feature, as do statistics
 * (from a file) that float32 cannot apply; the table's data are then not to be used. */
OCLINIT_API oclinit_status oclinit_normalizer_apply(oclinit_runtime_t runtime, oclinit_normalizer_t normalizer,
                                                    oclinit_table_t table);
/* Transforms rows x features floats from in to out on the device (in == out is allowed). Unlike
 * oclinit_normalizer_apply it does not read the results back to check them: a result beyond float32's range
 * is written as an infinity. */
OCLINIT_API oclinit_status oclinit_normalizer_apply_buffer(oclinit_runtime_t runtime, oclinit_normalizer_t normalizer,
                                                           cl_mem in, cl_mem out, size_t rows);
/* A small text file (README.md, "Normalization statistics"); the file appears only when complete. */
OCLINIT_API oclinit_status oclinit_normalizer_save(oclinit_normalizer_t normalizer, const char *path);
OCLINIT_API oclinit_status oclinit_normalizer_load(const char *path, oclinit_normalizer_t *normalizer);
OCLINIT_API void oclinit_normalizer_free(oclinit_normalizer_t normalizer);
/* Accessors. On NULL or a feature out of range: OCLINIT_NORMALIZE_MINMAX, NaN into lo and hi (those not NULL), 0,
 * statistics of count 0 and NaN values, NULL, NULL, false. */
OCLINIT_API oclinit_normalize_method oclinit_normalizer_get_method(oclinit_normalizer_t normalizer);
OCLINIT_API void oclinit_normalizer_get_range(oclinit_normalizer_t normalizer, double *lo, double *hi);
OCLINIT_API size_t oclinit_normalizer_get_features(oclinit_normalizer_t normalizer);
OCLINIT_API oclinit_stats oclinit_normalizer_get_stats(oclinit_normalizer_t normalizer, size_t feature);
/* The feature's name when fitted on a table with a header, else NULL. */
OCLINIT_API const char *oclinit_normalizer_get_feature_name(oclinit_normalizer_t normalizer, size_t feature);
/* The label column recorded at fitting: its header name, else its 1-based index as text; NULL for none. */
OCLINIT_API const char *oclinit_normalizer_get_label(oclinit_normalizer_t normalizer);
/* True when the feature was constant in the training data, max == min (it maps to a single value). */
OCLINIT_API bool oclinit_normalizer_is_constant(oclinit_normalizer_t normalizer, size_t feature);

/* ---- The three-layer network -------------------------------------------------------------------------------
 * [inputs, hidden1, hidden2, 1]: LINEAR -> g -> LINEAR -> g -> LINEAR -> SIGMOID, binary cross-entropy
 * computed from the logits. All parameters live in one buffer (W1, b1, W2, b2, W3, b3; W as (fan_out,
 * fan_in) row-major). On a device every matrix product is a CLBlast SGEMM; on the host C path ("cpu") an
 * OpenBLAS cblas_sgemm. Data are (samples, inputs) row-major float32, labels 0 or 1. */

typedef enum oclinit_activation {
    OCLINIT_ACTIVATION_RELU,
    OCLINIT_ACTIVATION_LEAKY_RELU,
    OCLINIT_ACTIVATION_TANH,
    OCLINIT_ACTIVATION_SIGMOID,
} oclinit_activation;

typedef enum oclinit_optimizer {
    OCLINIT_OPTIMIZER_GD,       /* full-batch gradient descent (the article) */
    OCLINIT_OPTIMIZER_SGD,      /* mini-batches, reshuffled every epoch with Philox */
    OCLINIT_OPTIMIZER_MOMENTUM, /* mini-batches, PyTorch's SGD momentum: v = mu v + g, w -= lr v */
    OCLINIT_OPTIMIZER_ADAM,     /* mini-batches, Adam with bias correction */
} oclinit_optimizer;

OCLINIT_API oclinit_status oclinit_activation_parse(const char *name, oclinit_activation *activation);
OCLINIT_API const char *oclinit_activation_str(oclinit_activation activation);
OCLINIT_API oclinit_status oclinit_optimizer_parse(const char *name, oclinit_optimizer *optimizer);
OCLINIT_API const char *oclinit_optimizer_str(oclinit_optimizer optimizer);

typedef struct oclinit_network *oclinit_network_t;

typedef struct oclinit_network_shape {
    size_t inputs, hidden1, hidden2;
    oclinit_activation activation;
    float negative_slope; /* leaky_relu (0.01 if 0 is given) */
} oclinit_network_shape;

OCLINIT_API oclinit_status oclinit_network_create(oclinit_runtime_t runtime, const oclinit_network_shape *shape,
                                                  oclinit_network_t *network);
OCLINIT_API void oclinit_network_free(oclinit_network_t network);
/* On NULL: a shape of zeros, and 0. */
OCLINIT_API oclinit_network_shape oclinit_network_get_shape(oclinit_network_t network);
OCLINIT_API size_t oclinit_network_get_parameter_count(oclinit_network_t network);
/* Layer l's weights from the scheme with (seed, stream l), l = 1, 2, 3, so the same seed gives the same network
 * on every device; biases 0; optimizer state reset. */
OCLINIT_API oclinit_status oclinit_network_init(oclinit_network_t network, const oclinit_scheme *scheme, uint64_t seed);
OCLINIT_API oclinit_status oclinit_network_get_parameters(oclinit_network_t network, float *parameters);
/* Replaces every parameter (oclinit_network_get_parameter_count floats, all finite) and resets the optimizer. */
OCLINIT_API oclinit_status oclinit_network_set_parameters(oclinit_network_t network, const float *parameters);

/* What one layer looks like at a diagnostic point. Layer 3's activation fields are those of the output
 * probabilities. inactive_share: the share of units that never activate on the batch (relu, leaky_relu) or
 * of activations saturated (|tanh| > 0.99, sigmoid < 0.01 or > 0.99). */
typedef struct oclinit_layer_report {
    double activation_mean, activation_std, inactive_share, gradient_norm;
} oclinit_layer_report;

struct oclinit_train_report {
    size_t iteration;
    double cost, accuracy; /* on the iteration's batch, before its update */
    bool diagnosed;        /* layers[] are filled */
    oclinit_layer_report layers[3];
};

/* Writes a warning into text and returns true when the first layer's gradient norm is over 1000 times the last
 * layer's (exploding) or under 1/1000 of it (vanishing, including exactly 0), or when the last layer's is under
 * 1e-4 (tiny everywhere: weights too small). On NULL layers: false and "". */
OCLINIT_API bool oclinit_network_diagnose(const oclinit_layer_report layers[3], char *text, size_t size);

typedef struct oclinit_train_options {
    oclinit_optimizer optimizer;
    double learning_rate;
    size_t iterations;
    size_t batch; /* mini-batch size (SGD, momentum, Adam); 0: 64 */
    double momentum, beta1, beta2, epsilon;
    uint64_t seed;         /* the per-epoch shuffle */
    size_t report_every;   /* 0: only at the end */
    size_t diagnose_every; /* 0: only at the start */
    oclinit_progress_fn progress; /* every report_every iterations and at each diagnostic point */
    void *user;
} oclinit_train_options;

/* GD, lr 0.01, 1000 iterations, batch 64, momentum 0.9, Adam 0.9 / 0.999 / 1e-8, report every 100. */
OCLINIT_API oclinit_train_options oclinit_train_options_default(void);

typedef struct oclinit_train_result {
    double cost_start, cost_end;   /* on the whole training set */
    double accuracy_end;           /* on the whole training set */
    oclinit_layer_report start[3]; /* diagnostics at iteration 0 */
    size_t iterations;             /* done */
    double seconds;
} oclinit_train_result;

/* Trains on (samples, inputs) x and labels y. A NaN or infinity in x is refused before any work with
 * OCLINIT_ERROR_INVALID_ARGUMENT naming its row and column (so are evaluate and predict). OCLINIT_ERROR_DIVERGED,
 * with the likely cause and what to change: the cost stopped being finite (naming the iteration), or the final
 * cost on the whole training set is over 10 times the starting one and over it by more than 1 (naming both).
 * result may be NULL. */
OCLINIT_API oclinit_status oclinit_network_train(oclinit_network_t network, const float *x, const float *y,
                                                 size_t samples, const oclinit_train_options *options,
                                                 oclinit_train_result *result);
/* Mean cross-entropy and accuracy (at probability 0.5) on labelled data. */
OCLINIT_API oclinit_status oclinit_network_evaluate(oclinit_network_t network, const float *x, const float *y,
                                                    size_t samples, double *cost, double *accuracy);
OCLINIT_API oclinit_status oclinit_network_predict(oclinit_network_t network, const float *x, size_t samples,
                                                   float *probabilities);

/* A model file (README.md, "Model files"): the network and, optionally, the normalization fitted on its
 * training data. Written under a temporary name and renamed; a network with a NaN or infinite parameter is not
 * saved (OCLINIT_ERROR_INVALID_ARGUMENT). Loading refuses truncated, corrupted, foreign and newer-version files,
 * and files with a NaN or infinite parameter even when their checksum is valid, with OCLINIT_ERROR_BAD_MODEL
 * naming the first bad parameter. *normalizer is NULL when the model has none. */
OCLINIT_API oclinit_status oclinit_network_save(oclinit_network_t network, oclinit_normalizer_t normalizer,
                                                const char *path);
OCLINIT_API oclinit_status oclinit_network_load(oclinit_runtime_t runtime, const char *path, oclinit_network_t *network,
                                                oclinit_normalizer_t *normalizer);

/* ---- Built-in data sets: two classes in the plane, generated with Philox -------------------------------------- */

typedef enum oclinit_dataset {
    OCLINIT_DATASET_CIRCLES,
    OCLINIT_DATASET_MOONS,
    OCLINIT_DATASET_SPIRALS
} oclinit_dataset;

OCLINIT_API oclinit_status oclinit_dataset_parse(const char *name, oclinit_dataset *dataset);
OCLINIT_API const char *oclinit_dataset_str(oclinit_dataset dataset);
/* samples points into x (samples, 2) and labels into y, as scikit-learn's make_circles (factor 0.8) and
 * make_moons, or two interleaved spirals; Gaussian noise of std noise on each coordinate; shuffled. */
OCLINIT_API oclinit_status oclinit_dataset_make(oclinit_dataset dataset, size_t samples, double noise, uint64_t seed,
                                                uint64_t stream, float *x, float *y);

/* The labels of a table's label column as 0 or 1; refused with the row when one is anything else. */
OCLINIT_API oclinit_status oclinit_table_get_labels(oclinit_table_t table, float *labels);

#ifdef __cplusplus
}
#endif

#endif
