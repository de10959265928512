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

oclinit_status oi_csv_write(oclinit_table_t table, oi_output *out);
oclinit_status oi_npy_write(oclinit_table_t table, oi_output *out);
/* A table (the object) written to out in the format it was read in: an oi_writer. */
oclinit_status oi_table_writer(const void *table, oi_output *out);

/* .npy (format version 1.0): the header for a C-order 2-D array of the given shape and numpy descr ("<f4",
 * "<f8"). header must hold OI_NPY_HEADER_MAX bytes; returns the header length, a multiple of 64. */
#define OI_NPY_HEADER_MAX 256
size_t oi_npy_header(char *header, int64_t rows, int64_t columns, const char *descr);

#endif
