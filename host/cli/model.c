/* oclinit model: a whole model's first checkpoint, from a Hugging Face config.json or an oclinit spec, in
 * safetensors as from_pretrained() loads it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static void usage(FILE *out) {
    fprintf(out, "Usage: oclinit model (--config config.json | --spec spec.json) --output DIR [options]\n"
                 "\n"
                 "Writes every tensor of a model, initialized, into DIR as safetensors: model.safetensors, or\n"
                 "model-0000k-of-0000n.safetensors shards and model.safetensors.index.json, plus config.json, what\n"
                 "transformers' from_pretrained(DIR) loads. A Hugging Face config.json (model_type llama, mistral,\n"
                 "qwen2 or gpt2) gives the tensors of transformers' state_dict, initialized as its _init_weights\n"
                 "does; a spec lists tensors, shapes and schemes itself (README.md, \"Whole models\"). A tensor's\n"
                 "numbers depend only on the seed, its name, its shape and its scheme: the same on every device and\n"
                 "for any shard size, and equal to `oclinit init --name NAME` with that scheme.\n"
                 "Under `mpirun -np N` the ranks share the work and write the same bytes into DIR, which every rank\n"
                 "must see; each rank takes its own device (README.md, \"Beyond one machine\").\n"
                 "\n"
                 "Required:\n"
                 "  --config FILE        a Hugging Face config.json\n"
                 "  --spec FILE          or an oclinit spec (JSON)\n"
                 "  --output DIR         the checkpoint's directory (made if missing)\n"
                 "\n"
                 "Options:\n"
                 "  --dtype T            f32, f16 or bf16 (default: the config's torch_dtype or the spec's dtype,\n"
                 "                       else f32); 16-bit values are the float32 ones rounded to nearest even\n"
                 "  --max-shard-size S   largest shard, as transformers reads it (default 5GB): KB, MB, GB are\n"
                 "                       powers of 10, KiB, MiB, GiB of 2, in any case, and a lowercase final b\n"
                 "                       means bits (5gb = 625 MB); a plain number is bytes, up to 2^64 - 1\n"
                 "  --seed S             64-bit seed (default: the spec's, else 0)\n"
                 "  --device D           P:D, part of a device or platform name, or cpu for the host C path\n"
                 "                       (default: $OCLINIT_DEVICE, else the first GPU, else the first CPU device)\n"
                 "  --force              replace a checkpoint already in DIR\n"
                 "  --list               print the tensors (name, shape, scheme, draws, std, zero_row, stream),\n"
                 "                       tab-separated, and write nothing\n"
                 "  --chunk-mib N        float32 MiB per chunk; the writer holds six chunks (default 16 on the\n"
                 "                       host path, 64 on a device)\n"
                 "  --quiet              no progress bar\n"
                 "  -h, --help           this text\n"
                 "\n"
                 "Example:\n"
                 "  oclinit model --config TinyLlama-1.1B/config.json --output tinyllama-init --dtype bf16\n");
}

enum option_id {
    OPT_CONFIG = 1000,
    OPT_SPEC,
    OPT_OUTPUT,
    OPT_DTYPE,
    OPT_MAX_SHARD_SIZE,
    OPT_SEED,
    OPT_DEVICE,
    OPT_FORCE,
    OPT_LIST,
    OPT_CHUNK_MIB,
    OPT_QUIET,
    OPT_HELP
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"spec", required_argument, NULL, OPT_SPEC},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"dtype", required_argument, NULL, OPT_DTYPE},
    {"max-shard-size", required_argument, NULL, OPT_MAX_SHARD_SIZE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"force", no_argument, NULL, OPT_FORCE},
    {"list", no_argument, NULL, OPT_LIST},
    {"chunk-mib", required_argument, NULL, OPT_CHUNK_MIB},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char *const command = "model";

typedef struct model_args {
    const char *config, *spec, *output, *device, *dtype;
    uint64_t seed, max_shard_bytes;
    int64_t chunk_mib; /* 0: the library's default */
    bool have_seed, force, list, quiet;
} model_args;

/* transformers' convert_file_size_to_int: GiB, MiB, KiB are powers of 2; GB, MB, KB powers of 10; a lowercase
 * final b means bits. A plain number is bytes. Prints why it refuses. */
static bool parse_shard_size(const char *text, uint64_t *bytes) {
    static const struct {
        const char *unit;
        uint64_t scale;
    } units[] = {{"GiB", 1ull << 30},   {"MiB", 1ull << 20}, {"KiB", 1ull << 10},
                 {"GB", 1000000000ull}, {"MB", 1000000ull},  {"KB", 1000ull}};
    size_t length = strlen(text);
    char *end;
    errno = 0;
    unsigned long long number = strtoull(text, &end, 10);
    size_t rest = length - (size_t)(end - text);
    uint64_t scale = rest == 0 ? 1 : 0;
    for (size_t u = 0; u < sizeof units / sizeof *units && scale == 0; u++)
        if (strcasecmp(end, units[u].unit) == 0) scale = units[u].scale;
    if (end == text || text[0] == '-' || text[0] == '+' || scale == 0 || number == 0) {
        fprintf(stderr,
                "oclinit model: --max-shard-size takes a size such as 5GB, 500MB, 2GiB or a number of bytes, got "
                "\"%s\"\n",
                text);
        return false;
    }
    if (errno == ERANGE || number > UINT64_MAX / scale) {
        fprintf(stderr, "oclinit model: --max-shard-size: \"%s\" is more than 2^64 - 1 bytes\n", text);
        return false;
    }
    *bytes = number * scale;
    if (rest == 2 && end[1] == 'b') *bytes /= 8;
    return true;
}

/* Returns -1 to go on, else the exit code. */
static int parse_arguments(int argc, char **argv, model_args *args) {
    memset(args, 0, sizeof *args);
    options_reset();
    int id;
    while ((id = next_option(command, argc, argv, long_options)) != -1) {
        if (id == OPTION_INVALID) return EXIT_USAGE;
        bool ok = true;
        switch (id) {
        case 'h':
        case OPT_HELP: usage(stdout); return EXIT_SUCCESS;
        case OPT_CONFIG: args->config = optarg; break;
        case OPT_SPEC: args->spec = optarg; break;
        case OPT_OUTPUT: args->output = optarg; break;
        case OPT_DTYPE: args->dtype = optarg; break;
        case OPT_MAX_SHARD_SIZE: ok = parse_shard_size(optarg, &args->max_shard_bytes); break;
        case OPT_SEED: ok = parse_uint64(command, "seed", optarg, &args->seed), args->have_seed = true; break;
        case OPT_DEVICE: args->device = optarg; break;
        case OPT_FORCE: args->force = true; break;
        case OPT_LIST: args->list = true; break;
        case OPT_QUIET: args->quiet = true; break;
        case OPT_CHUNK_MIB: ok = parse_chunk_mib(command, optarg, &args->chunk_mib); break;
        }
        if (!ok) return EXIT_USAGE;
    }
    if (!args->config == !args->spec) {
        fprintf(stderr, "oclinit model: give one of --config (a Hugging Face config.json) and --spec (see oclinit "
                        "model --help)\n");
        return EXIT_USAGE;
    }
    if (!args->output && !args->list) {
        fprintf(stderr, "oclinit model: --output is required (see oclinit model --help)\n");
        return EXIT_USAGE;
    }
    return -1;
}

/* Tab-separated, one tensor a line after a header: what would be written, for people and for scripts. */
static void list_tensors(oclinit_model_t model, oclinit_dtype dtype, uint64_t seed) {
    uint64_t total = 0;
    size_t count = oclinit_model_get_count(model);
    for (size_t i = 0; i < count; i++) {
        uint64_t elements = 0;
        oclinit_shape_get_elements(&oclinit_model_get_tensor(model, i)->shape, &elements);
        total += elements;
    }
    printf("# %zu tensors, %" PRIu64 " parameters, %.3f GB in %s, seed %" PRIu64 "\n", count, total,
           (double)total * (double)oclinit_dtype_size(dtype) / 1e9, oclinit_dtype_str(dtype), seed);
    printf("name\tshape\tscheme\tdraws\tstd\tzero_row\tstream\n");
    for (size_t i = 0; i < count; i++) {
        const oclinit_model_tensor *t = oclinit_model_get_tensor(model, i);
        oclinit_distribution d;
        char drawn[200] = "?";
        double mean = NAN, std = NAN;
        if (oclinit_scheme_resolve_shape(&t->scheme, &t->shape, &d) == OCLINIT_SUCCESS) {
            oclinit_distribution_describe(&d, drawn, sizeof drawn);
            oclinit_distribution_get_moments(&d, &mean, &std);
        }
        printf("%s\t", t->name);
        for (int k = 0; k < t->shape.rank; k++) printf("%s%" PRId64, k ? "," : "", t->shape.dims[k]);
        printf("\t%s\t%s\t%.9g\t%" PRId64 "\t%016" PRIx64 "\n", oclinit_scheme_kind_str(t->scheme.kind), drawn, std,
               t->zero_row, t->stream);
    }
}

/* A rule whose glob matches no tensor's name is likely a typo, yet the spec is valid: a warning, naming the rule. */
static void warn_unmatched_rules(const char *path, oclinit_model_t model) {
    for (size_t i = 0; i < oi_model_rule_count(model); i++) {
        const oi_model_rule *rule = oi_model_get_rule(model, i);
        if (rule->matched > 0) continue;
        char shown[72];
        oi_printable(rule->match, strlen(rule->match), shown, sizeof shown);
        fprintf(stderr, "oclinit model: warning: %s: rules[%zu].match: \"%s\" matches no tensor\n", path, i, shown);
    }
}

static bool writable(oclinit_dtype dtype) {
    return dtype == OCLINIT_DTYPE_F32 || dtype == OCLINIT_DTYPE_F16 || dtype == OCLINIT_DTYPE_BF16;
}

/* Under mpirun each step's outcome is every rank's (oi_dist_status), and only rank 0 prints: a failure once, naming
 * the rank it happened on. */
int command_model(int argc, char **argv) {
    model_args args;
    oclinit_model_t model = NULL;
    oclinit_runtime_t runtime = NULL;
    bool first = oi_dist_rank() == 0;
    int code = stop_together(parse_arguments(argc, argv, &args));
    if (code >= 0) return code;
    const char *source = args.config ? args.config : args.spec;
    oclinit_status status = oi_dist_status(args.config ? oclinit_model_load_config(args.config, &model)
                                                       : oclinit_model_load_spec(args.spec, &model));
    if (status != OCLINIT_SUCCESS) {
        if (first) report_failure(command, status);
        oclinit_model_free(model);
        /* A file that cannot be read is an I/O failure; anything wrong in what it says is bad input. */
        return status == OCLINIT_ERROR_INVALID_ARGUMENT || status == OCLINIT_ERROR_NOT_SUPPORTED ||
                       status == OCLINIT_ERROR_SIZE_OVERFLOW
                   ? EXIT_USAGE
                   : failure_exit_code(status);
    }
    if (first) warn_unmatched_rules(source, model); /* a config has no rules */
    oclinit_checkpoint_options options = {
        .dtype = oclinit_model_get_dtype(model),
        .seed = args.have_seed ? args.seed : oclinit_model_get_seed(model),
        .max_shard_bytes = args.max_shard_bytes,
        .force = args.force,
        .chunk_bytes = (size_t)args.chunk_mib << 20,
        .progress = progress_update,
    };
    code = -1;
    if (args.dtype &&
        (oclinit_dtype_parse(args.dtype, &options.dtype) != OCLINIT_SUCCESS || !writable(options.dtype))) {
        fprintf(stderr, "oclinit model: --dtype: expected f32, f16 or bf16, not \"%s\"\n", args.dtype);
        code = EXIT_USAGE;
    } else if (!writable(options.dtype)) { /* a config's torch_dtype matters only without --dtype */
        if (first)
            fprintf(stderr,
                    "oclinit model: %s: the config's dtype is %s, which oclinit does not write; give --dtype "
                    "f32, f16 or bf16\n",
                    source, oclinit_dtype_str(options.dtype));
        code = EXIT_USAGE;
    } else if (args.list) {
        if (first) list_tensors(model, options.dtype, options.seed);
        code = EXIT_SUCCESS;
    }
    code = stop_together(code);
    if (code >= 0) {
        oclinit_model_free(model);
        return code;
    }
    status = oi_dist_status(oclinit_runtime_create(args.device, &runtime));
    if (status != OCLINIT_SUCCESS) {
        if (first) report_failure(command, status);
        oclinit_runtime_free(runtime);
        oclinit_model_free(model);
        return EXIT_FAILURE;
    }
    progress bar;
    progress_start(&bar, "model", args.quiet || !first);
    options.user = &bar;
    double start = oi_clock_seconds();
    status = oclinit_model_write(runtime, model, args.output, args.config, &options);
    double elapsed = oi_clock_seconds() - start;
    progress_finish(&bar);
    if (status != OCLINIT_SUCCESS) {
        if (first) report_failure(command, status);
        if (status == OCLINIT_ERROR_KERNEL_BUILD && first)
            fprintf(stderr, "%s\n", oclinit_runtime_get_build_log(runtime));
        code = status == OCLINIT_ERROR_INVALID_ARGUMENT ? EXIT_USAGE : failure_exit_code(status);
    } else if (first) {
        uint64_t parameters = 0;
        for (size_t i = 0; i < oclinit_model_get_count(model); i++) {
            uint64_t elements = 0;
            oclinit_shape_get_elements(&oclinit_model_get_tensor(model, i)->shape, &elements);
            parameters += elements;
        }
        double bytes = (double)parameters * (double)oclinit_dtype_size(options.dtype);
        char ranks[32] = "";
        if (oi_dist_size() > 1) snprintf(ranks, sizeof ranks, " and %d ranks in all", oi_dist_size());
        printf("wrote %s: %zu tensors, %" PRIu64 " parameters in %s (%.3f GB) from %s, seed %" PRIu64
               ", on %s%s, %.2f s (%.2f GB/s, %.2f G parameters/s)\n",
               args.output, oclinit_model_get_count(model), parameters, oclinit_dtype_str(options.dtype), bytes / 1e9,
               source, options.seed, oclinit_runtime_get_device(runtime)->name, ranks, elapsed,
               elapsed > 0 ? bytes / elapsed / 1e9 : 0.0, elapsed > 0 ? (double)parameters / elapsed / 1e9 : 0.0);
        code = EXIT_SUCCESS;
    } else {
        code = EXIT_SUCCESS;
    }
    oclinit_runtime_free(runtime);
    oclinit_model_free(model);
    return code;
}
