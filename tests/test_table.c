/* Reading and writing tables: CSV dialects, header detection, the label column, .npy dtypes and byte orders,
 * and every malformed input with the line (or row) and column it names. */
#include <math.h>
#include <stdio.h>

#include "helpers.h"

/* Parses text as a file's content (a copy: the CSV reader unescapes in place). */
static oclinit_status parse(const char *text, size_t size, const char *label, oclinit_header header,
                            oclinit_table_t *table) {
    char *copy = malloc(size + 1);
    memcpy(copy, text, size);
    copy[size] = '\0';
    oclinit_read_options options = {.header = header, .label = label};
    oclinit_status status = oi_table_parse("test.csv", copy, size, &options, table);
    free(copy);
    return status;
}

static oclinit_table_t parse_ok(const char *text, const char *label) {
    oclinit_table_t t = NULL;
    assert_ok(parse(text, strlen(text), label, OCLINIT_HEADER_AUTO, &t));
    return t;
}

static void expect_error(const char *text, size_t size, const char *label, oclinit_header header, const char *message) {
    oclinit_table_t t = NULL;
    oclinit_status status = parse(text, size, label, header, &t);
    if (status == OCLINIT_SUCCESS || !strstr(oclinit_error_get_detail(), message))
        print_error("expected an error with \"%s\", got %s: %s\n", message, oclinit_status_str(status),
                    oclinit_error_get_detail());
    assert_int_not_equal(status, OCLINIT_SUCCESS);
    assert_null(t);
    assert_non_null(strstr(oclinit_error_get_detail(), message));
}

static void csv_dialects(void **state) {
    (void)state;
    static const char *const texts[] = {
        "a,b,c\n1,2,3\n4,5,6\n", "a;b;c\r\n1;2;3\r\n4;5;6\r\n",
        "a\tb\tc\n1\t2\t3\n\n   \n4\t5\t6",                    /* blank lines skipped, no final newline */
        "\xEF\xBB\xBF\"a\",\"b\",\"c\"\n\"1\", 2 ,3\n4,5,6\n", /* byte order mark, quoted numbers, spaces */
    };
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        oclinit_table_t t = parse_ok(texts[k], NULL);
        assert_int_equal(oclinit_table_get_rows(t), 2);
        assert_int_equal(oclinit_table_get_features(t), 3);
        assert_string_equal(oclinit_table_get_feature_name(t, 1), "b");
        const float expected[6] = {1, 2, 3, 4, 5, 6};
        assert_memory_equal(oclinit_table_get_data(t), expected, sizeof expected);
        oclinit_table_free(t);
    }
}

static void header_detection(void **state) {
    (void)state;
    oclinit_table_t t = parse_ok("1,2\n3,4\n", NULL); /* all numbers: no header */
    assert_int_equal(oclinit_table_get_rows(t), 2);
    assert_null(oclinit_table_get_feature_name(t, 0));
    oclinit_table_free(t);
    /* A text label column alone does not make the first row a header. */
    t = parse_ok("1,2,yes\n3,4,no\n", "3");
    assert_int_equal(oclinit_table_get_rows(t), 2);
    assert_int_equal(oclinit_table_get_features(t), 2);
    assert_int_equal(oclinit_table_get_label_column(t), 3);
    oclinit_table_free(t);
    /* Forced either way. */
    assert_ok(parse("10,20\n1,2\n", 10, NULL, OCLINIT_HEADER_YES, &t));
    assert_int_equal(oclinit_table_get_rows(t), 1);
    assert_string_equal(oclinit_table_get_feature_name(t, 0), "10");
    oclinit_table_free(t);
    expect_error("x,y\n1,2\n", 8, NULL, OCLINIT_HEADER_NO, "line 1, column 1: \"x\" is not a number");
    /* A declared header: a label that is exactly a column's name is that column, not an index; else an index. */
    const char *numbered = "30,1,x\n1,2,3\n";
    assert_ok(parse(numbered, strlen(numbered), "30", OCLINIT_HEADER_YES, &t));
    assert_int_equal(oclinit_table_get_label_column(t), 1);
    oclinit_table_free(t);
    assert_ok(parse(numbered, strlen(numbered), "1", OCLINIT_HEADER_YES, &t));
    assert_int_equal(oclinit_table_get_label_column(t), 2);
    oclinit_table_free(t);
    assert_ok(parse(numbered, strlen(numbered), "3", OCLINIT_HEADER_YES, &t));
    assert_int_equal(oclinit_table_get_label_column(t), 3);
    oclinit_table_free(t);
    expect_error(numbered, strlen(numbered), "30", OCLINIT_HEADER_AUTO, "label column 30 does not exist");
    /* A label that is not all digits is a name, however it starts, so the first row is a header even when it reads
     * as numbers; one that is all digits is an index. */
    t = parse_ok("1,2e0\n0,1\n1,0\n", "2e0");
    assert_int_equal(oclinit_table_get_rows(t), 2);
    assert_int_equal(oclinit_table_get_label_column(t), 2);
    oclinit_table_free(t);
    t = parse_ok("1,2\n0,1\n1,0\n", "2");
    assert_int_equal(oclinit_table_get_rows(t), 3);
    assert_int_equal(oclinit_table_get_label_column(t), 2);
    oclinit_table_free(t);
}

static void label_column_passes_through(void **state) {
    (void)state;
    const char *text = "f1,\"the label\",f2\n1.5,\"a, \"\"quoted\"\"\nlabel\",2\n3,b,4\n";
    oclinit_table_t t = parse_ok(text, "the label");
    assert_int_equal(oclinit_table_get_features(t), 2);
    assert_int_equal(oclinit_table_get_label_column(t), 2);
    assert_string_equal(oclinit_table_get_label_name(t), "the label");
    assert_int_equal(oclinit_table_get_feature_column(t, 1), 3);
    assert_string_equal(t->label_text[0], "a, \"quoted\"\nlabel");
    const float expected[4] = {1.5f, 2, 3, 4};
    assert_memory_equal(oclinit_table_get_data(t), expected, sizeof expected);
    /* Written back: same header, same order, the label cell as it was. */
    assert_ok(oclinit_table_write(t, "test_table_out.csv"));
    oclinit_table_free(t);
    assert_ok(oclinit_table_read("test_table_out.csv", &(oclinit_read_options){.label = "2"}, &t));
    assert_string_equal(t->label_text[0], "a, \"quoted\"\nlabel");
    assert_string_equal(oclinit_table_get_feature_name(t, 1), "f2");
    assert_memory_equal(oclinit_table_get_data(t), expected, sizeof expected);
    oclinit_table_free(t);
    remove("test_table_out.csv");
}

static void csv_errors_name_line_and_column(void **state) {
    (void)state;
    const char *ragged = "a,b,c\n1,2,3\n4,5\n";
    expect_error(ragged, strlen(ragged), NULL, OCLINIT_HEADER_AUTO,
                 "line 3, column 3: the row has 2 fields where line 1 has 3");
    const char *long_row = "a,b\n1,2\n\n3,4,5\n";
    expect_error(long_row, strlen(long_row), NULL, OCLINIT_HEADER_AUTO, "line 4, column 3: the row has 3 fields");
    const char *text_cell = "a,b\n1,2\n3,abc\n";
    expect_error(text_cell, strlen(text_cell), NULL, OCLINIT_HEADER_AUTO,
                 "line 3, column 2 (b): \"abc\" is not a number");
    const char *empty_cell = "a,b\n1,2\n3,\n";
    expect_error(empty_cell, strlen(empty_cell), NULL, OCLINIT_HEADER_AUTO, "line 3, column 2 (b): the cell is empty");
    const char *nan = "a,b\n1,2\n3,nan\n";
    expect_error(nan, strlen(nan), NULL, OCLINIT_HEADER_AUTO,
                 "line 3, column 2 (b): nan is not a finite float32 number");
    const char *inf = "a,b\n1,-inf\n";
    expect_error(inf, strlen(inf), NULL, OCLINIT_HEADER_AUTO, "line 2, column 2 (b): -inf is not a finite");
    const char *too_big = "a\n1e39\n";
    expect_error(too_big, strlen(too_big), NULL, OCLINIT_HEADER_AUTO, "1e39 is not a finite float32 number");
    const char *open_quote = "a,b\n1,\"2\n3,4\n";
    expect_error(open_quote, strlen(open_quote), NULL, OCLINIT_HEADER_AUTO,
                 "line 2, column 2: the quote is never closed");
    const char *after_quote = "a,b\n1,\"2\"x\n";
    expect_error(after_quote, strlen(after_quote), NULL, OCLINIT_HEADER_AUTO,
                 "line 2, column 2: unexpected 'x' after a closing quote");
    expect_error("", 0, NULL, OCLINIT_HEADER_AUTO, "test.csv is empty");
    expect_error("\n\n  \n", 5, NULL, OCLINIT_HEADER_AUTO, "test.csv is empty");
    const char *plain = "a,b\n1,2\n";
    expect_error(plain, strlen(plain), "c", OCLINIT_HEADER_AUTO,
                 "no column is named \"c\"; the header has \"a\", \"b\"");
    expect_error(plain, strlen(plain), "3", OCLINIT_HEADER_AUTO, "label column 3 does not exist");
    const char *numbers = "1,2\n3,4\n";
    expect_error(numbers, strlen(numbers), "y", OCLINIT_HEADER_NO,
                 "there is no header row to find the label column \"y\" in");
    const char binary[] = {'a', ',', 'b', '\n', '1', '\0', '2', ',', '3', '\n'};
    expect_error(binary, sizeof binary, NULL, OCLINIT_HEADER_AUTO, "line 2, column 1 (a): \"1?2\" is not a number");
}

static void header_only_reads_as_no_rows(void **state) {
    (void)state;
    oclinit_table_t t = parse_ok("a,b\n", NULL);
    assert_int_equal(oclinit_table_get_rows(t), 0);
    assert_int_equal(oclinit_table_get_features(t), 2);
    oclinit_table_free(t);
}

/* A .npy file in memory: version 1.0 header with the given dict, then data. */
static size_t npy_bytes(char *out, const char *dict, const void *data, size_t data_size) {
    size_t length = strlen(dict), total = (10 + length + 1 + 63) / 64 * 64;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (char)((total - 10) & 0xff);
    out[9] = (char)((total - 10) >> 8);
    memcpy(out + 10, dict, length);
    memset(out + 10 + length, ' ', total - 10 - length - 1);
    out[total - 1] = '\n';
    memcpy(out + total, data, data_size);
    return total + data_size;
}

static void npy_dtypes_and_byte_orders(void **state) {
    (void)state;
    char file[1024];
    const float singles[6] = {1, 2, 3, 4, 5, 6};
    const double doubles[6] = {1, 2, 3, 4, 5, 6};
    double swapped[6];
    for (int i = 0; i < 6; i++) {
        unsigned char *from = (unsigned char *)&doubles[i], *to = (unsigned char *)&swapped[i];
        for (int b = 0; b < 8; b++) to[b] = from[7 - b];
    }
    struct {
        const char *dict;
        const void *data;
        size_t size;
    } cases[] = {
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", singles, sizeof singles},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", doubles, sizeof doubles},
        {"{'shape': (3, 2), 'fortran_order': False, 'descr': '>f8'}", swapped, sizeof swapped},
    };
    for (size_t k = 0; k < 3; k++) {
        size_t size = npy_bytes(file, cases[k].dict, cases[k].data, cases[k].size);
        oclinit_table_t t = NULL;
        assert_ok(parse(file, size, "1", OCLINIT_HEADER_AUTO, &t));
        assert_true(t->is_npy);
        assert_int_equal(oclinit_table_get_rows(t), 3);
        assert_int_equal(oclinit_table_get_features(t), 1);
        const float expected[3] = {2, 4, 6};
        assert_memory_equal(oclinit_table_get_data(t), expected, sizeof expected);
        assert_true(t->label_values[2] == 5);
        /* Written back in the input's dtype, the label column in place. */
        oclinit_table_get_data(t)[0] = -2;
        assert_ok(oclinit_table_write(t, "test_table_out.npy"));
        oclinit_table_free(t);
        assert_ok(oclinit_table_read("test_table_out.npy", NULL, &t));
        assert_int_equal(oclinit_table_get_features(t), 2);
        assert_true(t->npy_double == (k > 0));
        const float written[6] = {1, -2, 3, 4, 5, 6};
        assert_memory_equal(oclinit_table_get_data(t), written, sizeof written);
        oclinit_table_free(t);
    }
    remove("test_table_out.npy");
}

static void npy_errors(void **state) {
    (void)state;
    char file[1024];
    const float data[4] = {1, NAN, 3, 4};
    struct {
        const char *dict;
        size_t data_size;
        const char *message;
    } cases[] = {
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 2), }", 16, "more than the 16 bytes of data"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", 16, "more than the"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 16, "the array has 1 dimensions"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }", 16, "the array has 3 dimensions"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, "Fortran-ordered"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", 16, "dtype '<i4' is not supported"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 16, "row 1, column 2: nan is not a finite"},
        {"{'descr': '<f4', 'fortran_order': False}", 16, "not a dict of descr, fortran_order and shape"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'extra': 1}", 16, "not a dict"},
        {"['descr', '<f4']", 16, "not a dict"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t size = npy_bytes(file, cases[k].dict, data, cases[k].data_size);
        expect_error(file, size, NULL, OCLINIT_HEADER_AUTO, cases[k].message);
    }
    size_t size = npy_bytes(file, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", data, 16);
    expect_error(file, size, "y", OCLINIT_HEADER_AUTO, "a .npy file has no column names");
    expect_error(file, 9, NULL, OCLINIT_HEADER_AUTO, "the .npy header is truncated");
    expect_error(file, 40, NULL, OCLINIT_HEADER_AUTO, "the file ends first");
    file[6] = 9;
    expect_error(file, size, NULL, OCLINIT_HEADER_AUTO, ".npy format version 9.0 is not supported");
}

static oclinit_status write_npy(const void *table, oi_output *out) {
    return oi_npy_write((oclinit_table_t)table, out);
}

static oclinit_status write_csv(const void *table, oi_output *out) {
    return oi_csv_write((oclinit_table_t)table, out);
}

/* Either format from either: a CSV table as .npy (the label a column of numbers, no header), a .npy table as CSV
 * (comma, the label as the number it was). */
static void formats_cross(void **state) {
    (void)state;
    oclinit_table_t t = parse_ok("a;y;b\n1;0;2\n3; 1 ;4\n", "y");
    assert_ok(oi_output_write_file("test_table_out.npy", write_npy, t));
    oclinit_table_free(t);
    assert_ok(oclinit_table_read("test_table_out.npy", &(oclinit_read_options){.label = "2"}, &t));
    assert_true(t->is_npy && !t->npy_double);
    const float features[4] = {1, 2, 3, 4};
    assert_memory_equal(oclinit_table_get_data(t), features, sizeof features);
    assert_true(t->label_values[0] == 0 && t->label_values[1] == 1);
    assert_ok(oi_output_write_file("test_table_out.csv", write_csv, t));
    oclinit_table_free(t);
    char text[64] = "";
    FILE *f = fopen("test_table_out.csv", "r");
    assert_non_null(f);
    text[fread(text, 1, sizeof text - 1, f)] = '\0';
    fclose(f);
    assert_string_equal(text, "1,0,2\n3,1,4\n");
    /* A label that is no number has no place in a .npy. */
    t = parse_ok("a,y\n1,0\n2,yes\n", "y");
    assert_int_equal(oi_output_write_file("test_table_out.npy", write_npy, t), OCLINIT_ERROR_INVALID_ARGUMENT);
    const char *message = "test_table_out.npy: the label column 2 (\"y\") holds \"yes\" (line 3 of the input), which "
                          "is not a number";
    assert_non_null(strstr(oclinit_error_get_detail(), message));
    /* The same refusal before any work, from the table alone; a .npy's labels are numbers already. */
    assert_int_equal(oi_npy_check_labels(t, "test_table_out.npy"), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), message));
    oclinit_table_free(t);
    t = parse_ok("a,y\n1,0\n2, 1 \n", "y");
    assert_ok(oi_npy_check_labels(t, "test_table_out.npy"));
    oclinit_table_free(t);
    remove("test_table_out.npy");
    remove("test_table_out.csv");
    /* A file named .npy is one, or refused: never read as CSV. */
    char fake[] = "hello\n1\n2\n";
    assert_int_equal(oi_table_parse("data.NPY", fake, strlen(fake), NULL, &t), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "data.NPY is not a .npy file"));
}

/* A feature of a table read without a label becomes its label, as reading with that label would have made it. */
static void label_taken_from_features(void **state) {
    (void)state;
    const char *text = "a,y,b\n1,0,2\n3,1,4\n5,1,6\n";
    oclinit_table_t t = parse_ok(text, NULL), labelled = parse_ok(text, "y");
    assert_ok(oi_table_take_label(t, 1));
    assert_int_equal(oclinit_table_get_features(t), 2);
    assert_int_equal(oclinit_table_get_label_column(t), 2);
    assert_string_equal(oclinit_table_get_label_name(t), "y");
    assert_string_equal(oclinit_table_get_feature_name(t, 1), "b");
    assert_int_equal(oclinit_table_get_feature_column(t, 1), 3);
    assert_memory_equal(oclinit_table_get_data(t), oclinit_table_get_data(labelled), 6 * sizeof(float));
    float labels[3], expected[3];
    assert_ok(oclinit_table_get_labels(t, labels));
    assert_ok(oclinit_table_get_labels(labelled, expected));
    assert_memory_equal(labels, expected, sizeof labels);
    /* Only from a feature, and only once. */
    assert_int_equal(oi_table_take_label(t, 0), OCLINIT_ERROR_INVALID_ARGUMENT);
    oclinit_table_free(t);
    oclinit_table_free(labelled);
    t = parse_ok("a,y\n1,2\n", NULL);
    assert_int_equal(oi_table_take_label(t, 2), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_ok(oi_table_take_label(t, 1));
    assert_int_equal(oclinit_table_get_labels(t, labels), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "line 2, column 2: the label is \"2\"; labels must be 0 or 1"));
    oclinit_table_free(t);
}

/* The rules a caller shares with the readers: an index is all digits, and a name's ending ignores case. */
static void label_index_and_name_ending(void **state) {
    (void)state;
    assert_true(oi_label_is_index("3") && oi_label_is_index("012"));
    assert_false(oi_label_is_index(NULL) || oi_label_is_index("") || oi_label_is_index("2e0") ||
                 oi_label_is_index("y1") || oi_label_is_index(" 1") || oi_label_is_index("-1"));
    assert_true(oi_name_ends_with("x.npy", ".npy") && oi_name_ends_with("X.NPY", ".npy") &&
                oi_name_ends_with(".Npy", ".npy"));
    assert_false(oi_name_ends_with("npy", ".npy") || oi_name_ends_with("x.npy.csv", ".npy") ||
                 oi_name_ends_with("", ".csv"));
}

static void missing_file(void **state) {
    (void)state;
    oclinit_table_t t = NULL;
    assert_int_equal(oclinit_table_read("/nonexistent/data.csv", NULL, &t), OCLINIT_ERROR_IO);
    assert_non_null(strstr(oclinit_error_get_detail(), "cannot open /nonexistent/data.csv"));
    assert_int_equal(oclinit_table_read("/tmp", NULL, &t), OCLINIT_ERROR_IO);
    assert_non_null(strstr(oclinit_error_get_detail(), "is not a regular file"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_dialects),
        cmocka_unit_test(header_detection),
        cmocka_unit_test(label_column_passes_through),
        cmocka_unit_test(csv_errors_name_line_and_column),
        cmocka_unit_test(header_only_reads_as_no_rows),
        cmocka_unit_test(npy_dtypes_and_byte_orders),
        cmocka_unit_test(npy_errors),
        cmocka_unit_test(formats_cross),
        cmocka_unit_test(label_taken_from_features),
        cmocka_unit_test(label_index_and_name_ending),
        cmocka_unit_test(missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
