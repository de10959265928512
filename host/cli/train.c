/* oclinit train: fit normalization on the training data, initialize, train, save the model. Under mpirun the ranks
 * share each batch's micro-batches (data-parallel; README.md, "Beyond one machine"): every step's outcome is every
 * rank's (oi_dist_status), and only rank 0 prints and writes the model. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/io.h"

static void usage(FILE *out) {
    fprintf(
        out,
        "Usage: oclinit train --data FILE|circles|moons|spirals [--label COL] --save MODEL [options]\n"
        "\n"
        "Trains [inputs, H1, H2, 1]: LINEAR -> g -> LINEAR -> g -> LINEAR -> SIGMOID for binary labels (0/1).\n"
        "The normalization is fitted on the training data and stored in the model; each layer's weights come\n"
        "from --init with its own Philox stream, so the same seed gives the same network on every device.\n"
        "\n"
        "Data:\n"
        "  --data FILE|NAME     CSV or .npy table, or a built-in set: circles, moons, spirals\n"
        "  --label COL          the 0/1 label column of a file (header name or 1-based index)\n"
        "  --test FILE|NAME     data to report accuracy on (built-in sets get a test set by default)\n"
        "  --samples N          built-in sets: training points (default 300; the test set has a third)\n"
        "  --noise X            built-in sets: noise std (default 0.05)\n"
        "  --header, --no-header, --separator C   CSV, as for oclinit normalize\n"
        "Network and training:\n"
        "  --normalize M        zscore (default), minmax or none\n"
        "  --init SCHEME        any scheme of oclinit init (default he-normal), with its options\n"
        "                       (e.g. --init scaled-normal --scale 10, --init kaiming-normal --nonlinearity linear)\n"
        "  --hidden H1,H2       hidden layer sizes (default 10,5)\n"
        "  --activation NAME    relu (default), leaky_relu, tanh, sigmoid\n"
        "  --optimizer NAME     gd (full batch, default), sgd, momentum, adam (mini-batches)\n"
        "  --batch N            mini-batch size (default 64)\n"
        "  --micro-batches M    cut each batch into M micro-batches whose gradients are summed in a fixed tree\n"
        "                       (default: one per 256 rows, at most 64); under mpirun the ranks share them, and\n"
        "                       any number of ranks gives the model of one process with the same M\n"
        "  --lr X               learning rate (default 0.01)\n"
        "  --iterations N       optimizer steps (default 1000)\n"
        "  --seed S             seed of the weights, the shuffles and built-in data (default 1)\n"
        "  --diagnose-every K   print layer diagnostics every K iterations (always at the start)\n"
        "  --device D           P:D, part of a device or platform name (nvidia, pocl, rusticl), or cpu for\n"
        "                       the host C path\n"
        "  --save MODEL         the model file to write\n"
        "  --quiet              no progress bar and no diagnostics\n"
        "  -h, --help           this text\n"
        "\n"
        "Example:\n"
        "  oclinit train --data moons --hidden 16,8 --optimizer adam --lr 0.01 --iterations 2000 --save moons.model\n"
        "  mpirun -np 4 oclinit train --data big.npy --label 1 --batch 4096 --micro-batches 16 --save big.model\n");
}

enum {
    OPT_DATA = 1000,
    OPT_LABEL,
    OPT_TEST,
    OPT_SAMPLES,
    OPT_NOISE,
    OPT_NO_HEADER,
    OPT_HEADER,
    OPT_SEPARATOR,
    OPT_NORMALIZE,
    OPT_INIT,
    OPT_HIDDEN,
    OPT_ACTIVATION,
    OPT_OPTIMIZER,
    OPT_BATCH,
    OPT_MICRO_BATCHES,
    OPT_LR,
    OPT_ITERATIONS,
    OPT_SEED,
    OPT_DIAGNOSE,
    OPT_DEVICE,
    OPT_SAVE,
    OPT_QUIET,
    OPT_HELP
};

static const struct option long_options[] = {
    {"data", required_argument, NULL, OPT_DATA},
    {"label", required_argument, NULL, OPT_LABEL},
    {"test", required_argument, NULL, OPT_TEST},
    {"samples", required_argument, NULL, OPT_SAMPLES},
    {"noise", required_argument, NULL, OPT_NOISE},
    {"no-header", no_argument, NULL, OPT_NO_HEADER},
    {"header", no_argument, NULL, OPT_HEADER},
    {"separator", required_argument, NULL, OPT_SEPARATOR},
    {"normalize", required_argument, NULL, OPT_NORMALIZE},
    {"init", required_argument, NULL, OPT_INIT},
    {"hidden", required_argument, NULL, OPT_HIDDEN},
    {"activation", required_argument, NULL, OPT_ACTIVATION},
    {"optimizer", required_argument, NULL, OPT_OPTIMIZER},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"micro-batches", required_argument, NULL, OPT_MICRO_BATCHES},
    {"lr", required_argument, NULL, OPT_LR},
    {"iterations", required_argument, NULL, OPT_ITERATIONS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"diagnose-every", required_argument, NULL, OPT_DIAGNOSE},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"save", required_argument, NULL, OPT_SAVE},
    {"quiet", no_argument, NULL, OPT_QUIET},
    SCHEME_LONG_OPTIONS,
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char *const command = "train";

typedef struct train_args {
    dataset_request data, test;
    const char *normalize, *init, *device, *save;
    scheme_args scheme_options;
    oclinit_network_shape shape;
    oclinit_train_options train;
    bool quiet, have_test;
} train_args;

enum { HIDDEN_MAX = 1 << 24 };

static bool parse_hidden(const char *text, oclinit_network_shape *shape) {
    char *end;
    long long h1 = strtoll(text, &end, 10), h2 = -1;
    if (*end == ',') h2 = strtoll(end + 1, &end, 10);
    if (*end != '\0' || h1 < 1 || h2 < 1) {
        fprintf(stderr, "oclinit train: --hidden needs two sizes of at least 1, as 10,5; got \"%s\"\n", text);
        return false;
    }
    if (h1 > HIDDEN_MAX || h2 > HIDDEN_MAX) {
        fprintf(stderr, "oclinit train: --hidden size too large: a layer has at most %d units, got \"%s\"\n",
                HIDDEN_MAX, text);
        return false;
    }
    shape->hidden1 = (size_t)h1;
    shape->hidden2 = (size_t)h2;
    return true;
}

/* Returns -1 to go on, else the exit code. */
static int parse_arguments(int argc, char **argv, train_args *a) {
    memset(a, 0, sizeof *a);
    a->data.samples = 300;
    a->data.noise = 0.05;
    a->data.seed = 1;
    a->normalize = "zscore";
    a->init = "he-normal";
    a->shape = (oclinit_network_shape){0, 10, 5, OCLINIT_ACTIVATION_RELU, 0};
    a->train = oclinit_train_options_default();
    a->train.seed = 1;
    int64_t number = 0;
    options_reset();
    int id;
    while ((id = next_option(command, argc, argv, long_options)) != -1) {
        if (id == OPTION_INVALID) return EXIT_USAGE;
        bool ok = true;
        int scheme = scheme_option(command, id, optarg, &a->scheme_options);
        if (scheme) {
            if (scheme < 0) return EXIT_USAGE;
            continue;
        }
        switch (id) {
        case 'h':
        case OPT_HELP: usage(stdout); return EXIT_SUCCESS;
        case OPT_DATA: a->data.spec = optarg; break;
        case OPT_LABEL: a->data.label = optarg; break;
        case OPT_TEST: a->test.spec = optarg, a->have_test = true; break;
        case OPT_SAMPLES:
            ok = parse_count(command, "samples", optarg, 2, &number);
            a->data.samples = (size_t)number;
            break;
        case OPT_NOISE: ok = parse_noise(command, optarg, &a->data.noise); break;
        case OPT_NO_HEADER: a->data.read.header = OCLINIT_HEADER_NO; break;
        case OPT_HEADER: a->data.read.header = OCLINIT_HEADER_YES; break;
        case OPT_SEPARATOR: ok = parse_separator(command, optarg, &a->data.read.separator); break;
        case OPT_NORMALIZE: a->normalize = optarg; break;
        case OPT_INIT: a->init = optarg; break;
        case OPT_HIDDEN: ok = parse_hidden(optarg, &a->shape); break;
        case OPT_ACTIVATION:
            ok = oclinit_activation_parse(optarg, &a->shape.activation) == OCLINIT_SUCCESS;
            if (!ok) fprintf(stderr, "oclinit train: %s\n", oclinit_error_get_detail());
            break;
        case OPT_OPTIMIZER:
            ok = oclinit_optimizer_parse(optarg, &a->train.optimizer) == OCLINIT_SUCCESS;
            if (!ok) fprintf(stderr, "oclinit train: %s\n", oclinit_error_get_detail());
            break;
        case OPT_BATCH:
            ok = parse_count(command, "batch", optarg, 1, &number);
            a->train.batch = (size_t)number;
            break;
        case OPT_MICRO_BATCHES:
            ok = parse_count(command, "micro-batches", optarg, 1, &number);
            a->train.micro_batches = (size_t)number;
            break;
        case OPT_LR:
            ok = parse_double(command, "lr", optarg, &a->train.learning_rate);
            if (ok && !(a->train.learning_rate > 0)) {
                fprintf(stderr, "oclinit train: --lr must be > 0, got %s\n", optarg);
                ok = false;
            }
            break;
        case OPT_ITERATIONS:
            ok = parse_count(command, "iterations", optarg, 1, &number);
            a->train.iterations = (size_t)number;
            break;
        case OPT_SEED:
            ok = parse_uint64(command, "seed", optarg, &a->train.seed);
            a->data.seed = a->train.seed;
            break;
        case OPT_DIAGNOSE:
            ok = parse_count(command, "diagnose-every", optarg, 0, &number);
            a->train.diagnose_every = (size_t)number;
            break;
        case OPT_DEVICE: a->device = optarg; break;
        case OPT_SAVE: a->save = optarg; break;
        case OPT_QUIET: a->quiet = true; break;
        }
        if (!ok) return EXIT_USAGE;
    }
    const char *problem = !a->data.spec ? "--data is required" : !a->save ? "--save is required" : NULL;
    if (problem) {
        fprintf(stderr, "oclinit train: %s (see oclinit train --help)\n", problem);
        return EXIT_USAGE;
    }
    a->test.label = a->data.label;
    a->test.read = a->data.read;
    a->test.samples = a->data.samples / 3 > 2 ? a->data.samples / 3 : 2;
    a->test.noise = a->data.noise;
    a->test.seed = a->data.seed;
    a->data.stream = 100; /* built-in training and test points come from their own streams */
    a->data.share = oi_dist_active();
    a->test.stream = 102;
    return -1;
}

typedef struct reporter {
    progress bar;
    size_t total;
    bool quiet;
} reporter;

static int report_progress(void *user, const oclinit_progress *progress) {
    reporter *r = user;
    const oclinit_train_report *report = progress->train;
    if (report->diagnosed && !r->quiet) {
        if (r->bar.enabled) fputc('\n', stderr);
        fprintf(stderr, "diagnostics at iteration %zu (cost %.4g, accuracy %.3f):\n", report->iteration, report->cost,
                report->accuracy);
        print_diagnostics(stderr, "  ", report);
    }
    return progress_iterations(&r->bar, report->iteration + 1, r->total, report->cost, report->accuracy);
}

/* The test data must have the training data's columns. */
static bool same_features(const dataset *train, const dataset *test, const char *test_name) {
    if (test->features != train->features) {
        fprintf(stderr, "oclinit train: error: %s has %zu feature columns, the training data %zu\n", test_name,
                test->features, train->features);
        return false;
    }
    for (size_t f = 0; f < train->features; f++) {
        const char *a = oclinit_table_get_feature_name(train->table, f),
                   *b = oclinit_table_get_feature_name(test->table, f);
        if (a && b && strcmp(a, b) != 0) {
            fprintf(stderr, "oclinit train: error: feature %zu is \"%s\" in %s but \"%s\" in the training data\n",
                    f + 1, b, test_name, a);
            return false;
        }
    }
    return true;
}

/* Under mpirun: every rank must run the same command on the same data (a file that differs between machines would
 * train a model no single process makes). Collective. */
static oclinit_status agree_on_command(int argc, char **argv) {
    size_t length = 1;
    for (int i = 0; i < argc; i++) length += strlen(argv[i]) + 1;
    char *line = calloc(length, 1);
    if (!line) return oi_dist_status(oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "copying the command line"));
    for (int i = 0; i < argc; i++) strcat(strcat(line, i ? " " : ""), argv[i]);
    const oi_dist_value value = {"the command line", line};
    oclinit_status status = oi_dist_agree(&value, 1);
    free(line);
    return status;
}

/* A file read in part is compared by what every rank read of it (a .npy's header and first rows, a CSV whole). */
static oclinit_status agree_on_data(const char *what, const dataset *d) {
    if (!oi_dist_active()) return OCLINIT_SUCCESS;
    uint64_t hash = d->fingerprint;
    if (!d->part) {
        hash = oi_fnv1a(0xcbf29ce484222325u, d->x, d->rows * d->features * sizeof(float));
        hash = oi_fnv1a(hash, d->y, d->rows * sizeof(float));
    }
    char text[96];
    snprintf(text, sizeof text, "%zu rows, %zu features, FNV-1a %016llx", d->part ? d->total : d->rows, d->features,
             (unsigned long long)hash);
    const oi_dist_value value = {what, text};
    return oi_dist_agree(&value, 1);
}

/* Data-parallel: a built-in set, made whole (it is cheap), keeps only this rank's rows (oi_dist_rows), as a file read
 * in part does. */
static void keep_share(dataset *d) {
    uint64_t mine, end;
    oi_dist_rows(d->rows, oi_dist_rank(), oi_dist_size(), &mine, &end);
    oi_table_keep_rows(d->table, (size_t)mine, (size_t)end);
    memmove(d->y, d->y + mine, (size_t)(end - mine) * sizeof(float));
    d->part = true;
    d->first = (size_t)mine;
    d->total = d->rows;
    d->rows = (size_t)(end - mine);
    d->x = oclinit_table_get_data(d->table);
}

int command_train(int argc, char **argv) {
    bool first_rank = oi_dist_rank() == 0;
    train_args a;
    oclinit_status status = agree_on_command(argc, argv);
    if (status != OCLINIT_SUCCESS) {
        if (first_rank) report_failure(command, status);
        return EXIT_USAGE;
    }
    int code = stop_together(parse_arguments(argc, argv, &a));
    if (code >= 0) return code;
    file_arg inputs[] = {{"--data", a.data.spec, false}, {"--test", a.test.spec, false}};
    file_arg output = {"--save", a.save, false};
    code = stop_together(check_files(command, inputs, 2, &output, 1));
    if (code >= 0) return code;
    oclinit_scheme scheme;
    bool normalize = strcmp(a.normalize, "none") != 0;
    oclinit_normalize_method method = OCLINIT_NORMALIZE_ZSCORE;
    if (!scheme_build(command, a.init, &a.scheme_options, &scheme)) return EXIT_USAGE;
    if (normalize && oclinit_normalize_method_parse(a.normalize, &method) != OCLINIT_SUCCESS) {
        fprintf(stderr, "oclinit train: %s (or none)\n", oclinit_error_get_detail());
        return EXIT_USAGE;
    }

    dataset train = {0}, test = {0};
    oclinit_runtime_t runtime = NULL;
    oclinit_normalizer_t normalizer = NULL;
    oclinit_network_t net = NULL;
    /* Each rank reads the whole data (CSV rows cannot be found without reading what comes before them), then keeps
     * only its share of the training rows, and the test data on rank 0 alone. A rank that cannot read prints why; all
     * stop. */
    code = load_dataset(command, &a.data, true, &train);
    if (code == 0 && (a.have_test || train.built_in)) {
        if (!a.have_test) a.test.spec = a.data.spec;
        code = load_dataset(command, &a.test, true, &test);
        if (code == 0 && !same_features(&train, &test, a.test.spec)) code = EXIT_FAILURE;
    }
    code = stop_together(code < 0 ? EXIT_FAILURE : code == 0 ? -1 : code);
    if (code >= 0) goto done;
    code = EXIT_FAILURE;
    status = agree_on_data("the training data", &train);
    if (status == OCLINIT_SUCCESS && test.table) status = agree_on_data("the test data", &test);
    if (status == OCLINIT_SUCCESS && oi_dist_active()) {
        if (!train.part) keep_share(&train);
        if (!first_rank) free_dataset(&test);
        /* For tests: what each rank holds. */
        if (getenv("OCLINIT_TEST_SHOW_ROWS"))
            fprintf(stderr, "rank %d of %d holds rows [%zu, %zu)\n", oi_dist_rank(), oi_dist_size(), train.first,
                    train.first + train.rows);
    }
    size_t total = train.part ? train.total : train.rows, first_row = train.first;
    if (status == OCLINIT_SUCCESS) status = oi_dist_status(oclinit_runtime_create(a.device, &runtime));
    if (status == OCLINIT_SUCCESS && normalize) {
        /* Collective: each rank fits the chunks of its rows; the statistics are one process's. */
        status = oi_normalizer_fit_part(runtime, method, 0, 1, train.table, first_row, total, &normalizer);
        if (status == OCLINIT_SUCCESS && first_rank) warn_about_features(command, normalizer, train.table);
        if (status == OCLINIT_SUCCESS) status = oclinit_normalizer_apply(runtime, normalizer, train.table);
        if (status == OCLINIT_SUCCESS && test.table) status = oclinit_normalizer_apply(runtime, normalizer, test.table);
        status = oi_dist_status(status);
    }
    a.shape.inputs = train.features;
    /* Below about 2^16 multiply-adds per sample and layer, launches cost more than CLBlast's parameters matter. */
    if (status == OCLINIT_SUCCESS && first_rank)
        report_tuning(command, runtime,
                      a.shape.inputs * a.shape.hidden1 >= 65536 || a.shape.hidden1 * a.shape.hidden2 >= 65536);
    if (status == OCLINIT_SUCCESS) {
        status = oclinit_network_create(runtime, &a.shape, &net);
        if (status == OCLINIT_SUCCESS) status = oclinit_network_init(net, &scheme, a.train.seed);
        status = oi_dist_status(status);
    }
    if (status != OCLINIT_SUCCESS) goto failed;

    oclinit_network_shape shape = oclinit_network_get_shape(net);
    size_t full = a.train.optimizer == OCLINIT_OPTIMIZER_GD ? total : a.train.batch < total ? a.train.batch : total;
    size_t micro = oi_train_micro_batches(&a.train, full);
    /* The micro-batches change the rounding: shown whenever there is more than one. */
    char sharing[64] = "";
    if (oi_dist_size() > 1)
        snprintf(sharing, sizeof sharing, ", %zu micro-batch%s over %d ranks", micro, micro > 1 ? "es" : "",
                 oi_dist_size());
    else if (micro > 1)
        snprintf(sharing, sizeof sharing, ", %zu micro-batches", micro);
    if (first_rank && micro < (size_t)oi_dist_size())
        fprintf(stderr,
                "oclinit train: warning: %zu micro-batch%s for %d ranks: %d of them have nothing to compute; "
                "--micro-batches %d or more shares the work\n",
                micro, micro > 1 ? "es" : "", oi_dist_size(), oi_dist_size() - (int)micro, oi_dist_size());
    if (!a.quiet && first_rank)
        printf("training [%zu, %zu, %zu, 1] %s on %s (%zu rows%s), init %s, %s, lr %g, %zu iterations%s, on %s\n",
               shape.inputs, shape.hidden1, shape.hidden2, oclinit_activation_str(shape.activation), a.data.spec, total,
               normalize ? ", normalized" : "", oclinit_scheme_kind_str(scheme.kind),
               oclinit_optimizer_str(a.train.optimizer), a.train.learning_rate, a.train.iterations, sharing,
               oclinit_runtime_get_device(runtime)->name);
    fflush(stdout); /* before the diagnostics and the progress bar on stderr */
    reporter r = {.total = a.train.iterations, .quiet = a.quiet || !first_rank};
    progress_start(&r.bar, "train", r.quiet);
    a.train.progress = report_progress;
    a.train.user = &r;
    oclinit_train_result result;
    status = oi_network_train_part(net, train.x, train.y, first_row, train.rows, total, &a.train, &result);
    /* The last report comes before the last step: the bar ends on the values the summary prints. */
    if (status == OCLINIT_SUCCESS)
        progress_iterations(&r.bar, result.iterations, r.total, result.cost_end, result.accuracy_end);
    progress_finish(&r.bar);
    if (status != OCLINIT_SUCCESS) goto failed;
    /* Rank 0 alone evaluates the test data and writes the model; the others wait for its outcome. */
    double test_cost = NAN, test_accuracy = NAN;
    if (first_rank && test.table)
        status = oclinit_network_evaluate(net, test.x, test.y, test.rows, &test_cost, &test_accuracy);
    if (first_rank && status == OCLINIT_SUCCESS) status = oclinit_network_save(net, normalizer, a.save);
    status = oi_dist_status(status);
    if (status != OCLINIT_SUCCESS) goto failed;
    if (first_rank) {
        printf("cost %.4g -> %.4g, train accuracy %.3f", result.cost_start, result.cost_end, result.accuracy_end);
        if (test.table) printf(", test accuracy %.3f (%zu rows)", test_accuracy, test.rows);
        printf(", %.2f s (%.0f iterations/s); model saved to %s\n", result.seconds,
               (double)result.iterations / result.seconds, a.save);
    }
    code = EXIT_SUCCESS;
    goto done;
failed:
    if (first_rank) report_failure(command, status);
    if (status == OCLINIT_ERROR_KERNEL_BUILD && first_rank)
        fprintf(stderr, "%s\n", oclinit_runtime_get_build_log(runtime));
    code = status == OCLINIT_ERROR_INVALID_ARGUMENT && !interrupted() ? EXIT_USAGE : failure_exit_code(status);
done:
    oclinit_network_free(net);
    oclinit_normalizer_free(normalizer);
    oclinit_runtime_free(runtime);
    free_dataset(&test);
    free_dataset(&train);
    return code;
}
