/* Internal to the library (and visible to the tests): struct bodies, error helpers, check macros. */
#ifndef OCLINIT_INTERNAL_H
#define OCLINIT_INTERNAL_H

#include "oclinit.h"

/* Kernel sources, embedded at build time by kernels/embed.cmake. */
extern const char oi_kernel_init[];
extern const char oi_kernel_normalize[];
extern const char oi_kernel_network[];

enum { OI_PROGRAM_INIT, OI_PROGRAM_NORMALIZE, OI_PROGRAM_NORMALIZE_ONE_LANE, OI_PROGRAM_NETWORK, OI_PROGRAM_COUNT };
enum {
    OI_KERNEL_UNIFORM,
    OI_KERNEL_NORMAL,
    OI_KERNEL_TRUNC_NORMAL,
    OI_KERNEL_EYE_DIAGONAL,
    OI_KERNEL_FIT_CHUNKS,
    OI_KERNEL_FIT_CHUNKS_ONE_LANE, /* for fewer features than lanes */
    OI_KERNEL_NORMALIZE_APPLY,
    OI_KERNEL_BIAS_ACTIVATION,
    OI_KERNEL_OUTPUT_LOSS,
    OI_KERNEL_ACTIVATION_BACKWARD,
    OI_KERNEL_UPDATE,
    OI_KERNEL_OUTPUT_PROBABILITY,
    OI_KERNEL_COUNT
};

struct oclinit_runtime {
    oclinit_device_info info;
    cl_device_id device; /* NULL for the host C path */
    cl_context context;
    cl_command_queue queue;
    unsigned lanes;                        /* OI_LANES the kernels are built with: vector width on CPUs, 1 on GPUs */
    cl_program programs[OI_PROGRAM_COUNT]; /* built on first use */
    cl_kernel kernels[OI_KERNEL_COUNT];
    char *build_log;
    oclinit_tuning_state tuning; /* what oclinit_runtime_create did with the device's CLBlast cache file */
    char tuning_message[1536];
    size_t gemm_panel; /* K is split so that a product's panels of A and B, (m + n) x chunk floats, stay within this
                          many floats (0: never split), from the cache file (host/gemm.c) */
};

/* Applies the device's CLBlast cache file, if any, and records how that went (host/tuning.c). */
void oi_tuning_load(oclinit_runtime_t runtime);

/* C (m x n, ldc) = op(A) op(B), row-major, at element offsets, with CLBlast on the runtime's queue, K split by
 * runtime->gemm_panel; adds the CLBlast calls enqueued to *calls when calls is not NULL (host/gemm.c). */
oclinit_status oi_sgemm(oclinit_runtime_t runtime, const oclinit_gemm_shape *shape, cl_mem a, size_t a_offset,
                        size_t lda, cl_mem b, size_t b_offset, size_t ldb, cl_mem c, size_t c_offset, size_t ldc,
                        size_t *calls);

/* ---- The network (host/network.c, host/train.c, host/model.c) ---- */

/* A network buffer: device memory, or host memory on the host C path. */
typedef struct oi_net_buffer {
    cl_mem mem;
    float *host;
} oi_net_buffer;

/* The parts of the parameter buffer, in order. */
enum { OI_NET_W1, OI_NET_B1, OI_NET_W2, OI_NET_B2, OI_NET_W3, OI_NET_B3, OI_NET_PARTS };

struct oclinit_network {
    oclinit_runtime_t rt; /* NULL for the host C path */
    oclinit_network_shape shape;
    size_t parameter_count, offsets[OI_NET_PARTS];
    oi_net_buffer params, grads, state1, state2; /* state: momentum's velocity, Adam's moments */
    oi_net_buffer result;                        /* cost, accuracy, first non-finite iteration */
    /* Data (samples, inputs) and labels, and per-batch work: activations A1 (batch, h1), A2 (batch, h2), the
     * output z3 (batch), and the gradients dZ1, dZ2 in d1, d2. */
    oi_net_buffer x, y, a1, a2, z3, d1, d2;
    size_t data_capacity, batch_capacity;
    size_t steps;       /* optimizer steps since the parameters were set (Adam's t) */
    size_t launches;    /* kernel launches and CLBlast calls enqueued so far */
    double init_std[3]; /* the weights' std at init, for diagnosing divergence */
    oclinit_scheme_kind init_scheme;
};

oclinit_status oi_net_reserve(oclinit_network_t net, size_t samples, size_t batch);
oclinit_status oi_net_write(oclinit_network_t net, oi_net_buffer *b, size_t offset, const float *from, size_t floats);
oclinit_status oi_net_read(oclinit_network_t net, const oi_net_buffer *b, size_t offset, float *to, size_t floats);
/* The forward pass over rows [first, first + m) of the data (z3 holds logits), then the loss and backward pass
 * (gradients in grads, (cost, accuracy) in result), then one optimizer step. */
oclinit_status oi_net_forward(oclinit_network_t net, size_t first, size_t m);
/* The output layer alone: (cost, accuracy) into result, z3 becomes dZ3 (oi_net_backward starts with it). */
oclinit_status oi_net_loss(oclinit_network_t net, size_t first, size_t m, size_t iteration);
oclinit_status oi_net_backward(oclinit_network_t net, size_t first, size_t m, size_t iteration);
oclinit_status oi_net_update(oclinit_network_t net, oclinit_optimizer optimizer, const oclinit_train_options *options);
oclinit_status oi_net_probabilities(oclinit_network_t net, size_t m, float *out);

/* Enum names (host/names.c): the first entry per value is the canonical spelling, the others aliases. */
typedef struct name_entry {
    const char *name;
    int value;
} name_entry;

#define OI_COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* Matches ignoring case and '-' versus '_'; an unknown name fails with the list of known ones. */
oclinit_status oi_parse_name(const name_entry *table, size_t count, const char *what, const char *name, int *value);
const char *oi_name_of(const name_entry *table, size_t count, int value);

/* Defines the public type_parse and type_str functions of an enum from its name table. */
#define OI_NAMED_ENUM(type, table, what)                                                                               \
    oclinit_status type##_parse(const char *name, type *value) {                                                       \
        int parsed;                                                                                                    \
        oclinit_status status = oi_parse_name(table, OI_COUNT(table), what, name, &parsed);                            \
        if (status == OCLINIT_SUCCESS) *value = (type)parsed;                                                          \
        return status;                                                                                                 \
    }                                                                                                                  \
    const char *type##_str(type value) {                                                                               \
        return oi_name_of(table, OI_COUNT(table), value);                                                              \
    }

#define OI_NO_LABEL SIZE_MAX

struct oclinit_table {
    size_t rows, features, columns; /* columns = features + 1 with a label column */
    float *data;                    /* (rows, features), row-major */
    size_t label_column;            /* 0-based column of the label in the file, or OI_NO_LABEL */
    char **names;                   /* CSV header, one per column, or NULL */
    char **label_text;              /* CSV: each row's label cell as read */
    double *label_values;           /* .npy: each row's label as stored */
    size_t *lines;                  /* CSV with a label: each row's line in the file, for messages */
    bool is_npy, npy_double;        /* the file's format, which writing follows */
    bool has_header;                /* CSV */
    char separator;                 /* CSV */
};

/* Reads a whole regular file into malloc'ed memory with one spare byte (set to 0) after its size bytes. */
oclinit_status oi_read_file(const char *path, char **data, size_t *size);

/* Parse a table from memory; data must hold size + 1 bytes and may be modified. name is for messages. */
oclinit_status oi_table_parse(const char *name, char *data, size_t size, const oclinit_read_options *options,
                              oclinit_table_t *table);
oclinit_status oi_csv_parse(const char *name, char *data, size_t size, const oclinit_read_options *options,
                            oclinit_table_t table);
oclinit_status oi_npy_parse(const char *name, const unsigned char *data, size_t size,
                            const oclinit_read_options *options, oclinit_table_t table);

/* Records a detail message for oclinit_error_detail() and returns status, so callers write
 * `return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "std must be > 0, got %g", std);`. */
oclinit_status oi_fail(oclinit_status status, const char *format, ...) __attribute__((format(printf, 2, 3)));
void oi_clear_error(void);

/* Copies text for a message: control bytes become '?', and a long text ends in "...". */
void oi_printable(const char *text, size_t length, char *out, size_t size);

/* One check, one cleanup label: a failing call sets `status` and jumps to `cleanup`. */
#define OI_CHECK(expr)                                                                                                 \
    do {                                                                                                               \
        status = (expr);                                                                                               \
        if (status != OCLINIT_SUCCESS) goto cleanup;                                                                   \
    } while (0)

/* For OpenCL calls: keeps OpenCL's code as the status and records which call failed where. */
#define OI_CL_CHECK(call)                                                                                              \
    do {                                                                                                               \
        cl_int oi_cl_error_ = (call);                                                                                  \
        if (oi_cl_error_ != CL_SUCCESS) {                                                                              \
            status = oi_fail((oclinit_status)oi_cl_error_, "%s failed (%s) at %s:%d", #call,                           \
                             oclinit_status_str((oclinit_status)oi_cl_error_), __FILE__, __LINE__);                    \
            goto cleanup;                                                                                              \
        }                                                                                                              \
    } while (0)

/* Builds source for the runtime's device with -D OI_LANES=<lanes>; on failure keeps the log in the
 * runtime (oclinit_runtime_get_build_log) and returns OCLINIT_ERROR_KERNEL_BUILD. */
oclinit_status oi_runtime_build(oclinit_runtime_t runtime, const char *name, const char *source, cl_program *program);

/* A kernel of kernels/init.cl or kernels/normalize.cl; its program is built on first use. */
oclinit_status oi_runtime_kernel(oclinit_runtime_t runtime, int which, cl_kernel *kernel);

/* Sets count kernel arguments in order from (size_t size, const void *value) pairs. */
oclinit_status oi_set_kernel_args(cl_kernel kernel, cl_uint count, ...);

/* For tests: build the kernels with another vector width (before their first use). */
oclinit_status oi_runtime_set_lanes(oclinit_runtime_t runtime, unsigned lanes);

/* A device buffer, checked against the device's limits first so that a too-large request fails with a
 * message naming the device instead of an OpenCL code. */
oclinit_status oi_buffer_create(oclinit_runtime_t runtime, size_t bytes, cl_mem *buffer);

/* Checks a distribution's parameters and shape (also what oclinit_scheme_resolve returns through). */
oclinit_status oi_distribution_check(const oclinit_distribution *distribution);

/* Enqueues a fill of buffer without waiting for it to finish. */
oclinit_status oi_init_enqueue_fill(oclinit_runtime_t runtime, const oclinit_distribution *distribution, uint64_t seed,
                                    uint64_t stream, uint64_t first, uint64_t count, cl_mem buffer, size_t offset);

/* What a random distribution draws with, in plain floats (the twin's lane types stay in host/init_twin.c). */
typedef struct oi_sampler {
    oclinit_distribution_kind kind;
    float a, width, mean, std;
    float trunc[7]; /* oi_trunc_normal_params, in its order */
} oi_sampler;

/* Elements [first, first + count) of a uniform, normal or truncated normal tensor, vectorized and on all cores. */
void oi_init_twin_fill(const oi_sampler *sampler, uint64_t seed, uint64_t stream, uint64_t first, uint64_t count,
                       float *out);

/* Per-chunk statistics (kernels/normalize.h) of the features in whole groups of 16, as vectors on all cores,
 * into partials (chunk, feature, field); returns how many features that covered. */
size_t oi_normalize_twin_fit(const float *x, size_t rows, size_t features, float inverse_full, float inverse_last,
                             float *partials);

/* The host C twin of the kernels, on all cores (OpenMP). */
void oi_init_fill_host_twin(const oclinit_distribution *distribution, uint64_t seed, uint64_t stream, uint64_t first,
                            uint64_t count, float *out);

/* A file that appears under its path only when complete (host/output_file.c). Writes are buffered. */
typedef struct oi_output {
    const char *path;
    char *temporary;
    int fd;
    size_t buffered;
    char buffer[1 << 16];
} oi_output;

/* Creates the temporary file beside path (a directory as path is refused). */
oclinit_status oi_output_open(const char *path, oi_output *out);
/* OCLINIT_ERROR_NO_SPACE now, rather than after writing, when the file system has less than bytes free. */
oclinit_status oi_output_reserve(oi_output *out, uint64_t bytes);
oclinit_status oi_output_write(oi_output *out, const void *data, size_t size);
/* finish: flush, fsync, close; publish: rename into place. Two steps so that several files can be finished
 * first and published together. commit does both. On failure each removes the temporary file. */
oclinit_status oi_output_finish(oi_output *out);
oclinit_status oi_output_publish(oi_output *out);
oclinit_status oi_output_commit(oi_output *out);
/* Removes the temporary file; safe after a failed or successful step, and twice. */
void oi_output_abort(oi_output *out);

/* The whole cycle for one file: open, write(object, out), commit, or nothing on failure. */
typedef oclinit_status (*oi_writer)(const void *object, oi_output *out);
oclinit_status oi_output_write_file(const char *path, oi_writer write, const void *object);

oclinit_status oi_csv_write(oclinit_table_t table, oi_output *out);
oclinit_status oi_npy_write(oclinit_table_t table, oi_output *out);
/* A table written to out in the format it was read in. */
oclinit_status oi_table_write_to(oclinit_table_t table, oi_output *out);
/* A statistics file from memory (data holds size + 1 bytes, data[size] == 0, and may be modified). */
oclinit_status oi_normalizer_parse(const char *name, char *data, size_t size, oclinit_normalizer_t *normalizer);
/* The statistics file's text, malloc'ed (also the part of a model file that holds its normalization). */
oclinit_status oi_normalizer_text(oclinit_normalizer_t normalizer, char **text, size_t *length);

/* .npy (format version 1.0): the header for a C-order 2-D array of the given shape and numpy descr ("<f4",
 * "<f8"). header must hold OI_NPY_HEADER_MAX bytes; returns the header length, a multiple of 64. */
#define OI_NPY_HEADER_MAX 256
size_t oi_npy_header(char *header, int64_t rows, int64_t columns, const char *descr);

#endif
