/* Data for train and predict: a built-in set or a table with an optional label column; the warnings about
 * fitted features that normalize and train print; and train's diagnostics table. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "io/io.h"

/* A built-in set holds 12 bytes a sample (points and label); making it, the table it becomes, the device's copy and
 * training's shuffled copy hold about this many times that at once. */
#define BUILT_IN_COPIES 5

bool parse_noise(const char *command, const char *text, double *noise) {
    if (!parse_float32(command, "noise", text, false, noise)) return false;
    if (*noise >= 0) return true;
    fprintf(stderr, "oclinit %s: --noise must be >= 0, got \"%s\"\n", command, text);
    return false;
}

static int make_built_in(const char *command, const dataset_request *request, oclinit_dataset kind, dataset *out) {
    size_t bytes = 0, needed = 0, samples = request->samples;
    float *points = NULL;
    double memory = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGE_SIZE);
    out->built_in = true;
    oclinit_status status = oi_size_bytes("the data set's points", samples, 2, sizeof(float), &bytes);
    if (status == OCLINIT_SUCCESS)
        status = oi_size_bytes("the data set and its copies", samples, 3 * BUILT_IN_COPIES, sizeof(float), &needed);
    if (status == OCLINIT_SUCCESS && memory > 0 && (double)needed > memory)
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY,
                         "--samples %zu is too large: the data set and the copies the command makes of it need "
                         "about %.1f GiB, more than the %.1f GiB of memory here",
                         samples, (double)needed / 1073741824.0, memory / 1073741824.0);
    if (status == OCLINIT_SUCCESS) {
        points = malloc(bytes);
        out->y = malloc(bytes / 2);
        status = points && out->y ? oclinit_dataset_make(kind, samples, request->noise, request->seed, request->stream,
                                                         points, out->y)
                                  : oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY,
                                            "--samples %zu: %.1f MiB for the data set do not fit in memory", samples,
                                            1.5 * (double)bytes / 1048576.0);
    }
    if (status == OCLINIT_SUCCESS) status = oclinit_table_create(samples, 2, points, &out->table);
    free(points);
    if (status != OCLINIT_SUCCESS) {
        report_failure(command, status);
        free_dataset(out);
        return EXIT_FAILURE;
    }
    out->rows = samples;
    out->features = 2;
    out->x = oclinit_table_get_data(out->table);
    return 0;
}

/* The feature of the table with the header name (never one given as an index: that is a column, not a name), or
 * SIZE_MAX; SIZE_MAX for NULL. */
static size_t feature_named(oclinit_table_t table, const char *name) {
    for (size_t f = 0; name && !oi_label_is_index(name) && f < oclinit_table_get_features(table); f++) {
        const char *feature = oclinit_table_get_feature_name(table, f);
        if (feature && strcmp(feature, name) == 0) return f;
    }
    return SIZE_MAX;
}

static void rank_rows(uint64_t total, uint64_t *first, uint64_t *end) {
    oi_dist_rows(total, oi_dist_rank(), oi_dist_size(), first, end);
}

int load_dataset(const char *command, const dataset_request *request, bool need_labels, dataset *out) {
    memset(out, 0, sizeof *out);
    oclinit_dataset kind;
    /* A built-in name, unless a file of that name exists. */
    bool missing = access(request->spec, F_OK) != 0 && errno == ENOENT;
    if (missing && oclinit_dataset_parse(request->spec, &kind) == OCLINIT_SUCCESS)
        return make_built_in(command, request, kind, out);
    if (missing) { /* said first: a misspelt built-in name is not a file that lacks --label */
        fprintf(stderr, "oclinit %s: error: %s: no such file, and not a built-in data set (", command, request->spec);
        for (int k = OCLINIT_DATASET_CIRCLES; k <= OCLINIT_DATASET_SPIRALS; k++)
            fprintf(stderr, "%s%s", k > OCLINIT_DATASET_CIRCLES ? ", " : "", oclinit_dataset_str((oclinit_dataset)k));
        fprintf(stderr, ")\n");
        return EXIT_FAILURE;
    }
    if (need_labels && !request->label) {
        fprintf(stderr, "oclinit %s: %s needs --label: which column holds the 0/1 labels? (see oclinit %s --help)\n",
                command, request->spec, command);
        return EXIT_USAGE;
    }
    oclinit_read_options read = request->read;
    read.label = request->label;
    /* Under mpirun a rank that cannot read names itself: the others stop with it, silently. */
    out->part = request->share;
    oclinit_status status =
        oi_dist_test_fail()
            ? oi_fail(OCLINIT_ERROR_IO, "%s: not read, failing on purpose (OCLINIT_TEST_FAIL_RANK)", request->spec)
        : out->part ? oi_table_read_part(request->spec, &read, rank_rows, &out->table, &out->first, &out->total,
                                         &out->fingerprint)
                    : oclinit_table_read(request->spec, &read, &out->table);
    if (status != OCLINIT_SUCCESS) {
        if (oi_dist_size() > 1) { /* the detail is copied first: formatting it into itself repeats it */
            char detail[1024];
            snprintf(detail, sizeof detail, "%s", oclinit_error_get_detail());
            oi_fail(status, "rank %d of %d: %s", oi_dist_rank(), oi_dist_size(), detail);
        }
        report_failure(command, status);
        return EXIT_FAILURE;
    }
    if ((out->part ? out->total : oclinit_table_get_rows(out->table)) == 0) {
        fprintf(stderr, "oclinit %s: error: %s has no data rows\n", command, request->spec);
        free_dataset(out);
        return EXIT_FAILURE;
    }
    out->label = request->label;
    size_t named = request->label ? SIZE_MAX : feature_named(out->table, request->label_if_column);
    if (named != SIZE_MAX) {
        status = oi_table_take_label(out->table, named);
        if (status != OCLINIT_SUCCESS) {
            report_failure(command, status);
            free_dataset(out);
            return EXIT_FAILURE;
        }
        out->label = request->label_if_column;
    }
    out->rows = oclinit_table_get_rows(out->table);
    out->features = oclinit_table_get_features(out->table);
    out->x = oclinit_table_get_data(out->table);
    if (out->label) {
        out->y = calloc(out->rows ? out->rows : 1, sizeof(float));
        status = out->y ? oclinit_table_get_labels(out->table, out->y) : OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
        if (status != OCLINIT_SUCCESS) {
            fprintf(stderr, "oclinit %s: error: %s: %s\n", command, request->spec,
                    out->y ? oclinit_error_get_detail() : "out of memory for the labels");
            free_dataset(out);
            return EXIT_FAILURE;
        }
    }
    return 0;
}

void free_dataset(dataset *d) {
    oclinit_table_free(d->table);
    free(d->y);
    memset(d, 0, sizeof *d);
}

void describe_feature(oclinit_normalizer_t n, size_t f, oclinit_table_t table, char *text, size_t size) {
    const char *name = oclinit_normalizer_get_feature_name(n, f);
    size_t column = oclinit_table_get_feature_column(table, f);
    if (name)
        snprintf(text, size, "column %zu (\"%s\")", column, name);
    else
        snprintf(text, size, "column %zu", column);
}

void warn_about_features(const char *command, oclinit_normalizer_t n, oclinit_table_t table) {
    /* Extreme: the largest magnitude squared leaves float32's normal range, so arithmetic on the raw values (as
     * unnormalized training does) overflows or loses precision. */
    const double large = sqrt(FLT_MAX), small = sqrt(FLT_MIN);
    double lo, hi;
    oclinit_normalizer_get_range(n, &lo, &hi);
    for (size_t f = 0; f < oclinit_normalizer_get_features(n); f++) {
        oclinit_stats s = oclinit_normalizer_get_stats(n, f);
        double largest = fmax(fabs(s.min), fabs(s.max));
        char text[64];
        describe_feature(n, f, table, text, sizeof text);
        if (oclinit_normalizer_is_constant(n, f))
            fprintf(stderr, "oclinit %s: warning: %s is constant (%g) in the training data; it becomes %g\n", command,
                    text, s.min, oclinit_normalizer_get_method(n) == OCLINIT_NORMALIZE_MINMAX ? lo : 0.0);
        else if (largest > large || largest < small)
            fprintf(stderr,
                    "oclinit %s: warning: %s is extreme: its values reach %g in magnitude, where float32 squares %s; "
                    "it is normalized correctly, but check its units\n",
                    command, text, largest, largest > large ? "overflow" : "underflow");
    }
}

void print_diagnostics(FILE *out, const char *indent, const oclinit_train_report *report) {
    static const char *const names[3] = {"layer 1", "layer 2", "layer 3 (output)"};
    fprintf(out, "%s%-18s %11s %11s %10s %13s\n", indent, "layer", "act. mean", "act. std", "inactive", "|dW| (grad)");
    for (int l = 0; l < 3; l++) {
        const oclinit_layer_report *r = &report->layers[l];
        fprintf(out, "%s%-18s %11.4g %11.4g %9.1f%% %13.4g\n", indent, names[l], r->activation_mean, r->activation_std,
                100 * r->inactive_share, r->gradient_norm);
    }
    char warning[300];
    if (oclinit_network_diagnose(report->layers, warning, sizeof warning))
        fprintf(out, "%swarning at iteration %zu: %s\n", indent, report->iteration, warning);
}
