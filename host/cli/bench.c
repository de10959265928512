/* oclinit bench: the device beside the host C path, numpy and PyTorch, in one run (the benchmarks are in
 * bench/); tables on stdout, optionally a CSV file and SVG plots. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"

static void usage(FILE *out) {
    fprintf(out, "Usage: oclinit bench [--quick] [--device D] [--csv FILE] [--plot DIR] [--only LIST] [--repeat R]\n"
                 "                     [--quiet]\n"
                 "\n"
                 "Measures, in one run on this machine: initialization (uniform, he-normal, trunc-normal; 2^16 to\n"
                 "2^28 elements; orthogonal), writing an 8192 x 8192 .npy end to end, TinyLlama-1.1B's bf16\n"
                 "checkpoint end to end (beside plain writes of its bytes, cached and O_DIRECT), z-score\n"
                 "normalization, SGEMM (CLBlast against OpenBLAS) and training (ms per iteration). Backends: the\n"
                 "OpenCL device, the host C path (vectorised, all cores; OpenBLAS for GEMM), and numpy and\n"
                 "PyTorch on the CPU when python3 can import them ($OCLINIT_PYTHON picks it: .venv/bin/python has\n"
                 "transformers for the checkpoint). Each figure is the median of several runs after an untimed\n"
                 "warm-up, with the spread.\n"
                 "Then the project's performance targets, met or missed, and where the device beats the host in\n"
                 "training.\n"
                 "Run `oclinit tune` first: CLBlast's GEMM is several times faster with tuned parameters.\n"
                 "\n"
                 "Options:\n"
                 "  --quick        fewer sizes and runs (under two minutes on 2 cores)\n"
                 "  --device D     P:D, or part of a device's or its implementation's name (pocl, rusticl, nvidia;\n"
                 "                 default: $OCLINIT_DEVICE, else the first GPU, else the first CPU device)\n"
                 "  --csv FILE     also write every figure: benchmark,backend,size,seconds,min_seconds,\n"
                 "                 max_seconds,throughput,unit,detail\n"
                 "  --plot DIR     also write one SVG per benchmark into DIR: throughput against size, a line\n"
                 "                 per backend\n"
                 "  --only LIST    some of init,npy,model,normalize,gemm,train,python (comma-separated)\n"
                 "  --repeat R     runs per figure, 1 to 1000 (default 5, 3 with --quick; 3R for the matrix\n"
                 "                 products)\n"
                 "  --quiet        no progress display\n"
                 "  -h, --help     this text\n");
}

enum option_id { OPT_QUICK = 1000, OPT_DEVICE, OPT_CSV, OPT_PLOT, OPT_ONLY, OPT_REPEAT, OPT_QUIET, OPT_HELP };
enum { MAX_REPEAT = 1000 }; /* the full bench at 1000 runs per figure takes days already */

static const struct option long_options[] = {
    {"quick", no_argument, NULL, OPT_QUICK},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"csv", required_argument, NULL, OPT_CSV},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"only", required_argument, NULL, OPT_ONLY},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char *const command = "bench";

typedef oclinit_status (*stage_fn)(const bench_config *cfg, bench_results *results);
static const struct {
    const char *name;
    stage_fn run;
} stages[] = {{"init", bench_init}, {"npy", bench_init_npy}, {"model", bench_model},  {"normalize", bench_normalize},
              {"gemm", bench_gemm}, {"train", bench_train},  {"python", bench_python}};
enum { STAGES = sizeof stages / sizeof stages[0] };

typedef struct bench_progress {
    progress bar;
    const char *stage;
    size_t stage_index;
} bench_progress;

static int on_progress(void *user, const char *what) {
    bench_progress *p = user;
    return progress_status(&p->bar, (double)p->stage_index / STAGES, what);
}

/* ---- Output ---- */

static const bench_row *find(const bench_results *r, const char *benchmark, const char *backend, double size) {
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->rows[i].benchmark, benchmark) == 0 && strcmp(r->rows[i].backend, backend) == 0 &&
            r->rows[i].size == size)
            return &r->rows[i];
    return NULL;
}

/* The row of backend at the same point (size and detail: several GEMM shapes have the same size) as at. */
static const bench_row *find_like(const bench_results *r, const bench_row *at, const char *backend) {
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->rows[i].benchmark, at->benchmark) == 0 && strcmp(r->rows[i].backend, backend) == 0 &&
            r->rows[i].size == at->size && strcmp(r->rows[i].detail, at->detail) == 0)
            return &r->rows[i];
    return NULL;
}

static void size_label(const bench_row *row, char *text, size_t size) {
    double log2_size = log2(row->size);
    if (strcmp(row->benchmark, "gemm-network") == 0 || strcmp(row->benchmark, "init-npy") == 0 ||
        strcmp(row->benchmark, "train-article") == 0 || strcmp(row->benchmark, "init-orthogonal") == 0)
        snprintf(text, size, "%s", row->detail);
    else if (row->size >= 1024 && log2_size == floor(log2_size))
        snprintf(text, size, "2^%.0f", log2_size);
    else
        snprintf(text, size, "%g", row->size);
}

/* The backends of one benchmark, and one row per point (size and detail), in order of appearance. */
static size_t backends_of(const bench_results *r, const char *benchmark, const char **names, size_t capacity) {
    size_t n = 0;
    for (size_t i = 0; i < r->count && n < capacity; i++) {
        bool seen = strcmp(r->rows[i].benchmark, benchmark) != 0;
        for (size_t j = 0; j < n && !seen; j++) seen = strcmp(names[j], r->rows[i].backend) == 0;
        if (!seen) names[n++] = r->rows[i].backend;
    }
    return n;
}

static size_t points_of(const bench_results *r, const char *benchmark, const bench_row **points, size_t capacity) {
    size_t n = 0;
    for (size_t i = 0; i < r->count && n < capacity; i++) {
        const bench_row *row = &r->rows[i];
        bool seen = strcmp(row->benchmark, benchmark) != 0;
        for (size_t j = 0; j < n && !seen; j++)
            seen = points[j]->size == row->size && strcmp(points[j]->detail, row->detail) == 0;
        if (!seen) points[n++] = row;
    }
    return n;
}

static void print_tables(const bench_results *r, int repeat) {
    const char *benchmarks[32];
    size_t benchmark_count = 0;
    for (size_t i = 0; i < r->count && benchmark_count < 32; i++) {
        bool seen = false;
        for (size_t j = 0; j < benchmark_count && !seen; j++) seen = strcmp(benchmarks[j], r->rows[i].benchmark) == 0;
        if (!seen) benchmarks[benchmark_count++] = r->rows[i].benchmark;
    }
    for (size_t b = 0; b < benchmark_count; b++) {
        const char *backends[8];
        const bench_row *points[32];
        size_t backend_count = backends_of(r, benchmarks[b], backends, 8);
        size_t point_count = points_of(r, benchmarks[b], points, 32);
        bool train = strncmp(benchmarks[b], "train", 5) == 0;
        int runs = bench_runs(benchmarks[b], repeat);
        bool spread = !train && runs > 1; /* one run has none to show */
        if (runs > 1)
            printf("%s: %s%s (median of %d runs%s)\n", benchmarks[b], train ? "ms per iteration, " : "",
                   points[0]->unit, runs, spread ? ", +- half the min-max spread" : "");
        else
            printf("%s: %s%s (one run)\n", benchmarks[b], train ? "ms per iteration, " : "", points[0]->unit);
        printf("  %-30s", "size");
        for (size_t k = 0; k < backend_count; k++) printf(" %18s", backends[k]);
        printf("\n");
        for (size_t p = 0; p < point_count; p++) {
            char label[64];
            size_label(points[p], label, sizeof label);
            printf("  %-30s", label);
            for (size_t k = 0; k < backend_count; k++) {
                const bench_row *row = find_like(r, points[p], backends[k]);
                char cell[40] = "-";
                if (row && train)
                    snprintf(cell, sizeof cell, "%.3g ms, %.3g", row->seconds.median * 1e3, row->throughput);
                else if (row && spread)
                    snprintf(cell, sizeof cell, "%.3g +-%.0f%%", row->throughput,
                             50 * (row->seconds.max - row->seconds.min) / row->seconds.median);
                else if (row)
                    snprintf(cell, sizeof cell, "%.3g", row->throughput);
                printf(" %18s", cell);
            }
            printf("\n");
        }
        printf("\n");
    }
}

static void print_target(const char *what, double value, double goal, bool at_most, const char *unit) {
    bool met = at_most ? value <= goal : value >= goal;
    char shown[32] = "      -"; /* a stage --only left out, or a backend missing (no python3 with torch) */
    if (value == value) snprintf(shown, sizeof shown, "%7.2f%s", value, unit);
    const char *verdict = value != value ? "not measured" : met ? "met" : "MISSED";
    printf("  %-70s %s (target %s %.2f%s): %s\n", what, shown, at_most ? "<=" : ">=", goal, unit, verdict);
}

static double ratio(const bench_row *a, const bench_row *b) {
    return a && b ? a->throughput / b->throughput : NAN;
}

/* The targets (README.md, "Performance"), and where the device beats the host twin in training. */
static void print_targets(const bench_results *r, const bench_config *cfg) {
    double init_sizes[16];
    size_t count = bench_init_sizes(cfg, init_sizes);
    double at = fmin(init_sizes[count - 1], 67108864); /* 2^26, or the largest size a quick run has */
    printf("targets (init at %.0f elements):\n", at);
    /* A GPU is held against PyTorch on a GPU where python3's torch has CUDA; a CPU device against torch on the CPU. */
    bool gpu = oclinit_runtime_get_device(cfg->runtime)->type == OCLINIT_DEVICE_GPU;
    const char *torch = gpu && find(r, "init-he-normal", "torch-cuda", at) ? "torch-cuda" : "torch";
    print_target(gpu && strcmp(torch, "torch") != 0 ? "he-normal init: device / PyTorch kaiming_normal_ on CUDA"
                                                    : "he-normal init: device / PyTorch kaiming_normal_",
                 ratio(find(r, "init-he-normal", "device", at), find(r, "init-he-normal", torch, at)), 2, false, "x");
    print_target("he-normal init: device / numpy standard_normal",
                 ratio(find(r, "init-he-normal", "device", at), find(r, "init-he-normal", "numpy", at)), 5, false, "x");
    print_target("uniform init: device / the device's fill bandwidth",
                 ratio(find(r, "init-uniform", "device", at), find(r, "init-uniform", "fill-limit", at)), 0.25, false,
                 "");
    /* The host C path beside the device on the same machine, from 2^24 elements up: the worst sampler and size. */
    static const char *const samplers[] = {"init-uniform", "init-he-normal", "init-trunc-normal"};
    double host_worst = NAN;
    for (size_t s = 0; s < sizeof samplers / sizeof samplers[0]; s++)
        for (size_t i = 0; i < count; i++) {
            const bench_row *on_host = find(r, samplers[s], "host", init_sizes[i]);
            double q = ratio(on_host, find(r, samplers[s], "device", init_sizes[i]));
            if (init_sizes[i] >= 16777216 && q == q && !(q >= host_worst)) host_worst = q;
        }
    /* The target is the host against a CPU device on the same cores; beside a GPU the figure is only listed. */
    if (gpu)
        printf("  %-70s %7.2fx (a target beside a CPU device only)\n", "init from 2^24 up: host C path / device, worst",
               host_worst);
    else
        print_target("init from 2^24 up: host C path / device, worst sampler", host_worst, 0.8, false, "x");
    print_target("8192^2 he-normal .npy end to end: time of PyTorch + np.save / oclinit",
                 ratio(find(r, "init-npy", "device", 67108864), find(r, "init-npy", "torch", 67108864)), 2, false, "x");
    double parameters = bench_model_parameters(bench_model_layers(cfg));
    /* Against the faster of the two plain writes: through the page cache, and with O_DIRECT as oclinit writes. */
    const bench_row *limit = find(r, "model", "write-limit", parameters);
    const bench_row *direct = find(r, "model", "write-limit-direct", parameters);
    if (direct && (!limit || direct->throughput > limit->throughput)) limit = direct;
    print_target("TinyLlama bf16 checkpoint: device / the faster plain write",
                 ratio(find(r, "model", "device", parameters), limit), 0.9, false, "");
    print_target("TinyLlama bf16 checkpoint: host C path / the faster plain write",
                 ratio(find(r, "model", "host", parameters), limit), 0.9, false, "");
    print_target("TinyLlama bf16 checkpoint: time of PyTorch + transformers / oclinit",
                 ratio(find(r, "model", "device", parameters), find(r, "model", "torch", parameters)), 10, false, "x");
    double worst = ratio(find(r, "gemm", "device", 1024), find(r, "gemm", "host", 1024));
    if (worst == worst) printf("  (CLBlast / OpenBLAS at 1024^3: %.2f)\n", worst);
    for (size_t i = 0; i < r->count; i++) {
        const bench_row *row = &r->rows[i];
        /* The large products only, which tuning times: the output layer's thin ones (one row, one column or K of
         * 1) are slow with any parameters, direct kernel or tuned, and are listed apart. */
        if (strcmp(row->benchmark, "gemm-network") != 0 || strcmp(row->backend, "device") != 0 || row->size < 1e8)
            continue;
        double q = ratio(row, find_like(r, row, "host"));
        worst = q < worst || worst != worst ? q : worst;
    }
    print_target("SGEMM: CLBlast / OpenBLAS, worst of 1024^3 and the network's large", worst, 0.5, false, "");
    const bench_row *device = find(r, "train", "device", 1024), *host = find(r, "train", "host", 1024);
    print_target("large network iteration: device ms / host twin ms",
                 device && host ? device->seconds.median / host->seconds.median : NAN, 2.5, true, "x");

    /* Where the device is faster than the host twin in training, width by width. */
    double widths[8];
    size_t width_count = bench_train_widths(cfg, widths), faster = 0, measured = 0;
    char where[128] = "";
    printf("\ntraining [512, h, h, 1] on 2048 samples, device ms / host twin ms:");
    for (size_t i = 0; i < width_count; i++) {
        device = find(r, "train", "device", widths[i]), host = find(r, "train", "host", widths[i]);
        if (!device || !host) continue;
        measured++;
        double q = device->seconds.median / host->seconds.median;
        printf(" h = %.0f: %.2f%s", widths[i], q, i + 1 < width_count ? "," : "");
        if (q < 1 && strlen(where) + 16 < sizeof where)
            snprintf(where + strlen(where), sizeof where - strlen(where), "%s%.0f", faster++ ? ", " : "", widths[i]);
    }
    if (faster)
        printf("\n  the device is faster at h = %s\n", where);
    else if (measured)
        printf("\n  the host twin is faster at every width measured\n");
    else
        printf(" not measured\n");
}

static void csv_field(FILE *out, const char *text) {
    if (!strpbrk(text, ",\"\n")) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (; *text; text++) {
        if (*text == '"') fputc('"', out);
        fputc(*text, out);
    }
    fputc('"', out);
}

static bool write_csv(FILE *out, void *user) {
    const bench_results *r = user;
    fputs("benchmark,backend,size,seconds,min_seconds,max_seconds,throughput,unit,detail\n", out);
    for (size_t i = 0; i < r->count; i++) {
        const bench_row *row = &r->rows[i];
        fprintf(out, "%s,%s,%.0f,%.6g,%.6g,%.6g,%.6g,", row->benchmark, row->backend, row->size, row->seconds.median,
                row->seconds.min, row->seconds.max, row->throughput);
        csv_field(out, row->unit);
        fputc(',', out);
        csv_field(out, row->detail);
        fputc('\n', out);
    }
    return !ferror(out);
}

typedef struct plot_job {
    const bench_results *results;
    const char *benchmark, *x_label;
} plot_job;

static bool write_plot(FILE *out, void *user) {
    const plot_job *job = user;
    const bench_results *r = job->results;
    const char *backends[8];
    const bench_row *points[32];
    double x[8][32], y[8][32];
    plot_series series[8];
    size_t backend_count = backends_of(r, job->benchmark, backends, 8);
    size_t point_count = points_of(r, job->benchmark, points, 32);
    const char *unit = points[0]->unit;
    for (size_t b = 0; b < backend_count; b++) {
        size_t n = 0;
        for (size_t p = 0; p < point_count; p++) {
            const bench_row *row = find_like(r, points[p], backends[b]);
            if (row) x[b][n] = row->size, y[b][n++] = row->throughput;
        }
        series[b] = (plot_series){backends[b], x[b], y[b], n};
    }
    char title[96], y_label[64];
    snprintf(title, sizeof title, "oclinit bench: %s", job->benchmark);
    snprintf(y_label, sizeof y_label, "%s (log scale)", unit);
    return write_svg_plot(out, title, job->x_label, y_label, PLOT_LOG_X | PLOT_LOG_Y, series, backend_count);
}

/* The plots --plot may write: DIR/<benchmark>.svg. */
static const struct {
    const char *benchmark, *x_label;
} plots[] = {{"init-uniform", "elements (float32)"},
             {"init-he-normal", "elements (float32)"},
             {"init-trunc-normal", "elements (float32)"},
             {"normalize-fit", "elements (rows x 16 float32)"},
             {"normalize-apply", "elements (rows x 16 float32)"},
             {"gemm", "n (n x n times n x n)"},
             {"train", "h: a [512, h, h, 1] network on 2048 samples"}};
enum { PLOTS = sizeof plots / sizeof plots[0] };

/* The CSV and one SVG per benchmark measured at two sizes or more, all or none. */
static bool write_files(bench_results *r, const char *csv, const char *dir) {
    if (dir && mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "oclinit bench: cannot create %s: %s\n", dir, strerror(errno));
        return false;
    }
    char paths[PLOTS][1024];
    plot_job jobs[PLOTS];
    printed_text texts[PLOTS + 1] = {{write_csv, r}};
    output_file files[PLOTS + 1] = {{csv, write_printed, &texts[0]}};
    size_t count = 1;
    for (size_t p = 0; dir && p < PLOTS; p++) {
        const bench_row *points[32];
        if (points_of(r, plots[p].benchmark, points, 32) < 2) continue;
        jobs[p] = (plot_job){r, plots[p].benchmark, plots[p].x_label};
        snprintf(paths[p], sizeof paths[p], "%s/%s.svg", dir, plots[p].benchmark);
        texts[count] = (printed_text){write_plot, &jobs[p]};
        files[count] = (output_file){paths[p], write_printed, &texts[count]};
        count++;
    }
    return write_outputs(command, files, count);
}

/* The host CPU's model and the vector extensions that decide its speed here: the host twins run their AVX-512,
 * AVX2 or plain x86-64 code (target_clones), PoCL's device builds for the same extensions, and bf16 is rounded by
 * AVX512_BF16's instruction where the CPU has it. The family and model numbers tell apart CPUs that share a name
 * ("Intel(R) Xeon(R) Processor" in a virtual machine). */
static void cpu_text(char *text, size_t size) {
    char line[512], model[256] = "unknown CPU", family[16] = "", number[16] = "";
    FILE *info = fopen("/proc/cpuinfo", "r");
    while (info && fgets(line, sizeof line, info) && line[0] != '\n') { /* the first processor's block */
        char *colon = strchr(line, ':');
        if (!colon) continue;
        line[strcspn(line, "\n")] = '\0';
        const char *value = colon + 1 + strspn(colon + 1, " \t");
        size_t key = strcspn(line, "\t:");
        if (key == 10 && strncmp(line, "model name", 10) == 0) snprintf(model, sizeof model, "%s", value);
        if (key == 10 && strncmp(line, "cpu family", 10) == 0) snprintf(family, sizeof family, "%s", value);
        if (key == 5 && strncmp(line, "model", 5) == 0) snprintf(number, sizeof number, "%s", value);
    }
    if (info) fclose(info);
    size_t used =
        family[0] && number[0]
            ? (size_t)snprintf(text, size, "%s (family %s, model %s); vector extensions:", model, family, number)
            : (size_t)snprintf(text, size, "%s; vector extensions:", model);
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    static const char *const names[] = {"sse4.2", "avx", "avx2", "fma", "avx512f", "avx512bf16"};
    bool has[] = {__builtin_cpu_supports("sse4.2"),  __builtin_cpu_supports("avx"),
                  __builtin_cpu_supports("avx2"),    __builtin_cpu_supports("fma"),
                  __builtin_cpu_supports("avx512f"), __builtin_cpu_supports("avx512bf16")};
    size_t found = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && used < size; i++)
        if (has[i]) used += (size_t)snprintf(text + used, size - used, " %s", names[i]), found++;
    if (!found && used < size) snprintf(text + used, size - used, " none beyond SSE2");
#else
    if (used < size) snprintf(text + used, size - used, " not identified on this architecture");
#endif
}

/* ---- The command ---- */

static bool parse_only(const char *text, bool selected[STAGES]) {
    for (size_t s = 0; s < STAGES; s++) selected[s] = false;
    for (const char *name = text;; name++) { /* an empty name (",", "init,,npy") is a slip, not "nothing" */
        size_t length = strcspn(name, ","), s = 0;
        while (s < STAGES && (strlen(stages[s].name) != length || strncmp(stages[s].name, name, length) != 0)) s++;
        if (s == STAGES) {
            fprintf(stderr,
                    "oclinit bench: --only: %s \"%.*s\" in \"%s\" (init, npy, model, normalize, gemm, train, "
                    "python)\n",
                    length ? "unknown benchmark" : "an empty name", (int)length, name, text);
            return false;
        }
        selected[s] = true;
        name += length;
        if (!*name) return true;
    }
}

int command_bench(int argc, char **argv) {
    const char *device = NULL, *csv = NULL, *plot_dir = NULL;
    bool quick = false, quiet = false, selected[STAGES];
    int64_t repeat = 0;
    for (size_t s = 0; s < STAGES; s++) selected[s] = true;
    options_reset();
    int id;
    while ((id = next_option(command, argc, argv, long_options)) != -1) {
        bool ok = true;
        switch (id) {
        case OPTION_INVALID: return EXIT_USAGE;
        case 'h':
        case OPT_HELP: usage(stdout); return EXIT_SUCCESS;
        case OPT_QUICK: quick = true; break;
        case OPT_DEVICE: device = optarg; break;
        case OPT_CSV: csv = optarg; break;
        case OPT_PLOT: plot_dir = optarg; break;
        case OPT_ONLY: ok = parse_only(optarg, selected); break;
        case OPT_REPEAT:
            ok = parse_count(command, "repeat", optarg, 1, &repeat);
            if (ok && repeat > MAX_REPEAT)
                fprintf(stderr, "oclinit bench: --repeat must be from 1 to %d, got %s\n", MAX_REPEAT, optarg),
                    ok = false;
            break;
        case OPT_QUIET: quiet = true; break;
        }
        if (!ok) return EXIT_USAGE;
    }
    /* Every file the run may write, checked before the run: the CSV and each plot, which must not be one another, or
     * the plots' directory still to be made, as a new name (its parent must take it; it must not be the CSV). */
    file_arg outputs[2 + PLOTS] = {{"--csv", csv, false}};
    char plot_paths[PLOTS][1024];
    struct stat plot_stat;
    bool plot_dir_exists = plot_dir && stat(plot_dir, &plot_stat) == 0 && S_ISDIR(plot_stat.st_mode);
    for (size_t p = 0; p < PLOTS; p++) { /* a directory still to be made holds none of them yet */
        snprintf(plot_paths[p], sizeof plot_paths[p], "%s/%s.svg", plot_dir_exists ? plot_dir : ".",
                 plots[p].benchmark);
        outputs[1 + p] = (file_arg){"--plot", plot_dir_exists ? plot_paths[p] : NULL, false};
    }
    outputs[1 + PLOTS] = (file_arg){"--plot", plot_dir_exists ? NULL : plot_dir, false};
    int code = check_files(command, NULL, 0, outputs, 2 + PLOTS);
    if (code >= 0) return code;
    if (plot_dir && stat(plot_dir, &plot_stat) == 0 && !S_ISDIR(plot_stat.st_mode)) {
        fprintf(stderr, "oclinit bench: error: --plot %s is not a directory\n", plot_dir);
        return EXIT_USAGE;
    }

    char self[4096];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    self[length > 0 ? length : 0] = '\0';
    const char *tmp = getenv("TMPDIR");
    bench_progress p = {0};
    bench_config cfg = {.quick = quick,
                        .repeat = repeat  ? (int)repeat
                                  : quick ? 3
                                          : 5,
                        .self = self,
                        .work_dir = tmp && *tmp ? tmp : "/tmp",
                        .progress = on_progress,
                        .user = &p};
    oclinit_status status = oclinit_runtime_create(device, &cfg.runtime);
    if (status == OCLINIT_SUCCESS && !oclinit_runtime_get_context(cfg.runtime)) {
        fprintf(stderr, "oclinit bench: compares an OpenCL device with the host C path; choose a device with "
                        "--device (see oclinit devices)\n");
        oclinit_runtime_free(cfg.runtime);
        return EXIT_USAGE;
    }
    if (status != OCLINIT_SUCCESS) {
        report_failure(command, status);
        return EXIT_FAILURE;
    }
    const oclinit_device_info *info = oclinit_runtime_get_device(cfg.runtime);
    char tuning_message[1536];
    oclinit_tuning_state tuning = oclinit_tuning_check(info, tuning_message, sizeof tuning_message);
    printf("oclinit bench%s on %s (%s), %ld host cores; CLBlast %s\n", quick ? " --quick" : "", info->name,
           info->platform_name, sysconf(_SC_NPROCESSORS_ONLN),
           tuning == OCLINIT_TUNING_APPLIED ? "tuned for this device (oclinit tune)"
                                            : "with its own parameters: run `oclinit tune` for faster GEMM");
    char cpu[512];
    cpu_text(cpu, sizeof cpu);
    const char *better = oi_gemm_host_better_kernels();
    printf("host CPU: %s\nhost BLAS: OpenBLAS's %s kernels\n\n", cpu, oi_gemm_host_kernels());
    if (better)
        fprintf(stderr,
                "oclinit bench: warning: OpenBLAS runs kernels older than this CPU, so the host figures understate "
                "it; OPENBLAS_CORETYPE=%s runs its own\n",
                better);
    if (tuning == OCLINIT_TUNING_IGNORED) fprintf(stderr, "oclinit bench: warning: %s\n", tuning_message);
    fflush(stdout);

    bench_results results = {0};
    double start = oi_clock_seconds();
    progress_start(&p.bar, "bench", quiet);
    for (size_t s = 0; s < STAGES && status == OCLINIT_SUCCESS; s++) {
        if (!selected[s]) continue;
        p.stage_index = s;
        status = stages[s].run(&cfg, &results);
    }
    progress_finish(&p.bar);
    code = EXIT_SUCCESS;
    if (status != OCLINIT_SUCCESS) {
        report_failure(command, status);
        code = failure_exit_code(status);
    }
    print_tables(&results, cfg.repeat);
    if (results.notes[0]) printf("notes:\n%s\n", results.notes);
    if (code == EXIT_SUCCESS) print_targets(&results, &cfg);
    printf("\n%.0f s in all\n", oi_clock_seconds() - start);
    if (!write_files(&results, csv, plot_dir)) code = EXIT_FAILURE;
    bench_results_free(&results);
    oclinit_runtime_free(cfg.runtime);
    return code;
}
