/* Tables: reading a file into memory, choosing the reader by content, accessors, writing. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

bool oi_name_ends_with(const char *name, const char *suffix) {
    size_t length = strlen(name), ending = strlen(suffix);
    return length >= ending && strcasecmp(name + length - ending, suffix) == 0;
}

bool oi_label_is_index(const char *label) {
    if (!label || !*label) return false;
    for (const char *c = label; *c; c++)
        if (!isdigit((unsigned char)*c)) return false;
    return true;
}

oclinit_status oi_table_parse(const char *name, char *data, size_t size, const oclinit_read_options *options,
                              oclinit_table_t *table) {
    oclinit_read_options defaults = {0};
    oclinit_table_t t = calloc(1, sizeof *t);
    if (!t) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating a table");
    t->label_column = OI_NO_LABEL;
    t->is_npy = size >= sizeof npy_magic && memcmp(data, npy_magic, sizeof npy_magic) == 0;
    /* Read as CSV, a file named .npy that is not one would give a table nobody meant. */
    if (!t->is_npy && oi_name_ends_with(name, ".npy")) {
        free(t);
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s is not a .npy file: it does not start with \\x93NUMPY",
                       name);
    }
    oclinit_status status =
        t->is_npy ? oi_npy_parse(name, (const unsigned char *)data, size, options ? options : &defaults, t)
                  : oi_csv_parse(name, data, size, options ? options : &defaults, t);
    if (status != OCLINIT_SUCCESS) {
        oclinit_table_free(t);
        return status;
    }
    *table = t;
    return OCLINIT_SUCCESS;
}

oclinit_status oclinit_table_create(size_t rows, size_t features, const float *data, oclinit_table_t *table) {
    size_t bytes;
    OI_REQUIRE(table, "table");
    OI_REQUIRE(data || rows == 0, "data");
    if (features == 0) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "a table needs at least one feature column");
    oclinit_status status = oi_size_bytes("a table", rows, features, sizeof(float), &bytes);
    if (status != OCLINIT_SUCCESS) return status;
    oclinit_table_t t = calloc(1, sizeof *t);
    if (t) t->data = malloc(bytes ? bytes : 1);
    if (!t || !t->data) {
        free(t);
        return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating a %zu x %zu table", rows, features);
    }
    if (bytes) memcpy(t->data, data, bytes);
    t->rows = rows;
    t->features = t->columns = features;
    t->label_column = OI_NO_LABEL;
    t->separator = ',';
    *table = t;
    return OCLINIT_SUCCESS;
}

oclinit_status oi_read_file(const char *path, char **data, size_t *size) {
    oclinit_status status = OCLINIT_SUCCESS;
    struct stat st;
    *data = NULL;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer; regular files ignore the flag. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return oi_fail(OCLINIT_ERROR_IO, "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        status = oi_fail(OCLINIT_ERROR_IO, "%s is not a regular file", path);
        goto cleanup;
    }
    *size = (size_t)st.st_size;
    *data = malloc(*size + 1);
    if (!*data) {
        status =
            oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%s (%.1f MiB) does not fit in memory", path, *size / 1048576.0);
        goto cleanup;
    }
    for (size_t done = 0; done < *size;) {
        ssize_t n = read(fd, *data + done, *size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            status = oi_fail(OCLINIT_ERROR_IO, "reading %s: %s", path, n < 0 ? strerror(errno) : "the file shrank");
            goto cleanup;
        }
        done += (size_t)n;
    }
    (*data)[*size] = '\0';
cleanup:
    if (status != OCLINIT_SUCCESS) {
        free(*data);
        *data = NULL;
    }
    close(fd);
    return status;
}

oclinit_status oclinit_table_read(const char *path, const oclinit_read_options *options, oclinit_table_t *table) {
    char *data;
    size_t size;
    OI_REQUIRE(path, "path");
    OI_REQUIRE(table, "table");
    *table = NULL;
    oclinit_status status = oi_read_file(path, &data, &size);
    if (status != OCLINIT_SUCCESS) return status;
    status = oi_table_parse(path, data, size, options, table);
    free(data);
    return status;
}

/* A CSV file: read and parsed whole, then cut to the part. */
static oclinit_status read_part_whole(const char *path, const oclinit_read_options *options, oi_rows_part part,
                                      oclinit_table_t *table, size_t *first, size_t *total, uint64_t *fingerprint) {
    char *data;
    size_t size;
    uint64_t mine, end;
    oclinit_status status = oi_read_file(path, &data, &size);
    if (status != OCLINIT_SUCCESS) return status;
    *fingerprint = oi_fnv1a(0xcbf29ce484222325u, data, size);
    status = oi_table_parse(path, data, size, options, table);
    free(data);
    if (status != OCLINIT_SUCCESS) return status;
    *total = (*table)->rows;
    part(*total, &mine, &end);
    oi_table_keep_rows(*table, (size_t)mine, (size_t)end);
    *first = (size_t)mine;
    return OCLINIT_SUCCESS;
}

oclinit_status oi_table_read_part(const char *path, const oclinit_read_options *options, oi_rows_part part,
                                  oclinit_table_t *table, size_t *first, size_t *total, uint64_t *fingerprint) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_read_options defaults = {0};
    unsigned char head[12], *header = NULL, *rows = NULL;
    oclinit_table_t t = NULL;
    struct stat st;
    OI_REQUIRE(path, "path");
    OI_REQUIRE(table, "table");
    *table = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return oi_fail(OCLINIT_ERROR_IO, "cannot open %s: %s", path, strerror(errno));
    bool npy = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)sizeof head &&
               oi_read_at(fd, path, head, sizeof head, 0) == OCLINIT_SUCCESS &&
               memcmp(head, npy_magic, sizeof npy_magic) == 0;
    if (!npy) {
        close(fd);
        return read_part_whole(path, options, part, table, first, total, fingerprint);
    }
    /* The header, then only the part's rows (and the first rows, for the fingerprint). */
    size_t length =
        head[6] == 1 ? 10 + ((size_t)head[8] | (size_t)head[9] << 8)
                     : 12 + ((size_t)head[8] | (size_t)head[9] << 8 | (size_t)head[10] << 16 | (size_t)head[11] << 24);
    if (length > (size_t)st.st_size) length = (size_t)st.st_size;
    oi_npy_layout layout;
    uint64_t mine, end;
    header = malloc(length);
    if (!header) {
        status =
            oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%s: a header of %zu bytes does not fit in memory", path, length);
        goto cleanup;
    }
    OI_CHECK(oi_read_at(fd, path, header, length, 0));
    OI_CHECK(oi_npy_layout_parse(path, header, length, (uint64_t)st.st_size, &layout));
    part(layout.rows, &mine, &end);
    size_t row_bytes = (size_t)layout.columns * layout.item, count = (size_t)(end - mine),
           checked = layout.rows < OI_PART_FINGERPRINT_ROWS ? (size_t)layout.rows : OI_PART_FINGERPRINT_ROWS;
    rows = malloc((count > checked ? count : checked) * row_bytes + 1);
    t = calloc(1, sizeof *t);
    if (!rows || !t) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%s: %zu rows do not fit in memory", path, count);
        goto cleanup;
    }
    OI_CHECK(oi_read_at(fd, path, rows, checked * row_bytes, layout.offset));
    *fingerprint = oi_fnv1a(oi_fnv1a(0xcbf29ce484222325u, header, length), rows, checked * row_bytes);
    OI_CHECK(oi_read_at(fd, path, rows, count * row_bytes, layout.offset + mine * row_bytes));
    t->label_column = OI_NO_LABEL;
    t->is_npy = true;
    OI_CHECK(oi_npy_rows(path, rows, &layout, (size_t)mine, count, options ? options : &defaults, t));
    *first = (size_t)mine;
    *total = (size_t)layout.rows;
    *table = t;
    t = NULL;
cleanup:
    oclinit_table_free(t);
    free(rows);
    free(header);
    close(fd);
    return status;
}

oclinit_status oi_table_writer(const void *object, oi_output *out) {
    oclinit_table_t table = (oclinit_table_t)object;
    return table->is_npy ? oi_npy_write(table, out) : oi_csv_write(table, out);
}

oclinit_status oclinit_table_write(oclinit_table_t table, const char *path) {
    OI_REQUIRE(table, "table");
    OI_REQUIRE(path, "path");
    return oi_output_write_file(path, oi_table_writer, table);
}

void oclinit_table_free(oclinit_table_t table) {
    if (!table) return;
    for (size_t r = 0; table->label_text && r < table->rows; r++) free(table->label_text[r]);
    free(table->label_text);
    free(table->label_values);
    free(table->lines);
    for (size_t c = 0; table->names && c < table->columns; c++) free(table->names[c]);
    free(table->names);
    free(table->data);
    free(table);
}

/* Moves rows [first, end) of an array of elements of size bytes to its start and gives the rest back. */
static void *keep(void *array, size_t size, size_t first, size_t end) {
    if (!array) return NULL;
    memmove(array, (char *)array + first * size, (end - first) * size);
    size_t bytes = (end - first) * size;
    void *smaller = realloc(array, bytes > 0 ? bytes : 1);
    return smaller ? smaller : array;
}

void oi_table_keep_rows(oclinit_table_t table, size_t first, size_t end) {
    for (size_t r = 0; table->label_text && r < table->rows; r++)
        if (r < first || r >= end) free(table->label_text[r]);
    table->label_text = keep(table->label_text, sizeof *table->label_text, first, end);
    table->label_values = keep(table->label_values, sizeof *table->label_values, first, end);
    table->lines = keep(table->lines, sizeof *table->lines, first, end);
    table->data = keep(table->data, table->features * sizeof(float), first, end);
    table->rows = end - first;
}

oclinit_status oi_table_take_label(oclinit_table_t table, size_t feature) {
    if (table->label_column != OI_NO_LABEL || feature >= table->features)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "feature %zu of %zu cannot become the label of a table%s",
                       feature, table->features, table->label_column != OI_NO_LABEL ? " that has one" : "");
    double *labels = malloc((table->rows ? table->rows : 1) * sizeof *labels);
    if (!labels) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%zu labels do not fit in memory", table->rows);
    /* Row by row, in place: each row moves to the left, over what the rows before it gave up. */
    size_t kept = table->features - 1;
    for (size_t r = 0; r < table->rows; r++) {
        const float *row = table->data + r * table->features;
        float *to = table->data + r * kept;
        labels[r] = row[feature];
        memmove(to, row, feature * sizeof *row);
        memmove(to + feature, row + feature + 1, (kept - feature) * sizeof *row);
    }
    table->label_values = labels;
    table->label_column = feature; /* without a label, features are the file's columns */
    table->features = kept;
    return OCLINIT_SUCCESS;
}

size_t oclinit_table_get_rows(oclinit_table_t table) {
    OI_REQUIRE_OR(table, "table", 0);
    return table->rows;
}

size_t oclinit_table_get_features(oclinit_table_t table) {
    OI_REQUIRE_OR(table, "table", 0);
    return table->features;
}

float *oclinit_table_get_data(oclinit_table_t table) {
    OI_REQUIRE_OR(table, "table", NULL);
    return table->data;
}

/* Features are the file's columns without the label column. */
static size_t column_of(oclinit_table_t table, size_t feature) {
    return feature < table->label_column ? feature : feature + 1;
}

/* A feature index given to an accessor: false, with the detail recorded, when there is no such feature. */
static bool has_feature(const char *function, oclinit_table_t table, size_t feature) {
    if (table && feature < table->features) return true;
    if (!table)
        oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: table is NULL", function);
    else
        oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: feature %zu does not exist; the table has %zu", function, feature,
                table->features);
    return false;
}

size_t oclinit_table_get_feature_column(oclinit_table_t table, size_t feature) {
    return has_feature(__func__, table, feature) ? column_of(table, feature) + 1 : 0;
}

const char *oclinit_table_get_feature_name(oclinit_table_t table, size_t feature) {
    return has_feature(__func__, table, feature) && table->names ? table->names[column_of(table, feature)] : NULL;
}

size_t oclinit_table_get_label_column(oclinit_table_t table) {
    OI_REQUIRE_OR(table, "table", 0);
    return table->label_column == OI_NO_LABEL ? 0 : table->label_column + 1;
}

const char *oclinit_table_get_label_name(oclinit_table_t table) {
    OI_REQUIRE_OR(table, "table", NULL);
    return table->names && table->label_column != OI_NO_LABEL ? table->names[table->label_column] : NULL;
}

oclinit_status oclinit_table_get_labels(oclinit_table_t table, float *labels) {
    OI_REQUIRE(table, "table");
    OI_REQUIRE(labels, "labels");
    if (table->label_column == OI_NO_LABEL)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the table has no label column");
    for (size_t r = 0; r < table->rows; r++) {
        double value = NAN;
        if (table->label_values) {
            value = table->label_values[r];
        } else {
            char *end;
            const char *text = table->label_text[r];
            while (*text == ' ') text++;
            value = strtod(text, &end);
            while (*end == ' ') end++;
            if (end == text || *end) value = NAN;
        }
        if (value != 0 && value != 1) {
            char shown[48];
            const char *text = table->label_text ? table->label_text[r] : NULL;
            if (text)
                oi_printable(text, strlen(text), shown, sizeof shown);
            else
                snprintf(shown, sizeof shown, "%g", value);
            char where[64] = "";
            if (table->lines)
                snprintf(where, sizeof where, "line %zu, ", table->lines[r]);
            else
                snprintf(where, sizeof where, "row %zu, ", r + 1);
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%scolumn %zu: the label is \"%s\"; labels must be 0 or 1",
                           where, table->label_column + 1, shown);
        }
        labels[r] = (float)value;
    }
    return OCLINIT_SUCCESS;
}
