/* oclinit init: initialize one layer and write it to a .npy file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out) {
    fprintf(out, "Usage: oclinit init --scheme NAME --fan-in N --fan-out M --output FILE.npy [options]\n"
                 "\n"
                 "Initializes a (fan_out, fan_in) float32 weight matrix, row-major as PyTorch lays out nn.Linear, and\n"
                 "writes it to FILE.npy (numpy.load gives shape (fan_out, fan_in)). The same seed and stream give the\n"
                 "same bits on every device and on the host C path. Layers larger than memory are made in chunks;\n"
                 "the file appears only when complete.\n"
                 "\n"
                 "Required:\n"
                 "  --scheme NAME        see the list below\n"
                 "  --fan-in N           inputs of the layer (columns)\n"
                 "  --fan-out M          outputs of the layer (rows)\n"
                 "  --output FILE        the .npy file to write\n"
                 "\n"
                 "Options:\n"
                 "  --seed S             64-bit seed (default 0; decimal or 0x hex)\n"
                 "  --stream T           64-bit stream, e.g. the layer's index (default 0)\n"
                 "  --device D           P:D, part of a device name, or cpu for the host C path\n"
                 "                       (default: $OCLINIT_DEVICE, else the first GPU, else the first CPU device)\n"
                 "  --stats              print mean, std, min and max of what was written, beside the exact values\n"
                 "  --chunk-mib N        memory per chunk in MiB (default 64; three chunks are in use at once)\n"
                 "  --quiet              no progress bar\n"
                 "  -h, --help           this text\n"
                 "\n"
                 "Schemes and their options (defaults as PyTorch; lecun and variance-scaling as Keras):\n"
                 "  zeros, ones\n"
                 "  constant             --value V (required)\n"
                 "  eye                  ones on the diagonal\n"
                 "  uniform              --a A --b B (default 0, 1)\n"
                 "  normal               --mean M --std S (default 0, 1)\n"
                 "  trunc-normal         --mean M --std S --a A --b B (default 0, 1, -2, 2; a, b absolute)\n"
                 "  scaled-normal        --scale K: N(0, 1) * K, the article's too large (10) and too small (0.01)\n"
                 "  xavier-normal        --gain G: std = G sqrt(2 / (fan_in + fan_out))   (alias glorot-normal)\n"
                 "  xavier-uniform       --gain G: bound = G sqrt(6 / (fan_in + fan_out)) (alias glorot-uniform)\n"
                 "  kaiming-normal       --mode fan_in|fan_out --nonlinearity NAME --negative-slope A:\n"
                 "                       std = gain / sqrt(fan)                            (alias he-normal)\n"
                 "  kaiming-uniform      same options: bound = sqrt(3) gain / sqrt(fan)    (alias he-uniform)\n"
                 "  lecun-normal         truncated normal, variance 1 / fan_in (Keras)\n"
                 "  lecun-uniform        uniform, variance 1 / fan_in (Keras)\n"
                 "  variance-scaling     --scale S --mode fan_in|fan_out|fan_avg\n"
                 "                       --distribution truncated_normal|normal|uniform: variance S / fan (Keras)\n"
                 "  Nonlinearities (gain as torch.nn.init.calculate_gain): linear, sigmoid, tanh, relu,\n"
                 "  leaky_relu (default, with negative slope 0), selu.\n"
                 "  The article's \"Xavier\" (variance 1 / fan_in, normal) is kaiming-normal --nonlinearity linear.\n"
                 "\n"
                 "Example:\n"
                 "  oclinit init --scheme he-normal --fan-in 4096 --fan-out 4096 --seed 7 --output w.npy --stats\n");
}

enum option_id {
    OPT_SCHEME = 1000,
    OPT_FAN_IN,
    OPT_FAN_OUT,
    OPT_OUTPUT,
    OPT_SEED,
    OPT_STREAM,
    OPT_DEVICE,
    OPT_STATS,
    OPT_CHUNK_MIB,
    OPT_QUIET,
    OPT_VALUE,
    OPT_MEAN,
    OPT_STD,
    OPT_A,
    OPT_B,
    OPT_SCALE,
    OPT_GAIN,
    OPT_NEGATIVE_SLOPE,
    OPT_MODE,
    OPT_NONLINEARITY,
    OPT_DISTRIBUTION,
    OPT_HELP
};

#define SCHEME_BIT(kind) (1u << (kind))
#define KAIMING (SCHEME_BIT(OCLINIT_SCHEME_KAIMING_NORMAL) | SCHEME_BIT(OCLINIT_SCHEME_KAIMING_UNIFORM))

/* Which schemes each scheme option applies to; giving one to another scheme is an error, not silently ignored. */
static const struct {
    int id;
    const char *name;
    unsigned schemes;
} scheme_options[] = {
    {OPT_VALUE, "value", SCHEME_BIT(OCLINIT_SCHEME_CONSTANT)},
    {OPT_MEAN, "mean", SCHEME_BIT(OCLINIT_SCHEME_NORMAL) | SCHEME_BIT(OCLINIT_SCHEME_TRUNC_NORMAL)},
    {OPT_STD, "std", SCHEME_BIT(OCLINIT_SCHEME_NORMAL) | SCHEME_BIT(OCLINIT_SCHEME_TRUNC_NORMAL)},
    {OPT_A, "a", SCHEME_BIT(OCLINIT_SCHEME_UNIFORM) | SCHEME_BIT(OCLINIT_SCHEME_TRUNC_NORMAL)},
    {OPT_B, "b", SCHEME_BIT(OCLINIT_SCHEME_UNIFORM) | SCHEME_BIT(OCLINIT_SCHEME_TRUNC_NORMAL)},
    {OPT_SCALE, "scale", SCHEME_BIT(OCLINIT_SCHEME_SCALED_NORMAL) | SCHEME_BIT(OCLINIT_SCHEME_VARIANCE_SCALING)},
    {OPT_GAIN, "gain", SCHEME_BIT(OCLINIT_SCHEME_XAVIER_NORMAL) | SCHEME_BIT(OCLINIT_SCHEME_XAVIER_UNIFORM)},
    {OPT_NEGATIVE_SLOPE, "negative-slope", KAIMING},
    {OPT_MODE, "mode", KAIMING | SCHEME_BIT(OCLINIT_SCHEME_VARIANCE_SCALING)},
    {OPT_NONLINEARITY, "nonlinearity", KAIMING},
    {OPT_DISTRIBUTION, "distribution", SCHEME_BIT(OCLINIT_SCHEME_VARIANCE_SCALING)},
};

static const struct option long_options[] = {
    {"scheme", required_argument, NULL, OPT_SCHEME},
    {"fan-in", required_argument, NULL, OPT_FAN_IN},
    {"fan-out", required_argument, NULL, OPT_FAN_OUT},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"stream", required_argument, NULL, OPT_STREAM},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"stats", no_argument, NULL, OPT_STATS},
    {"chunk-mib", required_argument, NULL, OPT_CHUNK_MIB},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"value", required_argument, NULL, OPT_VALUE},
    {"mean", required_argument, NULL, OPT_MEAN},
    {"std", required_argument, NULL, OPT_STD},
    {"a", required_argument, NULL, OPT_A},
    {"b", required_argument, NULL, OPT_B},
    {"scale", required_argument, NULL, OPT_SCALE},
    {"gain", required_argument, NULL, OPT_GAIN},
    {"negative-slope", required_argument, NULL, OPT_NEGATIVE_SLOPE},
    {"mode", required_argument, NULL, OPT_MODE},
    {"nonlinearity", required_argument, NULL, OPT_NONLINEARITY},
    {"distribution", required_argument, NULL, OPT_DISTRIBUTION},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct init_args {
    const char *scheme_name, *output, *device;
    int64_t fan_in, fan_out, chunk_mib;
    uint64_t seed, stream;
    bool stats, quiet, have_fan_in, have_fan_out, given[OPT_HELP + 1];
    oclinit_scheme scheme;
    /* Scheme options are collected first and applied once the scheme (and so its defaults) is known. */
    double value, mean, std, a, b, scale, gain, negative_slope;
    const char *mode, *nonlinearity, *distribution;
} init_args;

static const char *const command = "init";

/* Returns -1 to go on, else the exit code. */
static int parse_arguments(int argc, char **argv, init_args *args) {
    memset(args, 0, sizeof *args);
    args->chunk_mib = 64;
    opterr = 0;
    optind = 1;
    int id;
    while ((id = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        bool ok = true;
        switch (id) {
        case 'h':
        case OPT_HELP: usage(stdout); return EXIT_SUCCESS;
        case OPT_SCHEME: args->scheme_name = optarg; break;
        case OPT_FAN_IN: ok = parse_int64(command, "fan-in", optarg, &args->fan_in), args->have_fan_in = true; break;
        case OPT_FAN_OUT:
            ok = parse_int64(command, "fan-out", optarg, &args->fan_out), args->have_fan_out = true;
            break;
        case OPT_OUTPUT: args->output = optarg; break;
        case OPT_SEED: ok = parse_uint64(command, "seed", optarg, &args->seed); break;
        case OPT_STREAM: ok = parse_uint64(command, "stream", optarg, &args->stream); break;
        case OPT_DEVICE: args->device = optarg; break;
        case OPT_STATS: args->stats = true; break;
        case OPT_QUIET: args->quiet = true; break;
        case OPT_CHUNK_MIB:
            ok = parse_int64(command, "chunk-mib", optarg, &args->chunk_mib);
            if (ok && args->chunk_mib <= 0) {
                fprintf(stderr, "oclinit init: --chunk-mib must be >= 1, got %s\n", optarg);
                ok = false;
            }
            break;
        case OPT_VALUE: ok = parse_double(command, "value", optarg, &args->value); break;
        case OPT_MEAN: ok = parse_double(command, "mean", optarg, &args->mean); break;
        case OPT_STD: ok = parse_double(command, "std", optarg, &args->std); break;
        case OPT_A: ok = parse_double(command, "a", optarg, &args->a); break;
        case OPT_B: ok = parse_double(command, "b", optarg, &args->b); break;
        case OPT_SCALE: ok = parse_double(command, "scale", optarg, &args->scale); break;
        case OPT_GAIN: ok = parse_double(command, "gain", optarg, &args->gain); break;
        case OPT_NEGATIVE_SLOPE: ok = parse_double(command, "negative-slope", optarg, &args->negative_slope); break;
        case OPT_MODE: args->mode = optarg; break;
        case OPT_NONLINEARITY: args->nonlinearity = optarg; break;
        case OPT_DISTRIBUTION: args->distribution = optarg; break;
        case ':': fprintf(stderr, "oclinit init: %s needs a value\n", argv[optind - 1]); return EXIT_USAGE;
        default:
            fprintf(stderr, "oclinit init: unknown option %s (see oclinit init --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
        if (!ok) return EXIT_USAGE;
        if (id >= OPT_SCHEME && id <= OPT_HELP) args->given[id] = true;
    }
    if (optind < argc) {
        fprintf(stderr, "oclinit init: unexpected argument \"%s\" (see oclinit init --help)\n", argv[optind]);
        return EXIT_USAGE;
    }
    const char *missing = !args->scheme_name    ? "--scheme"
                          : !args->have_fan_in  ? "--fan-in"
                          : !args->have_fan_out ? "--fan-out"
                          : !args->output       ? "--output"
                                                : NULL;
    if (missing) {
        fprintf(stderr, "oclinit init: %s is required (see oclinit init --help)\n", missing);
        return EXIT_USAGE;
    }
    return -1;
}

/* Applies the scheme options on top of the scheme's defaults; returns false after printing why. */
static bool build_scheme(init_args *args) {
    oclinit_scheme_kind kind;
    oclinit_status status = oclinit_scheme_kind_parse(args->scheme_name, &kind);
    if (status != OCLINIT_SUCCESS) {
        fprintf(stderr, "oclinit init: %s\n", oclinit_error_detail());
        return false;
    }
    for (size_t i = 0; i < sizeof scheme_options / sizeof scheme_options[0]; i++) {
        if (args->given[scheme_options[i].id] && !(scheme_options[i].schemes & SCHEME_BIT(kind))) {
            fprintf(stderr, "oclinit init: --%s does not apply to scheme %s (see oclinit init --help)\n",
                    scheme_options[i].name, oclinit_scheme_kind_str(kind));
            return false;
        }
    }
    if (kind == OCLINIT_SCHEME_CONSTANT && !args->given[OPT_VALUE]) {
        fprintf(stderr, "oclinit init: scheme constant needs --value\n");
        return false;
    }
    oclinit_scheme s = oclinit_scheme_default(kind);
    if (args->given[OPT_VALUE]) s.value = args->value;
    if (args->given[OPT_MEAN]) s.mean = args->mean;
    if (args->given[OPT_STD]) s.std = args->std;
    if (args->given[OPT_A]) s.a = args->a;
    if (args->given[OPT_B]) s.b = args->b;
    if (args->given[OPT_SCALE]) s.scale = args->scale;
    if (args->given[OPT_GAIN]) s.gain = args->gain;
    if (args->given[OPT_NEGATIVE_SLOPE]) s.negative_slope = args->negative_slope;
    if ((args->mode && oclinit_fan_mode_parse(args->mode, &s.mode) != OCLINIT_SUCCESS) ||
        (args->nonlinearity && oclinit_nonlinearity_parse(args->nonlinearity, &s.nonlinearity) != OCLINIT_SUCCESS) ||
        (args->distribution &&
         oclinit_distribution_kind_parse(args->distribution, &s.distribution) != OCLINIT_SUCCESS)) {
        fprintf(stderr, "oclinit init: %s\n", oclinit_error_detail());
        return false;
    }
    args->scheme = s;
    return true;
}

int command_init(int argc, char **argv) {
    init_args args;
    int code = parse_arguments(argc, argv, &args);
    if (code >= 0) return code;
    if (!build_scheme(&args)) return EXIT_USAGE;

    oclinit_distribution distribution;
    oclinit_status status = oclinit_scheme_resolve(&args.scheme, args.fan_in, args.fan_out, &distribution);
    if (status != OCLINIT_SUCCESS) {
        report_failure(command, status);
        return status == OCLINIT_ERROR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_FAILURE;
    }

    oclinit_runtime_t runtime = NULL;
    status = oclinit_runtime_create(args.device, &runtime);
    if (status != OCLINIT_SUCCESS) {
        report_failure(command, status);
        return EXIT_FAILURE;
    }

    oclinit_stats stats;
    progress bar;
    progress_start(&bar, "init", args.quiet);
    oclinit_write_options options = {
        .chunk_bytes = (size_t)args.chunk_mib << 20,
        .progress = progress_update,
        .progress_user = &bar,
        .stats = args.stats ? &stats : NULL,
    };
    double start = seconds_now();
    status = oclinit_init_write_npy(runtime, &distribution, args.seed, args.stream, args.output, &options);
    double elapsed = seconds_now() - start;
    progress_finish(&bar);
    if (status != OCLINIT_SUCCESS) {
        report_failure(command, status);
        if (status == OCLINIT_ERROR_KERNEL_BUILD) fprintf(stderr, "%s\n", oclinit_runtime_get_build_log(runtime));
        oclinit_runtime_free(runtime);
        return status == OCLINIT_ERROR_CANCELLED ? EXIT_INTERRUPTED : EXIT_FAILURE;
    }

    char described[160];
    oclinit_distribution_describe(&distribution, described, sizeof described);
    double bytes = (double)args.fan_in * (double)args.fan_out * sizeof(float);
    printf("wrote %s: (%lld, %lld) float32, %s -> %s, seed %llu, stream %llu, on %s, %.2f s (%.2f GB/s)\n", args.output,
           (long long)args.fan_out, (long long)args.fan_in, oclinit_scheme_kind_str(args.scheme.kind), described,
           (unsigned long long)args.seed, (unsigned long long)args.stream, oclinit_runtime_get_device(runtime)->name,
           elapsed, elapsed > 0 ? bytes / elapsed / 1e9 : 0.0);
    if (args.stats) {
        double mean, std;
        oclinit_distribution_moments(&distribution, &mean, &std);
        printf("stats: mean %.6g (exact %.6g)  std %.6g (exact %.6g)  min %.6g  max %.6g  over %llu values\n",
               stats.mean, mean, stats.std, std, stats.min, stats.max, (unsigned long long)stats.count);
    }
    oclinit_runtime_free(runtime);
    return EXIT_SUCCESS;
}
