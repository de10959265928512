/* Data for train and predict: a built-in set or a table with an optional label column; and the diagnostics
 * table both commands print. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

bool load_dataset(const char *command, const dataset_request *request, bool need_labels, dataset *out) {
    memset(out, 0, sizeof *out);
    oclinit_dataset kind;
    /* A built-in name, unless a file of that name exists. */
    if (access(request->spec, F_OK) != 0 && oclinit_dataset_parse(request->spec, &kind) == OCLINIT_SUCCESS) {
        float *points = malloc(2 * request->samples * sizeof(float));
        out->built_in = true;
        out->y = malloc(request->samples * sizeof(float));
        oclinit_status status = points && out->y ? oclinit_dataset_make(kind, request->samples, request->noise,
                                                                        request->seed, request->stream, points, out->y)
                                                 : OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
        if (status == OCLINIT_SUCCESS) status = oclinit_table_create(request->samples, 2, points, &out->table);
        free(points);
        if (status != OCLINIT_SUCCESS) {
            report_failure(command, status);
            free_dataset(out);
            return false;
        }
        out->rows = request->samples;
        out->features = 2;
        out->x = oclinit_table_get_data(out->table);
        return true;
    }
    oclinit_read_options read = request->read;
    read.label = request->label;
    oclinit_status status = oclinit_table_read(request->spec, &read, &out->table);
    if (status != OCLINIT_SUCCESS) {
        report_failure(command, status);
        return false;
    }
    const char *problem = NULL;
    if (need_labels && !request->label)
        problem = "needs --label: which column holds the 0/1 labels?";
    else if (oclinit_table_get_rows(out->table) == 0)
        problem = "has no data rows";
    if (problem) {
        fprintf(stderr, "oclinit %s: error: %s %s\n", command, request->spec, problem);
        free_dataset(out);
        return false;
    }
    out->rows = oclinit_table_get_rows(out->table);
    out->features = oclinit_table_get_features(out->table);
    out->x = oclinit_table_get_data(out->table);
    if (request->label) {
        out->y = malloc(out->rows * sizeof(float));
        status = out->y ? oclinit_table_get_labels(out->table, out->y) : OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
        if (status != OCLINIT_SUCCESS) {
            fprintf(stderr, "oclinit %s: error: %s: %s\n", command, request->spec,
                    out->y ? oclinit_error_get_detail() : "out of memory for the labels");
            free_dataset(out);
            return false;
        }
    }
    return true;
}

void free_dataset(dataset *d) {
    oclinit_table_free(d->table);
    free(d->y);
    memset(d, 0, sizeof *d);
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
