/* oclinit predict: probabilities and classes for each row of a table, from a trained model. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out) {
    fprintf(out, "Usage: oclinit predict --model MODEL --data FILE|circles|moons|spirals --output FILE.csv [options]\n"
                 "\n"
                 "Applies the model's normalization to the data, runs the network, and writes a CSV with a header and\n"
                 "one row per input row: probability,class (class 1 when the probability is above 0.5); --output -\n"
                 "writes it to standard output.\n"
                 "\n"
                 "Options:\n"
                 "  --label COL          a label column: not used as input; the accuracy is printed (default: the\n"
                 "                       model's label column, when the data has a column of that name)\n"
                 "  --header, --no-header, --separator C   CSV, as for oclinit normalize\n"
                 "  --samples N, --noise X, --seed S   built-in sets, as for oclinit train (default: its test set)\n"
                 "  --device D           P:D, part of a device or platform name (nvidia, pocl, rusticl), or cpu for\n"
                 "                       the host C path\n"
                 "  --quiet              no summary\n"
                 "  -h, --help           this text\n");
}

typedef struct predictions {
    const float *probabilities;
    size_t rows;
} predictions;

static bool write_predictions(FILE *out, void *user) {
    const predictions *p = user;
    fputs("probability,class\n", out);
    for (size_t i = 0; i < p->rows; i++) fprintf(out, "%.7g,%d\n", p->probabilities[i], p->probabilities[i] > 0.5f);
    return true;
}

int command_predict(int argc, char **argv) {
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'},
        {"data", required_argument, NULL, 'd'},
        {"label", required_argument, NULL, 'l'},
        {"output", required_argument, NULL, 'o'},
        {"device", required_argument, NULL, 'D'},
        {"header", no_argument, NULL, 'H'},
        {"no-header", no_argument, NULL, 'n'},
        {"separator", required_argument, NULL, 'S'},
        {"samples", required_argument, NULL, 's'},
        {"noise", required_argument, NULL, 'N'},
        {"seed", required_argument, NULL, 'e'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *model = NULL, *output = NULL, *device = NULL;
    dataset_request request = {.samples = 100, .noise = 0.05, .seed = 1, .stream = 102};
    bool quiet = false;
    int64_t samples;
    options_reset();
    int c;
    while ((c = next_option("predict", argc, argv, options)) != -1) {
        if (c == OPTION_INVALID) return EXIT_USAGE;
        bool ok = true;
        switch (c) {
        case 'm': model = optarg; break;
        case 'd': request.spec = optarg; break;
        case 'l': request.label = optarg; break;
        case 'o': output = optarg; break;
        case 'D': device = optarg; break;
        case 'H': request.read.header = OCLINIT_HEADER_YES; break;
        case 'n': request.read.header = OCLINIT_HEADER_NO; break;
        case 'S': ok = parse_separator("predict", optarg, &request.read.separator); break;
        case 's':
            ok = parse_count("predict", "samples", optarg, 2, &samples);
            request.samples = (size_t)samples;
            break;
        case 'N': ok = parse_noise("predict", optarg, &request.noise); break;
        case 'e': ok = parse_uint64("predict", "seed", optarg, &request.seed); break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); return EXIT_SUCCESS;
        }
        if (!ok) return EXIT_USAGE;
    }
    const char *problem = !model          ? "--model is required"
                          : !request.spec ? "--data is required"
                          : !output       ? "--output is required"
                                          : NULL;
    if (problem) {
        fprintf(stderr, "oclinit predict: %s (see oclinit predict --help)\n", problem);
        return EXIT_USAGE;
    }
    file_arg files_read[] = {{"--model", model, false}, {"--data", request.spec, false}};
    file_arg file_written = {"--output", output, true};
    int code = check_files("predict", files_read, 2, &file_written, 1);
    if (code >= 0) return code;
    FILE *report = strcmp(output, "-") == 0 ? stderr : stdout; /* standard output may carry the predictions */

    oclinit_runtime_t runtime = NULL;
    oclinit_network_t net = NULL;
    oclinit_normalizer_t normalizer = NULL;
    dataset data = {0};
    float *probabilities = NULL;
    code = EXIT_FAILURE;
    oclinit_status status = oclinit_runtime_create(device, &runtime);
    if (status == OCLINIT_SUCCESS) status = oclinit_network_load(runtime, model, &net, &normalizer);
    if (status != OCLINIT_SUCCESS) goto failed;
    report_tuning("predict", runtime, false);
    /* Data that still hold the column the model was trained to predict: it is their label, not an input. */
    const char *model_label = normalizer ? oclinit_normalizer_get_label(normalizer) : NULL;
    request.label_if_column = model_label;
    if (load_dataset("predict", &request, false, &data) != 0) goto done;
    bool label_from_model = !request.label && data.label;
    size_t inputs = oclinit_network_get_shape(net).inputs;
    if (data.features != inputs) {
        fprintf(stderr, "oclinit predict: error: %s has %zu feature columns%s; the model takes %zu%s\n", request.spec,
                data.features, request.label || label_from_model ? " besides the label" : "", inputs,
                !request.label && data.features > inputs ? "; give --label NAME for a column that is not an input"
                                                         : "");
        goto done;
    }
    if (normalizer) status = oclinit_normalizer_apply(runtime, normalizer, data.table);
    probabilities = malloc(data.rows * sizeof(float));
    if (status == OCLINIT_SUCCESS && !probabilities) status = OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
    if (status == OCLINIT_SUCCESS) status = oclinit_network_predict(net, data.x, data.rows, probabilities);
    if (status != OCLINIT_SUCCESS) goto failed;
    predictions p = {probabilities, data.rows};
    printed_text text = {write_predictions, &p};
    output_file file = {output, write_printed, &text};
    if (!write_outputs("predict", &file, 1)) goto done;
    if (!quiet) {
        fprintf(report, "%zu predictions written to %s", data.rows, report == stderr ? "standard output" : output);
        if (label_from_model) fprintf(report, " (column \"%s\", the model's label, is not an input)", model_label);
        if (data.y) {
            double cost, accuracy;
            status = oclinit_network_evaluate(net, data.x, data.y, data.rows, &cost, &accuracy);
            if (status != OCLINIT_SUCCESS) goto failed;
            fprintf(report, "; accuracy %.3f, cost %.4g", accuracy, cost);
        }
        fprintf(report, "\n");
    }
    code = EXIT_SUCCESS;
    goto done;
failed:
    report_failure("predict", status);
done:
    free(probabilities);
    free_dataset(&data);
    oclinit_normalizer_free(normalizer);
    oclinit_network_free(net);
    oclinit_runtime_free(runtime);
    return code;
}
