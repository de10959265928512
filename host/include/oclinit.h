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
 * Tensors are float32, of any rank, row-major (a dense layer's weight (fan_out, fan_in) as in PyTorch, or
 * (fan_in, fan_out) with Keras's convention). Element i (the row-major flat index) of a tensor made with
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
#define OCLINIT_VERSION_MINOR 4
#define OCLINIT_VERSION_PATCH 7

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
    char implementation[32]; /* the OpenCL implementation, as users call it: "PoCL", "rusticl", "NVIDIA", ... */
    char name[128];
    char version[128];       /* CL_DEVICE_VERSION, e.g. "OpenCL 3.0 PoCL ..." */
    char driver_version[64]; /* CL_DRIVER_VERSION, e.g. "22.3.6" for Mesa's rusticl */
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

/* device: "P:D" (platform and device index, as `oclinit devices` lists them), part of a device name, else part of
 * a platform or implementation name ("pocl", "rusticl", "nvidia"; case-insensitive), or "cpu" for the host C path. NULL
 * or "" means the OCLINIT_DEVICE environment variable, and without it the first GPU, else the first CPU device, else
 * the first device. */
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
    size_t candidates;   /* parameter sets timed */
    size_t rejected;     /* of those, the ones CLBlast refused or whose products were wrong */
    double seconds;      /* so far */
    double before, best; /* GFLOP/s over all shapes: at the start (the parameters in use) and the best found */
    double shape_before[OCLINIT_TUNING_SHAPES], shape_after[OCLINIT_TUNING_SHAPES]; /* per shape, when done */
    bool converged;       /* no neighbour of the best was faster: stopped before the budget */
    bool saved;           /* the best beat the start and is in the cache file */
    char parameters[512]; /* the parameters saved, as the cache file holds them; "" when nothing was saved */
    char path[1024];      /* the cache file */
};

typedef struct oclinit_tuning_options {
    double budget_seconds;        /* ends within this long, final choices and measurement included (the first
                                     measurement, of the parameters in use, always runs); 0 means 600 */
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

/* ---- Tensor shapes ------------------------------------------------------------------------------------ */

#define OCLINIT_MAX_RANK 8

/* A tensor's dimensions, outermost first; its elements are numbered by their row-major flat index. */
typedef struct oclinit_shape {
    int rank; /* 1 to OCLINIT_MAX_RANK */
    int64_t dims[OCLINIT_MAX_RANK];
} oclinit_shape;

/* The (rows, columns) shape of a matrix: a (fan_out, fan_in) weight as PyTorch lays out nn.Linear. */
OCLINIT_API oclinit_shape oclinit_shape_matrix(int64_t rows, int64_t columns);
/* "64,3,3,3" (or "64x3x3x3"); OCLINIT_ERROR_INVALID_ARGUMENT for anything else, a dimension < 1 or more than
 * OCLINIT_MAX_RANK of them, OCLINIT_ERROR_SIZE_OVERFLOW for more than 2^61 elements. */
OCLINIT_API oclinit_status oclinit_shape_parse(const char *text, oclinit_shape *shape);
/* Writes e.g. "(64, 3, 3, 3)" into text. */
OCLINIT_API void oclinit_shape_format(const oclinit_shape *shape, char *text, size_t size);
/* The number of elements; OCLINIT_ERROR_SIZE_OVERFLOW beyond 2^61 (a float32 tensor's bytes must fit 2^63). */
OCLINIT_API oclinit_status oclinit_shape_get_elements(const oclinit_shape *shape, uint64_t *elements);

/* Whose layout a shape follows: it decides fan_in and fan_out, and how orthogonal flattens a tensor.
 * PYTORCH: weights (out, in, k...): fan_in = in x receptive, fan_out = out x receptive (receptive = prod(k...));
 *   fewer than 2 dimensions have no fans. orthogonal sees a (shape[0], rest) matrix.
 * KERAS: kernels (k..., in, out): fan_in = receptive x in, fan_out = receptive x out; 1-D: both shape[0].
 *   orthogonal sees a (prod(shape[:-1]), shape[-1]) matrix. */
typedef enum oclinit_convention { OCLINIT_CONVENTION_PYTORCH, OCLINIT_CONVENTION_KERAS } oclinit_convention;

OCLINIT_API oclinit_status oclinit_convention_parse(const char *name, oclinit_convention *convention);
OCLINIT_API const char *oclinit_convention_str(oclinit_convention convention);
OCLINIT_API oclinit_status oclinit_shape_get_fans(const oclinit_shape *shape, oclinit_convention convention,
                                                  int64_t *fan_in, int64_t *fan_out);

/* ---- Initialization schemes --------------------------------------------------------------------------- */

typedef enum oclinit_scheme_kind {
    OCLINIT_SCHEME_ZEROS,
    OCLINIT_SCHEME_ONES,
    OCLINIT_SCHEME_CONSTANT,         /* value */
    OCLINIT_SCHEME_EYE,              /* gain on the diagonal of a 2-D tensor (torch eye_, Keras Identity) */
    OCLINIT_SCHEME_UNIFORM,          /* U(a, b) */
    OCLINIT_SCHEME_NORMAL,           /* N(mean, std^2) */
    OCLINIT_SCHEME_TRUNC_NORMAL,     /* N(mean, std^2) cut to [a, b], as torch.nn.init.trunc_normal_ */
    OCLINIT_SCHEME_SCALED_NORMAL,    /* N(0, 1) * scale: the article's "too large" (10) and "too small" (0.01) */
    OCLINIT_SCHEME_XAVIER_NORMAL,    /* std = gain sqrt(2 / (fan_in + fan_out)) (PyTorch, Glorot) */
    OCLINIT_SCHEME_XAVIER_UNIFORM,   /* bound = gain sqrt(6 / (fan_in + fan_out)) */
    OCLINIT_SCHEME_KAIMING_NORMAL,   /* std = gain(nonlinearity, negative_slope) / sqrt(fan(mode)) (PyTorch) */
    OCLINIT_SCHEME_KAIMING_UNIFORM,  /* bound = sqrt(3) std */
    OCLINIT_SCHEME_LECUN_NORMAL,     /* Keras: variance scaling 1, fan_in, truncated normal */
    OCLINIT_SCHEME_LECUN_UNIFORM,    /* Keras: variance scaling 1, fan_in, uniform */
    OCLINIT_SCHEME_VARIANCE_SCALING, /* Keras: variance = scale / fan(mode), distribution */
    OCLINIT_SCHEME_ORTHOGONAL,       /* gain Q, Q orthonormal from the QR of a normal matrix (torch, Keras) */
    OCLINIT_SCHEME_SPARSE,           /* N(0, std^2) with ceil(sparsity rows) zeros per column (torch sparse_) */
    OCLINIT_SCHEME_DIRAC,            /* gain at the centre of the kernel of channel d, per group (torch dirac_) */
    OCLINIT_SCHEME_PYTORCH_LINEAR,   /* nn.Linear's reset_parameters: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
    OCLINIT_SCHEME_PYTORCH_CONV      /* nn.ConvNd's: the same, with the kernel in fan_in */
} oclinit_scheme_kind;

typedef enum oclinit_fan_mode { OCLINIT_FAN_IN, OCLINIT_FAN_OUT, OCLINIT_FAN_AVG } oclinit_fan_mode;

/* torch.nn.init.calculate_gain's nonlinearities (conv1d ... conv_transpose3d are accepted as names of linear). */
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
    OCLINIT_DISTRIBUTION_ORTHOGONAL,
    OCLINIT_DISTRIBUTION_SPARSE,
} oclinit_distribution_kind;

/* A scheme and its options; fields a scheme does not use are ignored. Start from oclinit_scheme_default(),
 * which sets PyTorch's (or for lecun and variance scaling, Keras's) defaults. */
typedef struct oclinit_scheme {
    oclinit_scheme_kind kind;
    double value;                           /* constant */
    double mean, std;                       /* normal, trunc-normal (std before truncation); sparse: std (0.01) */
    double a, b;                            /* uniform bounds; trunc-normal cut-offs (absolute, as PyTorch) */
    double scale;                           /* scaled-normal factor; variance-scaling scale */
    double gain;                            /* xavier-*, orthogonal, eye, dirac: gain */
    double negative_slope;                  /* kaiming-*: slope of leaky_relu (PyTorch's a) */
    double sparsity;                        /* sparse: fraction of each column set to 0, in [0, 1) */
    int64_t groups;                         /* dirac: groups (default 1) */
    int64_t fan_in, fan_out;                /* when > 0, used instead of the shape's (a bias: its weight's fan_in) */
    oclinit_convention convention;          /* fans, and orthogonal's flattening (default PyTorch) */
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

/* Whether a scheme uses an option, named as `oclinit init` names it ("std", "negative-slope"; '_' may stand for '-'):
 * the CLI, specs and the Python module refuse an option given to a scheme that does not use it. False for an unknown
 * option or a NULL name. */
OCLINIT_API bool oclinit_scheme_takes(oclinit_scheme_kind kind, const char *option);

/* torch.nn.init.calculate_gain (whose own default slope for leaky_relu is 0.01; kaiming's is 0). */
OCLINIT_API double oclinit_nonlinearity_gain(oclinit_nonlinearity nonlinearity, double negative_slope);

/* What a scheme draws for a tensor: a concrete distribution with float parameters. */
typedef struct oclinit_distribution {
    oclinit_distribution_kind kind;
    float value;         /* constant; eye: the diagonal's value; orthogonal: gain */
    float mean, std;     /* normal; truncated normal (std before truncation); sparse: std */
    float a, b;          /* uniform bounds; truncation bounds (absolute) */
    oclinit_shape shape; /* the tensor */
    int64_t groups;      /* eye: the diagonal repeats in groups blocks of shape[0] / groups rows (dirac) */
    int64_t rows;        /* orthogonal: rows of the matrix it is computed as, whose columns are the rest */
    int64_t zeros;       /* sparse: zeros per column */
} oclinit_distribution;

/* Checks the options (std > 0, a < b, ranks, ...) and resolves the scheme for a tensor of that shape. */
OCLINIT_API oclinit_status oclinit_scheme_resolve_shape(const oclinit_scheme *scheme, const oclinit_shape *shape,
                                                        oclinit_distribution *distribution);
/* The same for a 2-D layer with these fans, laid out as the scheme's convention lays out a dense layer's weight:
 * (fan_out, fan_in) for PyTorch, (fan_in, fan_out) for Keras. */
OCLINIT_API oclinit_status oclinit_scheme_resolve(const oclinit_scheme *scheme, int64_t fan_in, int64_t fan_out,
                                                  oclinit_distribution *distribution);

/* The exact mean and standard deviation of what the distribution draws (for eye and sparse: of the whole tensor;
 * orthogonal: 0 and its exact root mean square). On NULL: NaN into those of mean and std that are not NULL. */
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
    size_t chunk_bytes;           /* float32 bytes a chunk, the writer holds six; 0: 16 MiB, on a device 64 */
    oclinit_progress_fn progress; /* after each chunk */
    void *user;
    oclinit_stats *stats; /* when not NULL, filled with the statistics of the whole tensor */
} oclinit_write_options;

/* Writes the distribution->shape float32 tensor to a .npy file that numpy loads with that shape. Made and
 * written in chunks, so layers larger than device memory or RAM work (orthogonal is made whole). The file appears
 * under path only when complete: it is written to a temporary name beside it and renamed; on any
 * failure the temporary file is removed and an existing file at path is left untouched. options may be NULL. */
OCLINIT_API oclinit_status oclinit_init_write_npy(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                                  uint64_t seed, uint64_t stream, const char *path,
                                                  const oclinit_write_options *options);

/* ---- Checkpoints: safetensors ------------------------------------------------------------------------------
 * The format of Hugging Face checkpoints (github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of a UTF-8 JSON object naming each tensor's dtype, shape and data_offsets [begin, end) into
 * the data after the header, optionally "__metadata__" (string to string), then the data, little-endian, C order. */

/* Element types of checkpoint tensors (safetensors' dtypes). oclinit writes F32, F16 and BF16; it reads all. */
typedef enum oclinit_dtype {
    OCLINIT_DTYPE_F32,
    OCLINIT_DTYPE_F16,
    OCLINIT_DTYPE_BF16,
    OCLINIT_DTYPE_F64,
    OCLINIT_DTYPE_I64,
    OCLINIT_DTYPE_I32,
    OCLINIT_DTYPE_I16,
    OCLINIT_DTYPE_I8,
    OCLINIT_DTYPE_U64,
    OCLINIT_DTYPE_U32,
    OCLINIT_DTYPE_U16,
    OCLINIT_DTYPE_U8,
    OCLINIT_DTYPE_BOOL,
    OCLINIT_DTYPE_F8_E4M3,
    OCLINIT_DTYPE_F8_E5M2,
} oclinit_dtype;

/* "f32"/"float32", "f16"/"float16"/"half", "bf16"/"bfloat16", "f64"/"float64", "int64", ..., and safetensors' own
 * names ("BF16", "I64", "F8_E4M3", ...), in any case. OCLINIT_ERROR_INVALID_ARGUMENT listing them otherwise. */
OCLINIT_API oclinit_status oclinit_dtype_parse(const char *name, oclinit_dtype *dtype);
/* safetensors' name: "F32", "BF16", ... ("unknown" for a value out of range). */
OCLINIT_API const char *oclinit_dtype_str(oclinit_dtype dtype);
/* Bytes per element (0 for a value out of range). */
OCLINIT_API size_t oclinit_dtype_size(oclinit_dtype dtype);

/* Reading a safetensors file (any writer's). Opening reads only the header and checks it as safetensors' own
 * reader does; anything else is refused with OCLINIT_ERROR_INVALID_ARGUMENT and a detail naming the file and the
 * tensor or key: a file shorter than 8 bytes, a header length beyond the file or beyond 100 MB, a header that is
 * not UTF-8 JSON or has a duplicate key, an entry that is not an object, an unknown dtype, a shape that is not a
 * list of integers >= 0 (more than OCLINIT_MAX_RANK of them: OCLINIT_ERROR_NOT_SUPPORTED), data_offsets that are
 * not [begin, end] with begin <= end, a byte count other than elements x dtype size, tensors that overlap or
 * leave a hole (sorted by offset they must tile the data from 0 to the file's end exactly), "__metadata__" that is
 * not an object of strings. Keys other than dtype, shape and data_offsets in an entry are ignored, as safetensors
 * does. The tensors' data is read on demand: memory does not grow with the file. */
typedef struct oclinit_safetensors *oclinit_safetensors_t;

typedef struct oclinit_tensor_info {
    const char *name; /* valid until the file is freed */
    oclinit_dtype dtype;
    int rank; /* 0 for a scalar */
    int64_t dims[OCLINIT_MAX_RANK];
    uint64_t elements, offset, bytes; /* offset: of the first byte, from the start of the file */
} oclinit_tensor_info;

OCLINIT_API oclinit_status oclinit_safetensors_open(const char *path, oclinit_safetensors_t *file);
/* The number of tensors. On NULL: 0. */
OCLINIT_API size_t oclinit_safetensors_get_count(oclinit_safetensors_t file);
/* Tensor index (0 to count - 1), in the order of their data in the file. On NULL or out of range: NULL. */
OCLINIT_API const oclinit_tensor_info *oclinit_safetensors_get_info(oclinit_safetensors_t file, size_t index);
/* The value of key in "__metadata__"; NULL when absent (or on NULL). */
OCLINIT_API const char *oclinit_safetensors_get_metadata(oclinit_safetensors_t file, const char *key);
/* Elements [first, first + count) of a float tensor (F32, F16, BF16, F64) as float32: 16-bit values exactly,
 * F64 rounded to nearest. OCLINIT_ERROR_NOT_SUPPORTED for other dtypes, OCLINIT_ERROR_INVALID_ARGUMENT beyond
 * the tensor, OCLINIT_ERROR_IO when reading fails or the file has shrunk since it was opened. */
OCLINIT_API oclinit_status oclinit_safetensors_read(oclinit_safetensors_t file, size_t index, uint64_t first,
                                                    uint64_t count, float *out);
OCLINIT_API void oclinit_safetensors_free(oclinit_safetensors_t file);

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
/* A small text file (README.md, "The command line": the statistics file); the file appears only when complete. */
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
    /* Each batch is cut into this many micro-batches (at most one per row), whose gradients are computed apart and
     * summed in a fixed binary tree, so that ranks of an MPI job can share them and any number of ranks gives the
     * same bits; it changes the rounding, not the mathematics. 0: one per OCLINIT_MICRO_BATCH_ROWS rows of the batch,
     * at most 64. */
    size_t micro_batches;
    double momentum, beta1, beta2, epsilon;
    uint64_t seed;                /* the per-epoch shuffle */
    size_t report_every;          /* 0: only at the end */
    size_t diagnose_every;        /* 0: only at the start */
    oclinit_progress_fn progress; /* every report_every iterations and at each diagnostic point */
    void *user;
} oclinit_train_options;

#define OCLINIT_MICRO_BATCH_ROWS 256

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

/* A model file (README.md, "The command line": model files): the network and, optionally, the normalization fitted on
 * its training data. Written under a temporary name and renamed; a network with a NaN or infinite parameter is not
 * saved (OCLINIT_ERROR_INVALID_ARGUMENT). Loading refuses truncated, corrupted, foreign and newer-version files, and
 * files with a NaN or infinite parameter even when their checksum is valid, with OCLINIT_ERROR_BAD_MODEL naming the
 * first bad parameter. *normalizer is NULL when the model has none. */
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

/* ---- Whole models ------------------------------------------------------------------------------------------
 * Named tensors with shapes and schemes, from oclinit's JSON spec or a Hugging Face config.json (README.md, "Whole
 * models"). Every tensor's scheme is resolved for its shape when the model loads, so a model that loads can be
 * written; bad input is refused with OCLINIT_ERROR_INVALID_ARGUMENT (OCLINIT_ERROR_NOT_SUPPORTED for an unknown
 * model_type, OCLINIT_ERROR_SIZE_OVERFLOW for a shape beyond 2^61 elements) and a detail naming the file and the
 * place: the JSON path ("spec.json: tensors[3].shape[1]: ..."), the config key, or the tensor. */

/* The Philox stream of a named tensor: FNV-1a 64 of the name's bytes (offset basis 0xcbf29ce484222325, prime
 * 0x100000001b3), so a tensor's numbers depend on its name and not on its place in the model. On NULL: 0. */
OCLINIT_API uint64_t oclinit_tensor_stream(const char *name);

typedef struct oclinit_model *oclinit_model_t;

typedef struct oclinit_model_tensor {
    const char *name; /* valid until the model is freed */
    oclinit_shape shape;
    oclinit_scheme scheme;
    int64_t zero_row; /* >= 0: that row set to 0 after initialization (an embedding's padding_idx); else -1 */
    uint64_t stream;  /* oclinit_tensor_stream(name) */
} oclinit_model_tensor;

/* A Hugging Face config.json of model_type llama, mistral, qwen2 or gpt2: the tensors transformers' save_pretrained
 * stores for its causal language model (tied embeddings once), in state_dict order, initialized as the family's
 * _init_weights does. Absent keys take the configuration class's defaults; those that size the model are required. */
OCLINIT_API oclinit_status oclinit_model_load_config(const char *path, oclinit_model_t *model);
/* oclinit's spec: {"seed", "dtype", "tensors": [{"name", "shape", "scheme", options...}], "rules": [{"match",
 * "scheme", options...}], "default": {"scheme", options...}}; a tensor without a scheme takes the first rule whose
 * glob (fnmatch) matches its name, else the default. */
OCLINIT_API oclinit_status oclinit_model_load_spec(const char *path, oclinit_model_t *model);
/* The number of tensors. On NULL: 0. */
OCLINIT_API size_t oclinit_model_get_count(oclinit_model_t model);
/* Tensor index (0 to count - 1), in the order of the spec or of the state_dict. On NULL or out of range: NULL. */
OCLINIT_API const oclinit_model_tensor *oclinit_model_get_tensor(oclinit_model_t model, size_t index);
/* The model's own dtype (config's torch_dtype, spec's "dtype"; F32 when it names none). A config may name one that
 * oclinit_model_write refuses (float64 is F64), for the caller to replace with its own choice. On NULL: F32. */
OCLINIT_API oclinit_dtype oclinit_model_get_dtype(oclinit_model_t model);
/* The spec's seed, else 0. On NULL: 0. */
OCLINIT_API uint64_t oclinit_model_get_seed(oclinit_model_t model);
OCLINIT_API void oclinit_model_free(oclinit_model_t model);

typedef struct oclinit_checkpoint_options {
    oclinit_dtype dtype;          /* F32, F16 or BF16; 16-bit values are the float32 ones rounded to nearest even */
    uint64_t seed;                /* every tensor's Philox key */
    uint64_t max_shard_bytes;     /* a shard's limit, as huggingface_hub splits; 0: 5 GB (5 10^9 bytes) */
    bool force;                   /* replace a checkpoint already in the directory */
    size_t chunk_bytes;           /* float32 bytes a chunk, the writer holds six; 0: 16 MiB, on a device 64 */
    oclinit_progress_fn progress; /* after each chunk; done and total count bytes; cancelling writes nothing */
    void *user;
} oclinit_checkpoint_options;

/* Writes the model's checkpoint into directory (made if missing; one holding a checkpoint is refused unless force):
 * model.safetensors, or model-0000k-of-0000n.safetensors and model.safetensors.index.json when it needs more than one
 * shard, and config_path (when not NULL) copied as config.json: what transformers' from_pretrained(directory) loads.
 * Every shard's metadata holds "format": "pt", oclinit's version, the seed and a hash of the plan. Tensors stream in
 * chunks through the device (the next chunk made while one is written) or the host C path, with the same bytes;
 * every file is written under a temporary name and they appear together, the index last, or not at all. */
OCLINIT_API oclinit_status oclinit_model_write(oclinit_runtime_t runtime, oclinit_model_t model, const char *directory,
                                               const char *config_path, const oclinit_checkpoint_options *options);

#ifdef __cplusplus
}
#endif

#endif
