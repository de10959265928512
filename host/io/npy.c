/* The .npy format, version 1.0 (numpy.lib.format): magic "\x93NUMPY", version 1 0, a little-endian uint16
 * header length, then a Python dict literal padded with spaces and ended by '\n' so the data starts at a
 * multiple of 64 bytes. */
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"

size_t oi_npy_header(char *header, int rank, const int64_t *dims, const char *descr) {
    static const char magic[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
    char dict[OI_NPY_HEADER_MAX], shape[OI_NPY_HEADER_MAX / 2];
    size_t used = 0;
    for (int d = 0; d < rank; d++)
        used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%lld", d ? ", " : "", (long long)dims[d]);
    /* a 1-tuple needs its comma: (n,) */
    int length = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s%s), }", descr, shape,
                          rank == 1 ? "," : "");
    size_t total = sizeof magic + 2 + (size_t)length + 1;
    size_t padded = (total + 63) / 64 * 64;
    size_t dict_length = padded - sizeof magic - 2;
    memcpy(header, magic, sizeof magic);
    header[8] = (char)(dict_length & 0xff);
    header[9] = (char)(dict_length >> 8);
    memcpy(header + 10, dict, (size_t)length);
    memset(header + 10 + length, ' ', padded - 10 - (size_t)length - 1);
    header[padded - 1] = '\n';
    return padded;
}

/* ---- Reading ------------------------------------------------------------------------------------------------
 * The header is a Python dict literal; numpy writes exactly the keys descr, fortran_order and shape. This is a
 * small strict parser of that literal, so a malformed or lying header is refused, never trusted. */

typedef struct header_parser {
    const char *p, *end;
} header_parser;

static void skip_spaces(header_parser *h) {
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r')) h->p++;
}

static bool expect(header_parser *h, char c) {
    skip_spaces(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return true;
    }
    return false;
}

/* A quoted string ('...' or "..."), copied into text (at most size - 1 characters). */
static bool parse_string(header_parser *h, char *text, size_t size) {
    skip_spaces(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return false;
    char quote = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != quote) {
        if (n + 1 >= size) return false;
        text[n++] = *h->p++;
    }
    text[n] = '\0';
    return expect(h, quote);
}

static bool parse_word(header_parser *h, const char *word) {
    skip_spaces(h);
    size_t n = strlen(word);
    if ((size_t)(h->end - h->p) < n || memcmp(h->p, word, n) != 0) return false;
    h->p += n;
    return true;
}

/* (a, b, ...) of non-negative integers: at most 3 are kept, *count says how many there were. */
static bool parse_shape(header_parser *h, uint64_t *dims, int *count) {
    *count = 0;
    if (!expect(h, '(')) return false;
    for (;;) {
        if (expect(h, ')')) return true;
        skip_spaces(h);
        if (h->p >= h->end || *h->p < '0' || *h->p > '9') return false;
        uint64_t value = 0;
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            if (value > (UINT64_MAX - 9) / 10) return false;
            value = value * 10 + (uint64_t)(*h->p++ - '0');
        }
        if (*count < 3) dims[*count] = value;
        (*count)++;
        if (!expect(h, ',')) return expect(h, ')');
    }
}

static void byte_swap(unsigned char *bytes, size_t size) {
    for (size_t i = 0; i < size / 2; i++) {
        unsigned char b = bytes[i];
        bytes[i] = bytes[size - 1 - i];
        bytes[size - 1 - i] = b;
    }
}

oclinit_status oi_npy_layout_parse(const char *name, const unsigned char *data, size_t size, uint64_t file_size,
                                   oi_npy_layout *layout) {
    if (size < 10) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: the .npy header is truncated", name);
    unsigned major = data[6];
    size_t preamble = major == 1 ? 10 : 12, header_length;
    if (major < 1 || major > 3)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: .npy format version %u.%u is not supported (1 to 3 are)",
                       name, major, data[7]);
    if (size < preamble) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: the .npy header is truncated", name);
    header_length = major == 1
                        ? (size_t)data[8] | (size_t)data[9] << 8
                        : (size_t)data[8] | (size_t)data[9] << 8 | (size_t)data[10] << 16 | (size_t)data[11] << 24;
    if (header_length > size - preamble)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: the .npy header says it is %zu bytes long, but the file ends first", name, header_length);

    header_parser h = {(const char *)data + preamble, (const char *)data + preamble + header_length};
    char descr[16] = "";
    uint64_t dims[3] = {0, 0, 0};
    int dim_count = -1, fortran = -1;
    if (!expect(&h, '{')) goto malformed;
    while (!expect(&h, '}')) {
        char key[32];
        if (!parse_string(&h, key, sizeof key) || !expect(&h, ':')) goto malformed;
        if (strcmp(key, "descr") == 0) {
            if (!parse_string(&h, descr, sizeof descr)) goto malformed;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (parse_word(&h, "True"))
                fortran = 1;
            else if (parse_word(&h, "False"))
                fortran = 0;
            else
                goto malformed;
        } else if (strcmp(key, "shape") == 0) {
            if (!parse_shape(&h, dims, &dim_count)) goto malformed;
        } else {
            goto malformed;
        }
        if (!expect(&h, ',')) {
            if (!expect(&h, '}')) goto malformed;
            break;
        }
    }
    if (!*descr || dim_count < 0 || fortran < 0) goto malformed;

    bool little = descr[0] == '<' || descr[0] == '=' || descr[0] == '|';
    bool big = descr[0] == '>';
    size_t item = strcmp(descr + 1, "f4") == 0 ? 4 : strcmp(descr + 1, "f8") == 0 ? 8 : 0;
    if (!(little || big) || !item)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: dtype '%s' is not supported: only float32 and float64",
                       name, descr);
    if (fortran)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: Fortran-ordered arrays are not supported; save np.ascontiguousarray(x) instead", name);
    if (dim_count != 2)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: the array has %d dimensions; a table needs 2 (rows, columns)", name, dim_count);
    uint64_t values, bytes;
    if (__builtin_mul_overflow(dims[0], dims[1], &values) || __builtin_mul_overflow(values, (uint64_t)item, &bytes) ||
        bytes > file_size - preamble - header_length)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: the header describes %llu x %llu values, more than the %llu bytes of data the file holds",
                       name, (unsigned long long)dims[0], (unsigned long long)dims[1],
                       (unsigned long long)(file_size - preamble - header_length));
    if (dims[1] == 0) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: the array has no columns", name);
    *layout = (oi_npy_layout){preamble + header_length, item, big, dims[0], dims[1]};
    return OCLINIT_SUCCESS;
malformed:;
    char shown[84];
    oi_printable((const char *)data + preamble, header_length, shown, sizeof shown);
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                   "%s: the .npy header is not a dict of descr, fortran_order and shape: %s", name, shown);
}

oclinit_status oi_npy_rows(const char *name, const unsigned char *data, const oi_npy_layout *layout, size_t first,
                           size_t rows, const oclinit_read_options *options, oclinit_table_t t) {
    size_t item = layout->item;
    bool big = layout->big;
    t->npy_double = item == 8;
    t->rows = rows;
    t->columns = (size_t)layout->columns;
    if (options->label) {
        if (!oi_label_is_index(options->label))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "%s: a .npy file has no column names; give the label column as a 1-based index, not \"%s\"",
                           name, options->label);
        unsigned long long index = strtoull(options->label, NULL, 10);
        if (index < 1 || index > t->columns)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "%s: label column %llu does not exist; the array has %zu columns", name, index, t->columns);
        t->label_column = (size_t)index - 1;
    }
    t->features = t->columns - (t->label_column != OI_NO_LABEL);
    size_t data_bytes;
    oclinit_status status = oi_size_bytes(name, t->rows, t->features, sizeof(float), &data_bytes);
    if (status != OCLINIT_SUCCESS) return status;
    t->data = malloc(data_bytes ? data_bytes : 1);
    if (t->label_column != OI_NO_LABEL) t->label_values = calloc(t->rows ? t->rows : 1, sizeof(double));
    if (!t->data || (t->label_column != OI_NO_LABEL && !t->label_values))
        return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%s: %zu x %zu values do not fit in memory", name, t->rows,
                       t->columns);
    const unsigned char *p = data;
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t c = 0, f = 0; c < t->columns; c++, p += item) {
            unsigned char bytes[8];
            memcpy(bytes, p, item);
            if (big) byte_swap(bytes, item);
            double value;
            if (item == 4) {
                float single;
                memcpy(&single, bytes, 4);
                value = single;
            } else {
                memcpy(&value, bytes, 8);
            }
            if (c == t->label_column) {
                t->label_values[r] = value;
                continue;
            }
            if (!isfinite(value) || !isfinite((float)value))
                return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                               "%s: row %zu, column %zu: %g is not a finite float32 number", name, first + r + 1, c + 1,
                               value);
            t->data[r * t->features + f++] = (float)value;
        }
    }
    return OCLINIT_SUCCESS;
}

oclinit_status oi_npy_parse(const char *name, const unsigned char *data, size_t size,
                            const oclinit_read_options *options, oclinit_table_t t) {
    oi_npy_layout layout;
    oclinit_status status = oi_npy_layout_parse(name, data, size, size, &layout);
    if (status != OCLINIT_SUCCESS) return status;
    return oi_npy_rows(name, data + layout.offset, &layout, 0, (size_t)layout.rows, options, t);
}

/* A CSV table's label cell as a number, all of it (the caller switched this thread to the C locale, in which the
 * CSV reader reads numbers). */
static oclinit_status label_number(oclinit_table_t t, size_t r, const char *path, double *value) {
    const char *text = t->label_text[r];
    char *end;
    *value = strtod(text, &end);
    while (isspace((unsigned char)*end)) end++;
    if (end != text && *end == '\0') return OCLINIT_SUCCESS;
    char shown[48], name[48] = "";
    oi_printable(text, strlen(text), shown, sizeof shown);
    if (t->names) oi_printable(t->names[t->label_column], strlen(t->names[t->label_column]), name, sizeof name);
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                   "%s: the label column %zu%s%s%s holds \"%s\" (line %zu of the input), which is not a number, and a "
                   ".npy file holds only numbers; write a .csv file to keep it",
                   path, t->label_column + 1, *name ? " (\"" : "", name, *name ? "\")" : "", shown, t->lines[r]);
}

oclinit_status oi_npy_check_labels(oclinit_table_t t, const char *path) {
    if (!t->label_text) return OCLINIT_SUCCESS; /* a .npy's labels are numbers already */
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!c_locale) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "creating the C locale");
    locale_t previous = uselocale(c_locale);
    oclinit_status status = OCLINIT_SUCCESS;
    double value;
    for (size_t r = 0; r < t->rows && status == OCLINIT_SUCCESS; r++) status = label_number(t, r, path, &value);
    uselocale(previous);
    freelocale(c_locale);
    return status;
}

oclinit_status oi_npy_write(oclinit_table_t t, oi_output *out) {
    char header[OI_NPY_HEADER_MAX];
    const int64_t dims[2] = {(int64_t)t->rows, (int64_t)t->columns};
    size_t header_size = oi_npy_header(header, 2, dims, t->npy_double ? "<f8" : "<f4");
    /* A table read from CSV keeps its labels as text: they become numbers here, and its header is dropped. */
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!c_locale) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "creating the C locale");
    locale_t previous = uselocale(c_locale);
    oclinit_status status = oi_output_write(out, header, header_size);
    for (size_t r = 0; r < t->rows && status == OCLINIT_SUCCESS; r++) {
        for (size_t c = 0, f = 0; c < t->columns && status == OCLINIT_SUCCESS; c++) {
            double value = 0;
            if (c != t->label_column)
                value = t->data[r * t->features + f++];
            else if (t->label_text)
                status = label_number(t, r, out->path, &value);
            else
                value = t->label_values[r];
            float single = (float)value;
            if (status == OCLINIT_SUCCESS)
                status = t->npy_double ? oi_output_write(out, &value, sizeof value)
                                       : oi_output_write(out, &single, sizeof single);
        }
    }
    uselocale(previous);
    freelocale(c_locale);
    return status;
}
