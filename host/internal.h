/* Internal to the library (and visible to the tests): struct bodies, error helpers, check macros. */
#ifndef OCLINIT_INTERNAL_H
#define OCLINIT_INTERNAL_H

#include "oclinit.h"

/* Kernel sources, embedded at build time by kernels/embed.cmake. */
extern const char oi_kernel_init[];

enum { OI_KERNEL_UNIFORM, OI_KERNEL_NORMAL, OI_KERNEL_TRUNC_NORMAL, OI_KERNEL_EYE_DIAGONAL, OI_KERNEL_COUNT };

struct oclinit_runtime {
    oclinit_device_info info;
    cl_device_id device; /* NULL for the host C path */
    cl_context context;
    cl_command_queue queue;
    unsigned lanes; /* OI_LANES the kernels are built with: vector width on CPUs, 1 on GPUs */
    cl_program init_program;
    cl_kernel kernels[OI_KERNEL_COUNT];
    char *build_log;
};

/* Records a detail message for oclinit_error_detail() and returns status, so callers write
 * `return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "std must be > 0, got %g", std);`. */
oclinit_status oi_fail(oclinit_status status, const char *format, ...) __attribute__((format(printf, 2, 3)));
void oi_clear_error(void);

/* One check, one cleanup label: a failing call sets `status` and jumps to `cleanup`. */
#define OI_CHECK(expr)                                                                                           \
    do {                                                                                                         \
        status = (expr);                                                                                         \
        if (status != OCLINIT_SUCCESS) goto cleanup;                                                             \
    } while (0)

/* For OpenCL calls: keeps OpenCL's code as the status and records which call failed where. */
#define OI_CL_CHECK(call)                                                                                        \
    do {                                                                                                         \
        cl_int oi_cl_error_ = (call);                                                                            \
        if (oi_cl_error_ != CL_SUCCESS) {                                                                        \
            status = oi_fail((oclinit_status)oi_cl_error_, "%s failed (%s) at %s:%d", #call,                     \
                             oclinit_status_str((oclinit_status)oi_cl_error_), __FILE__, __LINE__);              \
            goto cleanup;                                                                                        \
        }                                                                                                        \
    } while (0)

/* Builds source for the runtime's device with -D OI_LANES=<lanes>; on failure keeps the log in the
 * runtime (oclinit_runtime_get_build_log) and returns OCLINIT_ERROR_KERNEL_BUILD. */
oclinit_status oi_runtime_build(oclinit_runtime_t runtime, const char *name, const char *source, cl_program *program);

/* The init kernels, built on first use. */
oclinit_status oi_runtime_init_kernel(oclinit_runtime_t runtime, int which, cl_kernel *kernel);

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

/* .npy (format version 1.0): the header for a C-order 2-D array of the given shape and numpy descr ("<f4",
 * "<f8"). header must hold OI_NPY_HEADER_MAX bytes; returns the header length, a multiple of 64. */
#define OI_NPY_HEADER_MAX 256
size_t oi_npy_header(char *header, int64_t rows, int64_t columns, const char *descr);

#endif
