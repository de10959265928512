/* oclinit normalize: fit min-max or z-score statistics on a table and transform it, or apply saved ones. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/io.h"

static void usage(FILE *out) {
    fprintf(out,
            "Usage: oclinit normalize --method minmax|zscore [--range LO,HI] --input FILE --output FILE\n"
            "                         [--save-stats STATS] [options]\n"
            "       oclinit normalize --stats STATS --input FILE --output FILE [options]\n"
            "\n"
            "The first form fits the statistics on FILE (the training data) and transforms it; the second applies\n"
            "statistics saved by the first, unchanged, to other data (test or production), as scikit-learn's\n"
            "MinMaxScaler and StandardScaler do:\n"
            "  minmax   LO + (x - min) (HI - LO) / (max - min), [LO, HI] = [0, 1] unless --range says otherwise\n"
            "  zscore   (x - mean) / std, the population std (ddof 0)\n"
            "A constant column becomes LO (minmax) or 0 (zscore), with a warning that names it.\n"
            "\n"
            "Files: CSV (comma, semicolon or tab, detected; quoted fields; a header row detected) or .npy (2-D\n"
            "float32 or float64). The output keeps the input's column order, in the format its name asks for:\n"
            "FILE.npy a 2-D .npy (float32, float64 from a float64 .npy; no header; the label column stays a\n"
            "column, of numbers), any other name CSV (the input's header and separator; comma from a .npy).\n"
            "It appears only when complete. --output - writes the input's format to standard output (and the\n"
            "summary to standard error).\n"
            "\n"
            "Options:\n"
            "  --label COL          a column passed through unchanged and never normalized: header name or\n"
            "                       1-based index (with --header, a column named exactly COL wins over the\n"
            "                       index; with --stats, the statistics' label is the default; data without\n"
            "                       that column and with the fitted feature names get no label column)\n"
            "  --no-header          CSV: the first row is data      --header   CSV: the first row is a header\n"
            "  --separator C        CSV: , ; or tab (default: detected from the first line)\n"
            "  --device D           P:D, part of a device or platform name (nvidia, pocl, rusticl), or cpu for\n"
            "                       the host C path\n"
            "  --quiet              no summary\n"
            "  -h, --help           this text\n"
            "\n"
            "Example:\n"
            "  oclinit normalize --method zscore --label y --input train.csv --output train_z.csv --save-stats z.txt\n"
            "  oclinit normalize --stats z.txt --input test.csv --output test_z.csv\n");
}

enum {
    OPT_METHOD = 1000,
    OPT_RANGE,
    OPT_INPUT,
    OPT_OUTPUT,
    OPT_SAVE_STATS,
    OPT_STATS,
    OPT_LABEL,
    OPT_NO_HEADER,
    OPT_HEADER,
    OPT_SEPARATOR,
    OPT_DEVICE,
    OPT_QUIET,
    OPT_HELP
};

static const struct option long_options[] = {
    {"method", required_argument, NULL, OPT_METHOD},
    {"range", required_argument, NULL, OPT_RANGE},
    {"input", required_argument, NULL, OPT_INPUT},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"save-stats", required_argument, NULL, OPT_SAVE_STATS},
    {"stats", required_argument, NULL, OPT_STATS},
    {"label", required_argument, NULL, OPT_LABEL},
    {"no-header", no_argument, NULL, OPT_NO_HEADER},
    {"header", no_argument, NULL, OPT_HEADER},
    {"separator", required_argument, NULL, OPT_SEPARATOR},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct normalize_args {
    const char *method, *range, *input, *output, *save_stats, *stats, *label, *device;
    oclinit_read_options read;
    bool quiet;
} normalize_args;

static const char *const command = "normalize";

/* Returns -1 to go on, else the exit code. */
static int parse_arguments(int argc, char **argv, normalize_args *args) {
    memset(args, 0, sizeof *args);
    options_reset();
    int id;
    while ((id = next_option(command, argc, argv, long_options)) != -1) {
        if (id == OPTION_INVALID) return EXIT_USAGE;
        switch (id) {
        case 'h':
        case OPT_HELP: usage(stdout); return EXIT_SUCCESS;
        case OPT_METHOD: args->method = optarg; break;
        case OPT_RANGE: args->range = optarg; break;
        case OPT_INPUT: args->input = optarg; break;
        case OPT_OUTPUT: args->output = optarg; break;
        case OPT_SAVE_STATS: args->save_stats = optarg; break;
        case OPT_STATS: args->stats = optarg; break;
        case OPT_LABEL: args->label = optarg; break;
        case OPT_NO_HEADER: args->read.header = OCLINIT_HEADER_NO; break;
        case OPT_HEADER: args->read.header = OCLINIT_HEADER_YES; break;
        case OPT_DEVICE: args->device = optarg; break;
        case OPT_QUIET: args->quiet = true; break;
        case OPT_SEPARATOR:
            if (!parse_separator(command, optarg, &args->read.separator)) return EXIT_USAGE;
            break;
        }
    }
    const char *problem = NULL;
    if (!args->method == !args->stats)
        problem = "give either --method (to fit) or --stats (to apply saved statistics)";
    else if (!args->input)
        problem = "--input is required";
    else if (!args->output)
        problem = "--output is required";
    else if (args->stats && (args->range || args->save_stats))
        problem = "--range and --save-stats go with --method, not --stats";
    if (problem) {
        fprintf(stderr, "oclinit normalize: %s (see oclinit normalize --help)\n", problem);
        return EXIT_USAGE;
    }
    return -1;
}

static bool parse_range(const char *text, double *lo, double *hi) {
    const char *comma = strchr(text, ',');
    char low[64];
    if (!comma || strchr(comma + 1, ',') || (size_t)(comma - text) >= sizeof low) {
        fprintf(stderr, "oclinit normalize: --range needs exactly two numbers LO,HI, got \"%s\"\n", text);
        return false;
    }
    snprintf(low, sizeof low, "%.*s", (int)(comma - text), text);
    if (!parse_float32(command, "range", low, false, lo) || !parse_float32(command, "range", comma + 1, false, hi))
        return false;
    if (!(*lo < *hi)) {
        fprintf(stderr, "oclinit normalize: --range needs LO < HI, got \"%s\"\n", text);
        return false;
    }
    return true;
}

/* Saved statistics name the label column of the training data, which production data lack. After reading with it
 * failed (status): data whose header names the fitted features, and nothing more, are read without it; else the
 * first failure stands. */
static bool read_without_label(const normalize_args *args, oclinit_normalizer_t n, oclinit_status status,
                               oclinit_table_t *table) {
    char detail[1024]; /* copied: the second read replaces it */
    snprintf(detail, sizeof detail, "%s", oclinit_error_get_detail());
    oclinit_read_options read = args->read;
    read.label = NULL;
    oclinit_table_t t = NULL;
    size_t features = oclinit_normalizer_get_features(n);
    bool match =
        oclinit_table_read(args->input, &read, &t) == OCLINIT_SUCCESS && oclinit_table_get_features(t) == features;
    for (size_t f = 0; match && f < features; f++) {
        const char *fitted = oclinit_normalizer_get_feature_name(n, f), *name = oclinit_table_get_feature_name(t, f);
        match = fitted && name && strcmp(fitted, name) == 0;
    }
    if (match) {
        *table = t;
        return true;
    }
    oclinit_table_free(t);
    oi_fail(status, "%s", detail);
    return false;
}

static void print_summary(const normalize_args *args, oclinit_normalizer_t n, oclinit_table_t table,
                          oclinit_runtime_t runtime, double seconds, bool label_absent) {
    FILE *out = strcmp(args->output, "-") == 0 ? stderr : stdout; /* standard output may carry the data */
    double lo, hi;
    oclinit_normalizer_get_range(n, &lo, &hi);
    const char *label = oclinit_normalizer_get_label(n);
    fprintf(out, "normalized %s -> %s: %zu rows x %zu features, %s%s", args->input,
            out == stderr ? "standard output" : args->output, oclinit_table_get_rows(table),
            oclinit_table_get_features(table), oclinit_normalize_method_str(oclinit_normalizer_get_method(n)),
            args->stats ? " with saved statistics" : "");
    if (oclinit_normalizer_get_method(n) == OCLINIT_NORMALIZE_MINMAX) fprintf(out, " to [%g, %g]", lo, hi);
    if (oclinit_table_get_label_column(table))
        fprintf(out, ", label column %zu%s%s%s passed through", oclinit_table_get_label_column(table),
                label ? " (\"" : "", label ? label : "", label ? "\")" : "");
    else if (label_absent)
        fprintf(out, ", no label column (the statistics' \"%s\" is not in the input)", label);
    fprintf(out, ", on %s, %.3f s\n", oclinit_runtime_get_device(runtime)->name, seconds);
    fprintf(out, "  %-28s %12s %12s %12s %12s\n", "feature", "mean", "std", "min", "max");
    size_t features = oclinit_normalizer_get_features(n), shown = features <= 20 ? features : 16;
    for (size_t f = 0; f < shown; f++) {
        oclinit_stats s = oclinit_normalizer_get_stats(n, f);
        char text[64];
        describe_feature(n, f, table, text, sizeof text);
        fprintf(out, "  %-28.28s %12.6g %12.6g %12.6g %12.6g\n", text, s.mean, s.std, s.min, s.max);
    }
    if (shown < features) fprintf(out, "  ... and %zu more features\n", features - shown);
    if (args->save_stats) fprintf(out, "statistics saved to %s\n", args->save_stats);
}

static oclinit_status write_npy(const void *table, oi_output *out) {
    return oi_npy_write((oclinit_table_t)table, out);
}

static oclinit_status write_csv(const void *table, oi_output *out) {
    return oi_csv_write((oclinit_table_t)table, out);
}

/* The format the output's name asks for, so that t.npy is one numpy loads; standard output has no name. */
static oi_writer output_writer(const char *output) {
    if (strcmp(output, "-") == 0) return oi_table_writer;
    return oi_name_ends_with(output, ".npy") ? write_npy : write_csv;
}

int command_normalize(int argc, char **argv) {
    normalize_args args;
    int code = parse_arguments(argc, argv, &args);
    if (code >= 0) return code;
    double lo = 0, hi = 1;
    oclinit_normalize_method method = OCLINIT_NORMALIZE_ZSCORE;
    if (args.method && oclinit_normalize_method_parse(args.method, &method) != OCLINIT_SUCCESS) {
        fprintf(stderr, "oclinit normalize: %s\n", oclinit_error_get_detail());
        return EXIT_USAGE;
    }
    if (args.range && method != OCLINIT_NORMALIZE_MINMAX) {
        fprintf(stderr, "oclinit normalize: --range goes with --method minmax\n");
        return EXIT_USAGE;
    }
    if (args.range && !parse_range(args.range, &lo, &hi)) return EXIT_USAGE;
    file_arg inputs[] = {{"--input", args.input, false}, {"--stats", args.stats, false}};
    file_arg outputs[] = {{"--output", args.output, true}, {"--save-stats", args.save_stats, false}};
    code = check_files(command, inputs, 2, outputs, 2);
    if (code >= 0) return code;

    oclinit_normalizer_t normalizer = NULL;
    oclinit_table_t table = NULL;
    oclinit_runtime_t runtime = NULL;
    oclinit_status status = OCLINIT_SUCCESS;
    code = EXIT_FAILURE;
    if (args.stats) {
        status = oclinit_normalizer_load(args.stats, &normalizer);
        if (status != OCLINIT_SUCCESS) goto failed;
    }
    const char *saved_label = args.label || !normalizer ? NULL : oclinit_normalizer_get_label(normalizer);
    args.read.label = args.label ? args.label : saved_label;
    status = oclinit_table_read(args.input, &args.read, &table);
    bool label_absent = status != OCLINIT_SUCCESS && saved_label && !oi_label_is_index(saved_label) &&
                        read_without_label(&args, normalizer, status, &table);
    if (label_absent) status = OCLINIT_SUCCESS;
    if (status != OCLINIT_SUCCESS) goto failed;
    /* Labels of text cannot go into a .npy output: the command line is at fault, found before any work. */
    if (output_writer(args.output) == write_npy && oi_npy_check_labels(table, args.output) != OCLINIT_SUCCESS) {
        fprintf(stderr, "oclinit normalize: error: --output: %s\n", oclinit_error_get_detail());
        code = EXIT_USAGE;
        goto done;
    }
    status = oclinit_runtime_create(args.device, &runtime);
    if (status != OCLINIT_SUCCESS) goto failed;

    double start = oi_clock_seconds();
    if (!normalizer) {
        status = oclinit_normalizer_fit(runtime, method, lo, hi, table, &normalizer);
        if (status != OCLINIT_SUCCESS) goto failed;
    }
    warn_about_features(command, normalizer, table);
    status = oclinit_normalizer_apply(runtime, normalizer, table);
    if (status != OCLINIT_SUCCESS) goto failed;
    output_file files[] = {{args.save_stats, oi_normalizer_writer, normalizer},
                           {args.output, output_writer(args.output), table}};
    if (!write_outputs(command, files, 2)) goto done;
    if (!args.quiet) print_summary(&args, normalizer, table, runtime, oi_clock_seconds() - start, label_absent);
    code = EXIT_SUCCESS;
    goto done;
failed:
    report_failure(command, status);
    if (status == OCLINIT_ERROR_KERNEL_BUILD) fprintf(stderr, "%s\n", oclinit_runtime_get_build_log(runtime));
done:
    oclinit_runtime_free(runtime);
    oclinit_table_free(table);
    oclinit_normalizer_free(normalizer);
    return code;
}
