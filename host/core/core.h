/* The core layer: status details, enum names, the OpenCL runtime and its generic program cache, device buffers,
 * atomic output files and the clock. Every other layer builds on this one; it uses none of them. */
#ifndef OCLINIT_CORE_H
#define OCLINIT_CORE_H

#include <stdint.h>
#include <string.h>

#include "oclinit.h"

/* ---- Errors (core/status.c) ---- */

/* Records a detail message for oclinit_error_get_detail() and returns status, so callers write
 * `return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "std must be > 0, got %g", std);`. */
oclinit_status oi_fail(oclinit_status status, const char *format, ...) __attribute__((format(printf, 2, 3)));
void oi_clear_error(void);

/* Copies text for a message: control bytes become '?', and a long text ends in "...". */
void oi_printable(const char *text, size_t length, char *out, size_t size);

/* A public function's pointer argument: when it is NULL, records "<function>: <name> is NULL" and returns
 * OCLINIT_ERROR_INVALID_ARGUMENT (OI_REQUIRE) or empty, the documented value of a getter (OI_REQUIRE_OR). */
#define OI_REQUIRE(pointer, name) OI_REQUIRE_OR(pointer, name, OCLINIT_ERROR_INVALID_ARGUMENT)
#define OI_REQUIRE_OR(pointer, name, empty)                                                                            \
    do {                                                                                                               \
        if (!(pointer)) {                                                                                              \
            oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", __func__, name);                                 \
            return empty;                                                                                              \
        }                                                                                                              \
    } while (0)

/* ---- Sizes (core/status.c): every size computed from what a caller or a file gives is multiplied here ---- */

/* *product = a * b; false when it does not fit a size_t. */
bool oi_size_mul(size_t a, size_t b, size_t *product);
/* *bytes = rows x columns values of item bytes each, or OCLINIT_ERROR_SIZE_OVERFLOW ("size too large", detail
 * "<what>: rows x columns values of item bytes are more than this machine can address") when that does not fit a
 * size_t; what names the quantity, e.g. "the data set's points". */
oclinit_status oi_size_bytes(const char *what, size_t rows, size_t columns, size_t item, size_t *bytes);
/* OCLINIT_ERROR_OUT_OF_HOST_MEMORY, naming what, when bytes exceed the machine's physical memory: where the
 * kernel overcommits, malloc would succeed and the process die later, at its first touch of the pages. */
oclinit_status oi_host_memory_fits(const char *what, size_t bytes);
/* FNV-1a 64 of bytes, continuing from hash (0xcbf29ce484222325 to start): what ranks compare of their inputs. */
uint64_t oi_fnv1a(uint64_t hash, const void *data, size_t bytes);

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

#define OI_COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* A float's bits and back, for file formats that store them. */
static inline uint32_t oi_float_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float oi_bits_float(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* ---- Enum names (core/names.c): the first entry per value is the canonical spelling, the others aliases ---- */

typedef struct name_entry {
    const char *name;
    int value;
} name_entry;

/* Matches ignoring case and '-' versus '_'; an unknown name fails with the list of known ones. */
oclinit_status oi_parse_name(const name_entry *table, size_t count, const char *what, const char *name, int *value);
const char *oi_name_of(const name_entry *table, size_t count, int value);

/* Defines the public type_parse and type_str functions of an enum from its name table. */
#define OI_NAMED_ENUM(type, table, what)                                                                               \
    oclinit_status type##_parse(const char *name, type *value) {                                                       \
        int parsed;                                                                                                    \
        OI_REQUIRE(name, "name");                                                                                      \
        OI_REQUIRE(value, what " (the result)");                                                                       \
        oclinit_status status = oi_parse_name(table, OI_COUNT(table), what, name, &parsed);                            \
        if (status == OCLINIT_SUCCESS) *value = (type)parsed;                                                          \
        return status;                                                                                                 \
    }                                                                                                                  \
    const char *type##_str(type value) {                                                                               \
        return oi_name_of(table, OI_COUNT(table), value);                                                              \
    }

/* ---- The clock (core/clock.c) ---- */

/* Seconds on a monotonic clock, for durations. */
double oi_clock_seconds(void);

/* ---- The runtime (core/runtime.c) ---- */

/* The smaller of the address-space and data limits (ulimit -v, ulimit -d) in bytes, or 0 when there is none:
 * OpenCL drivers and OpenBLAS fail in their own ways when it is low, and messages name it. */
size_t oi_memory_limit(void);
/* "; too little memory? This process may use only N MiB (ulimit -v or -d)" under such a limit, else "": for
 * messages about memory that could not be had, which do not otherwise say that the limit is why. */
void oi_memory_hint(char *text, size_t size);

/* An OpenCL platform that lists no device: `oclinit devices` shows it, so that an installed driver that offers
 * nothing (rusticl without RUSTICL_ENABLE, Clover without a GPU) is not silently missing. */
typedef struct oi_platform_info {
    unsigned platform_index;
    char name[128];
    char implementation[32]; /* as in oclinit_device_info */
    char version[128];       /* CL_PLATFORM_VERSION, e.g. "OpenCL 1.1 Mesa 22.3.6" */
    oclinit_status listing;  /* why its devices could not be listed; OCLINIT_SUCCESS when it simply has none */
} oi_platform_info;

/* The platforms without a device, in platform order; the caller frees *platforms. Fails as oclinit_device_list
 * does when there is no platform at all. */
oclinit_status oi_platform_list_empty(oi_platform_info **platforms, size_t *count);
/* Why a platform of this implementation may list no device, where that is known (rusticl offers only the drivers
 * that RUSTICL_ENABLE names); false, and "" in text, otherwise. */
bool oi_platform_advice(const char *implementation, char *text, size_t size);

/* A program of kernels/, embedded at build time (kernels/embed.cmake). The runtime builds it on first use, for
 * each vector width it is asked for, and keeps it: features own their programs, the runtime only caches them. */
typedef struct oi_program {
    const char *name;   /* for messages, e.g. "kernels/init.cl" */
    const char *source; /* the embedded text */
    unsigned lanes;     /* OI_LANES to build with; 0: the runtime's (the device's vector width) */
} oi_program;

enum { OI_CACHE_SIZE = 32, OI_STATE_SLOTS = 4 };

struct oclinit_runtime {
    oclinit_device_info info;
    cl_device_id device; /* NULL for the host C path */
    cl_context context;
    cl_command_queue queue;
    unsigned lanes; /* OI_LANES the kernels are built with: vector width on CPUs, 1 on GPUs */
    struct {
        const oi_program *program;
        unsigned lanes;
        cl_program built;
    } programs[OI_CACHE_SIZE];
    struct {
        cl_program program;
        const char *name;
        cl_kernel kernel;
    } kernels[OI_CACHE_SIZE];
    size_t program_count, kernel_count;
    struct {
        const void *key;
        void *data;
    } states[OI_STATE_SLOTS]; /* per-runtime state of higher layers (oi_runtime_state) */
    char *build_log;
};

/* For the ranks of a job (host/dist): the default device becomes the local_rank-th (wrapping) of the default one's
 * platform and type, so that each rank on a machine takes its own GPU. 0 (the default) keeps the first. */
void oi_runtime_set_local_rank(unsigned local_rank);

/* True for the host C path: a NULL runtime or one made for "cpu". The one test of where work runs. */
bool oi_runtime_on_host(oclinit_runtime_t runtime);
/* True for a CPU device, whose kernels can work in the host's memory (oi_buffer_over). */
bool oi_runtime_shares_memory(oclinit_runtime_t runtime);

/* A kernel of program, built for the runtime's device on first use and cached with the runtime. */
oclinit_status oi_runtime_kernel(oclinit_runtime_t runtime, const oi_program *program, const char *name,
                                 cl_kernel *kernel);

/* Builds source for the runtime's device with -D OI_LANES=<the runtime's lanes>; on failure keeps the log in the
 * runtime (oclinit_runtime_get_build_log) and returns OCLINIT_ERROR_KERNEL_BUILD. The caller owns *program. */
oclinit_status oi_runtime_build(oclinit_runtime_t runtime, const char *name, const char *source, cl_program *program);

/* For tests: build the kernels with another vector width (before their first use). */
oclinit_status oi_runtime_set_lanes(oclinit_runtime_t runtime, unsigned lanes);

/* The zero-initialized block of size bytes that a higher layer keeps with this runtime under key (the address of
 * one of its own objects), allocated on first use and freed with the runtime; it must own no other resources. */
oclinit_status oi_runtime_state(oclinit_runtime_t runtime, const void *key, size_t size, void **state);
/* The block under key, or NULL when none was made yet. */
void *oi_runtime_find_state(oclinit_runtime_t runtime, const void *key);

/* A device buffer, checked against the device's limits first so that a too-large request fails with a
 * message naming the device instead of an OpenCL code. */
oclinit_status oi_buffer_create(oclinit_runtime_t runtime, size_t bytes, cl_mem *buffer);

/* A buffer over the caller's host memory (CL_MEM_USE_HOST_PTR) on a CPU device, which works in that memory itself
 * (PoCL; a map then copies nothing) or at worst copies on a map; NULL on other devices, whose copy over the bus a
 * map would only move, or when the implementation refuses. */
cl_mem oi_buffer_over(oclinit_runtime_t runtime, void *memory, size_t bytes);

/* Sets count kernel arguments in order from (size_t size, const void *value) pairs. */
oclinit_status oi_set_kernel_args(cl_kernel kernel, cl_uint count, ...);

/* Enqueues a 1-D kernel whose arguments are set (group 0: the driver chooses), naming what failed. */
oclinit_status oi_runtime_enqueue(oclinit_runtime_t runtime, cl_kernel kernel, size_t items, size_t group);

/* ---- Output files (core/output.c): a file appears under its path only when complete ---- */

typedef struct oi_output {
    const char *path;
    char *temporary; /* NULL for a stream (oi_output_attach) */
    int fd;
    size_t buffered;
    char buffer[1 << 16];
} oi_output;

/* path's directory into directory ("." when path has none, "/" for a file at the root); returns its last part. */
const char *oi_path_split(const char *path, char *directory, size_t size);

/* The output policy: OCLINIT_ERROR_INVALID_ARGUMENT, naming path and what it is, unless path is a regular file
 * with one link or does not exist. A directory, device, FIFO, socket, symbolic link (even to a regular file) or
 * hard-linked file is never replaced: renaming over it would replace the link, not what it points to. */
oclinit_status oi_output_check(const char *path);
/* Removes the temporary files ("<base>.tmp-<pid>-<n>") that processes which no longer exist left in directory (killed
 * with SIGKILL, or the machine stopped), of every base for which belongs holds. */
void oi_output_remove_stale(const char *directory, bool (*belongs)(const char *base, const void *user),
                            const void *user);
/* Checks path (oi_output_check), removes the temporary files of processes that no longer exist from its
 * directory, and creates the temporary file beside it, with the permissions (and, for root, the owner) of the
 * file it will replace. */
oclinit_status oi_output_open(const char *path, oi_output *out);
/* An output onto fd, already open (standard output): buffered like a file, but finish only flushes, publish
 * does nothing and fd stays open. name is for messages. */
void oi_output_attach(int fd, const char *name, oi_output *out);
/* OCLINIT_ERROR_NO_SPACE now, rather than after writing, when the file system has less than bytes free. */
oclinit_status oi_output_reserve(oi_output *out, uint64_t bytes);
oclinit_status oi_output_write(oi_output *out, const void *data, size_t size);
/* finish: flush, fsync, close; publish: check the path again and rename into place. Two steps so that several
 * files can be finished first and published together. commit does both. On failure each removes the temporary
 * file. */
oclinit_status oi_output_finish(oi_output *out);
oclinit_status oi_output_publish(oi_output *out);
oclinit_status oi_output_commit(oi_output *out);
/* Removes the temporary file; safe after a failed or successful step, twice, and on a zeroed oi_output. */
void oi_output_abort(oi_output *out);
/* Memory to write from with O_DIRECT, page-aligned; from 2 MiB on aligned to 2 MiB and asked for transparent huge
 * pages (madvise), from which the virtual disks measured took O_DIRECT writes 1.2-1.4x faster (bench/README.md, "A
 * deeper queue on a device, and huge pages"). NULL when out of memory; free() releases it. */
void *oi_output_direct_memory(size_t bytes);
/* Removes every temporary file this process has open, then the directory named by oi_output_made_directory if that
 * leaves it empty: async-signal-safe (it only calls unlink and rmdir), for signal handlers that then let the signal
 * end the process. */
void oi_output_remove_temporaries(void);
/* A directory made to hold outputs not yet published, for oi_output_remove_temporaries; NULL once they are, or
 * once the caller has removed it. The string must live until then. */
void oi_output_made_directory(const char *directory);

/* OCLINIT_ERROR_NO_SPACE (a full disk or quota, a file too large) or OCLINIT_ERROR_IO, naming path and errno. */
oclinit_status oi_output_write_error(const char *path, int error);

/* The whole cycle for one file: open, write(object, out), commit, or nothing on failure. */
typedef oclinit_status (*oi_writer)(const void *object, oi_output *out);
oclinit_status oi_output_write_file(const char *path, oi_writer write, const void *object);
/* The same for bytes already in memory. */
oclinit_status oi_output_write_bytes(const char *path, const void *data, size_t size);

/* ---- Writing from a thread (core/slots.c) ---- */

/* O_DIRECT's alignment of file offsets, sizes and memory: 4096 suits every block size up to a page. */
#define OI_DIRECT_ALIGN 4096u
/* The largest O_DIRECT write (bench/model.c's plain O_DIRECT write uses it too): on the virtual disks measured,
 * 64 MiB writes ran slower than 1-16 MiB ones. */
#define OI_DIRECT_PIECE ((size_t)8 << 20)

/* Where bytes go: a file open for writing, plainly and with O_DIRECT (direct: -1 where the file system refuses it),
 * at an offset; path names it in messages. */
typedef struct oi_slot_target {
    int fd, direct;
    uint64_t offset;
    const char *path;
} oi_slot_target;

/* The target for a file open for writing at fd (file: its name now; path: its name in messages), at offset 0: the file
 * is marked as being written again (the lock core/output.c's removal of stale temporaries respects, which closing
 * its first descriptor dropped) and opened once more with O_DIRECT where the file system allows it. */
oi_slot_target oi_slot_target_open(int fd, const char *file, const char *path);

/* A writer thread and OI_SLOTS slots of slot_bytes each (oi_output_direct_memory). */
enum { OI_SLOTS = 6 };
typedef struct oi_slots oi_slots;
oclinit_status oi_slots_start(size_t slot_bytes, oi_slots **slots);
/* Slot k's memory and its size, for a driver to make data in (oi_chunker_start_slots). */
void *oi_slots_memory(const oi_slots *slots, int k, size_t *bytes);
/* Where to make that many bytes bound for to (at most slot_bytes): after the open slot's data where they continue
 * it and fit, else at the start of the next slot, once the thread has written what it held. */
void *oi_slots_place(oi_slots *slots, oi_slot_target to, size_t bytes);
/* The bytes placed at data are made: the thread may write them. Returns the first failure of the writes so far. */
oclinit_status oi_slots_hand(oi_slots *slots, const void *data);
/* Waits until everything handed over is written (or dropped after a failure). */
void oi_slots_wait(oi_slots *slots);
/* The open slot handed over, then oi_slots_wait; returns the first failure of the writes, with its message. */
oclinit_status oi_slots_drain(oi_slots *slots);
/* A file's writes are all handed over: drains them and fsyncs the file when status is a success, waits otherwise,
 * closes both descriptors; returns status or the first failure. */
oclinit_status oi_slots_close(oi_slots *slots, oi_slot_target *to, oclinit_status status);
/* Stops the thread, dropping what is still queued, before the files it writes go; the memory stays until
 * oi_slots_free (a driver's buffers may lie over it). NULL does nothing. */
void oi_slots_stop(oi_slots *slots);
void oi_slots_free(oi_slots *slots);

#endif
