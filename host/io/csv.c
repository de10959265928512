/* CSV tables: reading (RFC 4180 quoting, comma, semicolon or tab, LF or CRLF, blank lines skipped, header
 * detected) and writing in the same dialect. Numbers are read and written in the C locale whatever the
 * program's locale is. */
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"

typedef struct field {
    char *text; /* unescaped in place and NUL-terminated */
    size_t length;
    bool quoted;
} field;

typedef struct parser {
    const char *name; /* for messages */
    char *p, *end;
    char separator;
    size_t line;   /* 1-based line where the next record starts */
    field *fields; /* the current record's fields */
    size_t count, capacity;
    size_t record_line; /* the line the current record started on */
} parser;

/* Reads one field starting at p->p; leaves p->p on the separator, the line end, or end. */
static oclinit_status read_field(parser *p, field *f, size_t column) {
    char *dst = p->p;
    f->text = p->p;
    f->quoted = false;
    if (p->p < p->end && *p->p == '"') {
        size_t start_line = p->line;
        f->quoted = true;
        p->p++;
        for (;;) {
            if (p->p >= p->end)
                return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: line %zu, column %zu: the quote is never closed",
                               p->name, start_line, column);
            char c = *p->p++;
            if (c == '"') {
                if (p->p < p->end && *p->p == '"') {
                    *dst++ = '"';
                    p->p++;
                    continue;
                }
                break;
            }
            if (c == '\n') p->line++;
            *dst++ = c;
        }
        while (p->p < p->end && (*p->p == ' ' || (*p->p == '\t' && p->separator != '\t'))) p->p++;
        if (p->p < p->end && *p->p != p->separator && *p->p != '\n' && *p->p != '\r')
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "%s: line %zu, column %zu: unexpected '%c' after a closing quote", p->name, p->line, column,
                           isprint((unsigned char)*p->p) ? *p->p : '?');
    } else {
        while (p->p < p->end && *p->p != p->separator && *p->p != '\n' && *p->p != '\r') *dst++ = *p->p++;
    }
    f->length = (size_t)(dst - f->text);
    return OCLINIT_SUCCESS;
}

/* Reads the next non-blank record into p->fields; *found is false at the end of the input. */
static oclinit_status next_record(parser *p, bool *found) {
    for (;;) {
        *found = false;
        if (p->p >= p->end) return OCLINIT_SUCCESS;
        p->count = 0;
        p->record_line = p->line;
        for (;;) {
            if (p->count == p->capacity) {
                size_t capacity = p->capacity ? 2 * p->capacity : 64;
                field *grown = realloc(p->fields, capacity * sizeof *grown);
                if (!grown) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%s: reading a record", p->name);
                p->fields = grown;
                p->capacity = capacity;
            }
            field *f = &p->fields[p->count++];
            oclinit_status status = read_field(p, f, p->count);
            if (status != OCLINIT_SUCCESS) return status;
            char *end_of_field = f->text + f->length;
            if (p->p < p->end && *p->p == p->separator) {
                p->p++;
                *end_of_field = '\0'; /* the separator, or what unescaping freed, is behind us */
                continue;
            }
            bool line_end = p->p < p->end;
            if (line_end && *p->p == '\r') p->p++;
            if (p->p < p->end && *p->p == '\n') p->p++;
            if (line_end) p->line++;
            *end_of_field = '\0'; /* the buffer holds one spare byte after the data for the very last field */
            break;
        }
        bool blank = p->count == 1 && !p->fields[0].quoted;
        for (size_t i = 0; blank && i < p->fields[0].length; i++) blank = isspace((unsigned char)p->fields[0].text[i]);
        if (!blank) {
            *found = true;
            return OCLINIT_SUCCESS;
        }
    }
}

/* The separator of the first non-blank line: the most frequent of , ; and tab outside quotes. */
static char detect_separator(const char *p, const char *end) {
    static const char candidates[] = {',', ';', '\t'};
    size_t counts[3] = {0, 0, 0};
    bool quoted = false, content = false;
    for (; p < end; p++) {
        if (*p == '"') quoted = !quoted;
        if (!quoted && (*p == '\n' || *p == '\r')) {
            if (content) break;
            continue;
        }
        if (!isspace((unsigned char)*p)) content = true;
        for (int k = 0; k < 3; k++) counts[k] += !quoted && *p == candidates[k];
    }
    int best = 0;
    for (int k = 1; k < 3; k++)
        if (counts[k] > counts[best]) best = k;
    return candidates[best];
}

/* In the C locale (the caller switched this thread to it). */
static bool parse_number(const field *f, double *value) {
    const char *s = f->text;
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return false;
    char *end;
    *value = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    return end != s && end == f->text + f->length; /* all of it: a NUL byte inside the field is not an end */
}

static char *copy_text(const field *f) {
    char *copy = malloc(f->length + 1);
    if (copy) memcpy(copy, f->text, f->length + 1);
    return copy;
}

/* name_first: the header was declared (OCLINIT_HEADER_YES), so a column named exactly label is that column even when
 * label is all digits: a column named "30" can be chosen. */
static oclinit_status resolve_label(oclinit_table_t t, const char *label, const field *header, bool name_first,
                                    size_t columns, const char *name) {
    t->label_column = OI_NO_LABEL;
    if (!label) return OCLINIT_SUCCESS;
    for (size_t c = 0; name_first && c < columns; c++)
        if (strcmp(header[c].text, label) == 0) return t->label_column = c, OCLINIT_SUCCESS;
    if (oi_label_is_index(label)) {
        unsigned long long index = strtoull(label, NULL, 10);
        if (index < 1 || index > columns)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "%s: label column %llu does not exist; the rows have %zu columns", name, index, columns);
        t->label_column = (size_t)index - 1;
        return OCLINIT_SUCCESS;
    }
    if (!header)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: there is no header row to find the label column \"%s\" in; give its 1-based index", name,
                       label);
    for (size_t c = 0; c < columns; c++)
        if (strcmp(header[c].text, label) == 0) return t->label_column = c, OCLINIT_SUCCESS;
    for (size_t c = 0; c < columns; c++)
        if (strcasecmp(header[c].text, label) == 0) return t->label_column = c, OCLINIT_SUCCESS;
    char known[400] = "";
    size_t used = 0;
    for (size_t c = 0; c < columns && used + 1 < sizeof known; c++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s\"%s\"", c ? ", " : "", header[c].text);
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: no column is named \"%s\"; the header has %s", name, label,
                   known);
}

/* data must hold size + 1 bytes (it is unescaped in place). */
oclinit_status oi_csv_parse(const char *name, char *data, size_t size, const oclinit_read_options *options,
                            oclinit_table_t t) {
    oclinit_status status = OCLINIT_SUCCESS;
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    parser p = {.name = name, .p = data, .end = data + size, .line = 1};
    field *first = NULL;
    size_t first_count = 0, first_line = 0, columns, row_capacity = 0;
    bool found, have_header;

    if (!c_locale) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "creating the C locale");
    locale_t previous = uselocale(c_locale); /* numbers are read with '.', whatever the program's locale */
    if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) p.p += 3; /* UTF-8 byte order mark */
    p.separator = options->separator ? options->separator : detect_separator(p.p, p.end);
    t->separator = p.separator;

    OI_CHECK(next_record(&p, &found));
    if (!found) {
        status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s is empty: no header and no rows", name);
        goto cleanup;
    }
    /* Keep the first record aside: it is either the header or the first row. */
    first_count = p.count;
    first_line = p.record_line;
    first = malloc(first_count * sizeof *first);
    if (!first) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%s: reading the first row", name);
        goto cleanup;
    }
    memcpy(first, p.fields, first_count * sizeof *first);
    columns = first_count;
    OI_CHECK(next_record(&p, &found));

    if (options->header == OCLINIT_HEADER_AUTO) {
        /* A header when a cell of the first record is not a number while the second record's is (or there is
         * no second record), so a text label column alone does not make one. */
        have_header = false;
        for (size_t c = 0; c < columns && !have_header; c++) {
            double value;
            have_header =
                !parse_number(&first[c], &value) && (!found || (c < p.count && parse_number(&p.fields[c], &value)));
        }
        /* A label given by name is looked up in the first row, which is then the header. */
        if (!have_header && options->label && !oi_label_is_index(options->label)) have_header = true;
    } else {
        have_header = options->header == OCLINIT_HEADER_YES;
    }
    t->has_header = have_header;
    OI_CHECK(resolve_label(t, options->label, have_header ? first : NULL, options->header == OCLINIT_HEADER_YES,
                           columns, name));
    t->columns = columns;
    t->features = columns - (t->label_column != OI_NO_LABEL);
    if (have_header) {
        t->names = calloc(columns, sizeof *t->names);
        if (!t->names) {
            status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%s: reading the header", name);
            goto cleanup;
        }
        for (size_t c = 0; c < columns; c++) {
            t->names[c] = copy_text(&first[c]);
            if (!t->names[c]) {
                status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%s: reading the header", name);
                goto cleanup;
            }
        }
    }

    /* Rows: the first record unless it was the header, then the rest. */
    bool use_first = !have_header;
    while (use_first || found) {
        field *fields = use_first ? first : p.fields;
        size_t count = use_first ? first_count : p.count, line = use_first ? first_line : p.record_line;
        if (count != columns) {
            status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                             "%s: line %zu, column %zu: the row has %zu fields where line %zu has %zu", name, line,
                             count < columns ? count + 1 : columns + 1, count, first_line, columns);
            goto cleanup;
        }
        if (t->rows == row_capacity) {
            size_t capacity = row_capacity ? 2 * row_capacity : 1024, bytes;
            OI_CHECK(oi_size_bytes(name, capacity, t->features ? t->features : 1, sizeof(float), &bytes));
            float *data_grown = realloc(t->data, bytes);
            if (data_grown) t->data = data_grown;
            /* at most twice the rows read, each at least a byte of the file: the products below fit */
            char **labels_grown =
                t->label_column == OI_NO_LABEL ? NULL : realloc(t->label_text, capacity * sizeof(char *));
            if (labels_grown) t->label_text = labels_grown;
            size_t *lines_grown = realloc(t->lines, capacity * sizeof(size_t));
            if (lines_grown) t->lines = lines_grown;
            if (!data_grown || !lines_grown || (t->label_column != OI_NO_LABEL && !labels_grown)) {
                status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%s: %zu rows do not fit in memory", name, capacity);
                goto cleanup;
            }
            row_capacity = capacity;
        }
        float *row = t->data + t->rows * t->features;
        for (size_t c = 0, f = 0; c < columns; c++) {
            if (c == t->label_column) continue;
            double value;
            const char *column_name = t->names ? t->names[c] : NULL;
            if (!parse_number(&fields[c], &value) || !isfinite(value) || !isfinite((float)value)) {
                bool empty = true;
                for (size_t i = 0; empty && i < fields[c].length; i++)
                    empty = isspace((unsigned char)fields[c].text[i]);
                char shown[48];
                oi_printable(fields[c].text, fields[c].length, shown, sizeof shown);
                char where[160];
                snprintf(where, sizeof where, "%s: line %zu, column %zu%s%s%s", name, line, c + 1,
                         column_name ? " (" : "", column_name ? column_name : "", column_name ? ")" : "");
                if (empty)
                    status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: the cell is empty", where);
                else if (parse_number(&fields[c], &value))
                    status =
                        oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s is not a finite float32 number", where, shown);
                else
                    status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: \"%s\" is not a number", where, shown);
                goto cleanup;
            }
            row[f++] = (float)value;
        }
        if (t->label_column != OI_NO_LABEL) {
            if (!(t->label_text[t->rows] = copy_text(&fields[t->label_column]))) {
                status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%s: reading line %zu", name, line);
                goto cleanup;
            }
        }
        t->lines[t->rows] = line;
        t->rows++;
        if (use_first)
            use_first = false;
        else
            OI_CHECK(next_record(&p, &found));
    }
cleanup:
    free(first);
    free(p.fields);
    uselocale(previous);
    freelocale(c_locale);
    return status;
}

/* Quotes a field when it holds the separator, a quote, a line end or outer spaces. */
static oclinit_status write_text(oi_output *out, const char *text, char separator) {
    bool quote = *text == ' ' || (*text && text[strlen(text) - 1] == ' ');
    for (const char *c = text; *c && !quote; c++) quote = *c == separator || *c == '"' || *c == '\n' || *c == '\r';
    if (!quote) return oi_output_write(out, text, strlen(text));
    oclinit_status status = oi_output_write(out, "\"", 1);
    for (const char *c = text; *c && status == OCLINIT_SUCCESS; c++)
        status = *c == '"' ? oi_output_write(out, "\"\"", 2) : oi_output_write(out, c, 1);
    return status == OCLINIT_SUCCESS ? oi_output_write(out, "\"", 1) : status;
}

oclinit_status oi_csv_write(oclinit_table_t t, oi_output *out) {
    oclinit_status status = OCLINIT_SUCCESS;
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!c_locale) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "creating the C locale");
    locale_t previous = uselocale(c_locale);
    const char separator[1] = {t->separator ? t->separator : ','}; /* a table read from .npy has none */
    if (t->has_header) {
        for (size_t c = 0; c < t->columns; c++) {
            if (c) OI_CHECK(oi_output_write(out, separator, 1));
            OI_CHECK(write_text(out, t->names[c], separator[0]));
        }
        OI_CHECK(oi_output_write(out, "\n", 1));
    }
    for (size_t r = 0; r < t->rows; r++) {
        const float *row = t->data + r * t->features;
        for (size_t c = 0, f = 0; c < t->columns; c++) {
            if (c) OI_CHECK(oi_output_write(out, separator, 1));
            char number[32];
            if (c == t->label_column && t->label_text) {
                OI_CHECK(write_text(out, t->label_text[r], separator[0]));
                continue;
            }
            if (c == t->label_column) { /* from .npy: 17 digits keep a float64 label, 9 a float32 one */
                int length = snprintf(number, sizeof number, "%.*g", t->npy_double ? 17 : 9, t->label_values[r]);
                OI_CHECK(oi_output_write(out, number, (size_t)length));
                continue;
            }
            int length = snprintf(number, sizeof number, "%.9g", row[f++]); /* 9 digits: float32 round-trips */
            OI_CHECK(oi_output_write(out, number, (size_t)length));
        }
        OI_CHECK(oi_output_write(out, "\n", 1));
    }
cleanup:
    uselocale(previous);
    freelocale(c_locale);
    return status;
}
