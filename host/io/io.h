/* The io layer: reading files, CSV and .npy tables. Uses core only. */
#ifndef OCLINIT_IO_H
#define OCLINIT_IO_H

#include "core/core.h"

#define OI_NO_LABEL SIZE_MAX

struct oclinit_table {
    size_t rows, features, columns; /* columns = features + 1 with a label column */
    float *data;                    /* (rows, features), row-major */
    size_t label_column;            /* 0-based column of the label in the file, or OI_NO_LABEL */
    char **names;                   /* CSV header, one per column, or NULL */
    char **label_text;              /* CSV: each row's label cell as read */
    double *label_values;           /* .npy, or a column taken as the label: each row's label as a number */
    size_t *lines;                  /* CSV: each row's line in the file, for messages about its label */
    bool is_npy, npy_double;        /* the file's format, which writing follows */
    bool has_header;                /* CSV */
    char separator;                 /* CSV */
};

/* Reads a whole regular file into malloc'ed memory with one spare byte (set to 0) after its size bytes. */
oclinit_status oi_read_file(const char *path, char **data, size_t *size);

/* size bytes at offset, all of them: a short read means the file shrank. */
oclinit_status oi_read_at(int fd, const char *path, void *buffer, size_t size, uint64_t offset);

/* Whether name ends with suffix, ignoring ASCII case: a file's kind by its name, so that "x.NPY" is a .npy name. */
bool oi_name_ends_with(const char *name, const char *suffix);
/* Whether a label column's text gives its 1-based index (all digits) rather than its header name: the rule of both
 * readers, and of callers that must tell which the reader will take. */
bool oi_label_is_index(const char *label);

/* Parse a table from memory; data must hold size + 1 bytes and may be modified. name is for messages. */
oclinit_status oi_table_parse(const char *name, char *data, size_t size, const oclinit_read_options *options,
                              oclinit_table_t *table);
/* Keeps rows [first, end) of the table (first <= end <= its rows) and frees the rest: a rank's share of the data. */
void oi_table_keep_rows(oclinit_table_t table, size_t first, size_t end);
/* Makes feature f of a table read without a label its label column, as reading it with that column as the label
 * would have, but from the numbers already read: each label is its float32 value. */
oclinit_status oi_table_take_label(oclinit_table_t table, size_t feature);
oclinit_status oi_csv_parse(const char *name, char *data, size_t size, const oclinit_read_options *options,
                            oclinit_table_t table);
/* A .npy file's layout: its data's offset, the size of a value, byte order, and shape. */
typedef struct oi_npy_layout {
    size_t offset, item;
    bool big;
    uint64_t rows, columns;
} oi_npy_layout;
/* The layout from the header at data (size bytes of it at hand) of a file of file_size bytes. */
oclinit_status oi_npy_layout_parse(const char *name, const unsigned char *data, size_t size, uint64_t file_size,
                                   oi_npy_layout *layout);
/* Rows [first, first + rows) of the array, whose bytes start at data, into t. */
oclinit_status oi_npy_rows(const char *name, const unsigned char *data, const oi_npy_layout *layout, size_t first,
                           size_t rows, const oclinit_read_options *options, oclinit_table_t t);
/* Chooses the rows [*first, *end) of a table of total rows to read. */
typedef void (*oi_rows_part)(uint64_t total, uint64_t *first, uint64_t *end);
/* Reads the rows part chooses of a table file: a .npy's from their byte range alone (pread), a CSV's after reading it
 * whole. *first and *total: where they lie in the file's table; *fingerprint: an FNV-1a hash of bytes that every
 * reader reads whatever its part (a CSV file whole; a .npy's header and its first OI_PART_FINGERPRINT_ROWS rows), so
 * that readers of different files can tell. */
#define OI_PART_FINGERPRINT_ROWS 1024
oclinit_status oi_table_read_part(const char *path, const oclinit_read_options *options, oi_rows_part part,
                                  oclinit_table_t *table, size_t *first, size_t *total, uint64_t *fingerprint);
oclinit_status oi_npy_parse(const char *name, const unsigned char *data, size_t size,
                            const oclinit_read_options *options, oclinit_table_t table);

oclinit_status oi_csv_write(oclinit_table_t table, oi_output *out);
oclinit_status oi_npy_write(oclinit_table_t table, oi_output *out);
/* What oi_npy_write refuses, checked before any work: a label of a table read from CSV that is not a number. The
 * message names path (the .npy output), the label column and the first such label. */
oclinit_status oi_npy_check_labels(oclinit_table_t table, const char *path);
/* A table (the object) written to out in the format it was read in: an oi_writer. */
oclinit_status oi_table_writer(const void *table, oi_output *out);

/* .npy (format version 1.0): the header for a C-order array of rank dims and numpy descr ("<f4",
 * "<f8"). header must hold OI_NPY_HEADER_MAX bytes; returns the header length, a multiple of 64. */
#define OI_NPY_HEADER_MAX 512
size_t oi_npy_header(char *header, int rank, const int64_t *dims, const char *descr);

/* ---- Checkpoint tensors (io/dtype.c, io/safetensors.c) ---- */

/* A dtype named exactly as safetensors writes it ("F32", "BF16", ...); false for anything else. */
bool oi_dtype_from_safetensors(const char *name, oclinit_dtype *dtype);
bool oi_dtype_is_float(oclinit_dtype dtype); /* F32, F16, BF16, F64 */
/* n little-endian values of a float dtype at raw into float32 (F64 rounded to nearest); raw must be aligned for its
 * dtype (F32: it may be out itself); OCLINIT_ERROR_NOT_SUPPORTED for other dtypes. */
oclinit_status oi_dtype_to_float(oclinit_dtype dtype, const void *raw, size_t n, float *out);
/* n floats to F32 (a copy, or nothing when out is in), BF16 or F16, rounded to nearest even (kernels/dtype.h). */
void oi_float_to_dtype(oclinit_dtype dtype, const float *in, void *out, size_t n);
/* The same for output that goes to a file and is not read again here: where the CPU can, it is stored without the
 * caches first reading the lines it overwrites (non-temporal stores), and is not left in them. */
void oi_float_to_dtype_streamed(oclinit_dtype dtype, const float *in, void *out, size_t n);
/* The same on the device, enqueued: elements [first, first + count) of in (floats) to BF16 or F16 at the same
 * place in out; first is a multiple of 16, and both buffers hold first + count rounded up to a multiple of 16. */
oclinit_status oi_dtype_enqueue_convert(oclinit_runtime_t runtime, oclinit_dtype dtype, cl_mem in, cl_mem out,
                                        uint64_t first, uint64_t count);
/* float32 -> bfloat16 / float16 bits, rounded to nearest, ties to even; overflow gives infinity, a NaN stays a quiet
 * NaN of its sign; float16's subnormals are exact. And back, exactly. */
void oi_float_to_bf16(const float *in, uint16_t *out, size_t n);
void oi_float_to_f16(const float *in, uint16_t *out, size_t n);
void oi_bf16_to_float(const uint16_t *in, float *out, size_t n);
void oi_f16_to_float(const uint16_t *in, float *out, size_t n);

typedef struct oi_safetensors_entry {
    const char *name;
    oclinit_dtype dtype;
    int rank; /* 0 for a scalar */
    const int64_t *dims;
} oi_safetensors_entry;
/* The file's first bytes for tensors stored in this order, contiguous from offset 0 of the data: the 8-byte
 * little-endian header length, the JSON header (jansson), spaces to an 8-byte boundary. metadata: metadata_pairs
 * pairs of key, value strings for "__metadata__" (written first). *header is malloc'ed, *size its bytes (a multiple
 * of 8). Refuses duplicate names, "__metadata__" as a tensor name, text that is not UTF-8, negative dimensions and
 * sizes beyond 2^63 bytes. */
oclinit_status oi_safetensors_header(const oi_safetensors_entry *entries, size_t count, const char *const *metadata,
                                     size_t metadata_pairs, char **header, size_t *size);
/* The safetensors header in data (the file's first size bytes: at least the 8-byte length and the header it
 * gives) checked against a file of file_size bytes; name is for messages. The result reads no tensor data
 * (oclinit_safetensors_read fails on it); oclinit_safetensors_open uses this on what it read. */
oclinit_status oi_safetensors_parse(const char *name, const unsigned char *data, size_t size, uint64_t file_size,
                                    oclinit_safetensors_t *file);
/* safetensors' limit on the header's length (the Rust crate's MAX_HEADER_SIZE). */
#define OI_SAFETENSORS_HEADER_MAX 100000000u

#endif
