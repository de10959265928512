/* oclinit init: initialize one layer and write it to a .npy file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/io.h"

static void usage(FILE *out) {
    fprintf(out,
            "Usage: oclinit init --scheme NAME (--shape D0,D1,... | --fan-in N --fan-out M) --output FILE.npy\n"
            "                    [options]\n"
            "\n"
            "Initializes a float32 tensor and writes it to FILE.npy (numpy.load gives that shape). Its elements are\n"
            "numbered row-major, so a (64, 3, 3, 3) tensor holds the numbers of the (64, 27) one. The same seed and\n"
            "stream give the same bits on every device and on the host C path. Tensors larger than memory are made\n"
            "in chunks; the file appears only when complete.\n"
            "\n"
            "Required:\n"
            "  --scheme NAME        see the list below\n"
            "  --shape D0,D1,...    the tensor's dimensions, e.g. 64,3,3,3 for a conv weight (out, in, kh, kw)\n"
            "  --fan-in N, --fan-out M\n"
            "                       without --shape: a dense layer, (M, N) as PyTorch lays out nn.Linear, or\n"
            "                       (N, M) with --convention keras; with --shape: fans used instead of the\n"
            "                       shape's (a bias: --shape 256 --fan-in 784)\n"
            "  --output FILE        the .npy file to write\n"
            "\n"
            "Options:\n"
            "  --convention NAME    pytorch (default): fans of (out, in, k...), orthogonal of (shape[0], rest);\n"
            "                       keras: fans of (k..., in, out), orthogonal of (prod(shape[:-1]), shape[-1])\n"
            "  --seed S             64-bit seed (default 0; decimal or 0x hex)\n"
            "  --stream T           64-bit stream, e.g. the layer's index (default 0)\n"
            "  --name NAME          the stream of a named tensor, as oclinit model gives it (FNV-1a 64 of NAME)\n"
            "  --device D           P:D, part of a device or platform name (nvidia, pocl, rusticl), or cpu for\n"
            "                       the host C path\n"
            "                       (default: $OCLINIT_DEVICE, else the first GPU, else the first CPU device)\n"
            "  --stats              print mean, std, min and max of what was written, beside the exact values\n"
            "  --chunk-mib N        float32 MiB per chunk; the writer holds six chunks (default 16 on the\n"
            "                       host path, 64 on a device)\n"
            "  --quiet              no progress bar\n"
            "  -h, --help           this text\n"
            "\n");
    fprintf(out, "Schemes and their options (defaults as PyTorch; lecun and variance-scaling as Keras):\n"
                 "  zeros, ones\n"
                 "  constant             --value V (required)\n"
                 "  eye                  --gain G on the diagonal of a 2-D tensor            (alias identity)\n"
                 "  dirac                --gain G --groups N: 3-D to 5-D, G at the centre of the kernel linking\n"
                 "                       output channel k of each group to input channel k\n"
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
                 "  orthogonal           --gain G: G Q, Q from the QR of a normal matrix, 2-D or more\n"
                 "  sparse               --sparsity P (required) --std S (default 0.01): normal, then\n"
                 "                       ceil(P rows) zeros in each column of a 2-D tensor\n"
                 "  pytorch-default-linear\n"
                 "                       what nn.Linear starts from: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the\n"
                 "                       2-D weight, and for a bias given --fan-in of its weight\n"
                 "  pytorch-default-conv the same for nn.Conv1d/2d/3d (3-D to 5-D weight, or a bias)\n"
                 "  Nonlinearities (gain as torch.nn.init.calculate_gain): linear, conv1d, conv2d, conv3d,\n"
                 "  conv_transpose1d/2d/3d, sigmoid, tanh, relu, leaky_relu (default, with negative slope 0), selu.\n"
                 "  The article's \"Xavier\" (variance 1 / fan_in, normal) is kaiming-normal --nonlinearity linear.\n"
                 "\n"
                 "Examples:\n"
                 "  oclinit init --scheme he-normal --fan-in 4096 --fan-out 4096 --seed 7 --output w.npy --stats\n"
                 "  oclinit init --scheme pytorch-default-conv --shape 64,3,7,7 --output conv1.npy\n");
}

enum option_id {
    OPT_SCHEME = 1000,
    OPT_FAN_IN,
    OPT_FAN_OUT,
    OPT_SHAPE,
    OPT_OUTPUT,
    OPT_SEED,
    OPT_STREAM,
    OPT_NAME,
    OPT_DEVICE,
    OPT_STATS,
    OPT_CHUNK_MIB,
    OPT_QUIET,
    OPT_HELP
};

static const struct option long_options[] = {
    {"scheme", required_argument, NULL, OPT_SCHEME},
    {"fan-in", required_argument, NULL, OPT_FAN_IN},
    {"fan-out", required_argument, NULL, OPT_FAN_OUT},
    {"shape", required_argument, NULL, OPT_SHAPE},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"stream", required_argument, NULL, OPT_STREAM},
    {"name", required_argument, NULL, OPT_NAME},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"stats", no_argument, NULL, OPT_STATS},
    {"chunk-mib", required_argument, NULL, OPT_CHUNK_MIB},
    {"quiet", no_argument, NULL, OPT_QUIET},
    SCHEME_LONG_OPTIONS,
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct init_args {
    const char *scheme_name, *output, *device;
    int64_t fan_in, fan_out, chunk_mib; /* chunk_mib 0: the library's default */
    uint64_t seed, stream;
    bool stats, quiet, have_fan_in, have_fan_out, have_shape, have_stream;
    const char *name;
    oclinit_shape shape;
    scheme_args scheme_options;
    oclinit_scheme scheme;
} init_args;

static const char *const command = "init";

/* Returns -1 to go on, else the exit code. */
static int parse_arguments(int argc, char **argv, init_args *args) {
    memset(args, 0, sizeof *args);
    options_reset();
    int id;
    while ((id = next_option(command, argc, argv, long_options)) != -1) {
        if (id == OPTION_INVALID) return EXIT_USAGE;
        bool ok = true;
        int scheme = scheme_option(command, id, optarg, &args->scheme_options);
        if (scheme) {
            if (scheme < 0) return EXIT_USAGE;
            continue;
        }
        switch (id) {
        case 'h':
        case OPT_HELP: usage(stdout); return EXIT_SUCCESS;
        case OPT_SCHEME: args->scheme_name = optarg; break;
        case OPT_FAN_IN: ok = parse_int64(command, "fan-in", optarg, &args->fan_in), args->have_fan_in = true; break;
        case OPT_FAN_OUT:
            ok = parse_int64(command, "fan-out", optarg, &args->fan_out), args->have_fan_out = true;
            break;
        case OPT_SHAPE:
            if (oclinit_shape_parse(optarg, &args->shape) != OCLINIT_SUCCESS) {
                fprintf(stderr, "oclinit init: --shape: %s\n", oclinit_error_get_detail());
                ok = false;
            }
            args->have_shape = true;
            break;
        case OPT_OUTPUT: args->output = optarg; break;
        case OPT_SEED: ok = parse_uint64(command, "seed", optarg, &args->seed); break;
        case OPT_STREAM: ok = parse_uint64(command, "stream", optarg, &args->stream), args->have_stream = true; break;
        case OPT_NAME: args->name = optarg; break;
        case OPT_DEVICE: args->device = optarg; break;
        case OPT_STATS: args->stats = true; break;
        case OPT_QUIET: args->quiet = true; break;
        case OPT_CHUNK_MIB: ok = parse_chunk_mib(command, optarg, &args->chunk_mib); break;
        }
        if (!ok) return EXIT_USAGE;
    }
    const char *missing = !args->scheme_name                         ? "--scheme"
                          : !args->have_shape && !args->have_fan_in  ? "--shape (or --fan-in and --fan-out)"
                          : !args->have_shape && !args->have_fan_out ? "--fan-out"
                          : !args->output                            ? "--output"
                                                                     : NULL;
    if (missing) {
        fprintf(stderr, "oclinit init: %s is required (see oclinit init --help)\n", missing);
        return EXIT_USAGE;
    }
    if (args->name && args->have_stream) {
        fprintf(stderr, "oclinit init: give --stream or --name, not both (a name gives its stream)\n");
        return EXIT_USAGE;
    }
    if (oi_name_ends_with(args->output, ".csv")) { /* a .npy under that name loads nowhere */
        fprintf(stderr,
                "oclinit init: --output %s: init writes a .npy file (numpy.load reads it), not CSV; name it "
                "%.*s.npy\n",
                args->output, (int)(strlen(args->output) - 4), args->output);
        return EXIT_USAGE;
    }
    if (args->name) args->stream = oclinit_tensor_stream(args->name);
    return -1;
}

int command_init(int argc, char **argv) {
    init_args args;
    int code = parse_arguments(argc, argv, &args);
    if (code >= 0) return code;
    file_arg output = {"--output", args.output, false};
    code = check_files(command, NULL, 0, &output, 1);
    if (code >= 0) return code;
    if (!scheme_build(command, args.scheme_name, &args.scheme_options, &args.scheme)) return EXIT_USAGE;

    oclinit_distribution distribution;
    oclinit_status status;
    if (args.have_shape) {
        if (args.have_fan_in) args.scheme.fan_in = args.fan_in;
        if (args.have_fan_out) args.scheme.fan_out = args.fan_out;
        status = oclinit_scheme_resolve_shape(&args.scheme, &args.shape, &distribution);
    } else {
        status = oclinit_scheme_resolve(&args.scheme, args.fan_in, args.fan_out, &distribution);
    }
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
        .user = &bar,
        .stats = args.stats ? &stats : NULL,
    };
    double start = oi_clock_seconds();
    status = oclinit_init_write_npy(runtime, &distribution, args.seed, args.stream, args.output, &options);
    double elapsed = oi_clock_seconds() - start;
    progress_finish(&bar);
    if (status != OCLINIT_SUCCESS) {
        report_failure(command, status);
        if (status == OCLINIT_ERROR_KERNEL_BUILD) fprintf(stderr, "%s\n", oclinit_runtime_get_build_log(runtime));
        oclinit_runtime_free(runtime);
        return failure_exit_code(status);
    }

    char described[160], shape[OCLINIT_MAX_RANK * 24];
    uint64_t elements = 0;
    oclinit_distribution_describe(&distribution, described, sizeof described);
    oclinit_shape_format(&distribution.shape, shape, sizeof shape);
    oclinit_shape_get_elements(&distribution.shape, &elements);
    double bytes = (double)elements * sizeof(float);
    printf("wrote %s: %s float32, %s -> %s, seed %llu, stream %llu, on %s, %.2f s (%.2f GB/s)\n", args.output, shape,
           oclinit_scheme_kind_str(args.scheme.kind), described, (unsigned long long)args.seed,
           (unsigned long long)args.stream, oclinit_runtime_get_device(runtime)->name, elapsed,
           elapsed > 0 ? bytes / elapsed / 1e9 : 0.0);
    if (args.stats) {
        double mean, std;
        oclinit_distribution_get_moments(&distribution, &mean, &std);
        printf("stats: mean %.6g (exact %.6g)  std %.6g (exact %.6g)  min %.6g  max %.6g  over %llu values\n",
               stats.mean, mean, stats.std, std, stats.min, stats.max, (unsigned long long)stats.count);
    }
    oclinit_runtime_free(runtime);
    return EXIT_SUCCESS;
}
