/* oclinit tune: find CLBlast GEMM parameters for a device and keep them in its cache file. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *out) {
    fprintf(out,
            "Usage: oclinit tune [--device D] [--budget SECONDS] [--quiet]\n"
            "\n"
            "CLBlast, which runs every matrix product of training on a device, takes its kernel parameters\n"
            "from a database of devices it knows; others (PoCL's CPU device among them) get generic ones.\n"
            "This searches better ones for the device: candidates for CLBlast's GEMM kernel are timed at\n"
            "oclinit's shapes (1024^3 and the products of a [512, 1024, 1024, 1] network on 2048 samples),\n"
            "each product checked against OpenBLAS, climbing from starting points derived from what the\n"
            "device reports (vector widths, local memory, work-group size, compute units) until no\n"
            "neighbour is faster or the budget is spent; then the size from which CLBlast should use that\n"
            "kernel rather than its direct one, and how far to split K so that the panels of A and B fit\n"
            "the caches (on PoCL, 2048^3 runs 3x faster in chunks). The best, if it beats the parameters in\n"
            "use, goes into the device's cache file ($OCLINIT_CACHE_DIR, else $XDG_CACHE_HOME/oclinit, else\n"
            "~/.cache/oclinit), which oclinit applies whenever it uses the device; `oclinit devices` shows\n"
            "which devices are tuned. Running it again continues from the saved parameters. Delete the\n"
            "file to return to CLBlast's own.\n"
            "\n"
            "Options:\n"
            "  --device D        P:D, or part of a device or platform name (default: $OCLINIT_DEVICE,\n"
            "                    else the first GPU, else the first CPU device)\n"
            "  --budget SECONDS  end within this long, the final choices and measurement included\n"
            "                    (default 600; 1 to 604800, a week): a candidate (a kernel build of\n"
            "                    seconds on PoCL, then its timing) starts only while it and those still\n"
            "                    fit. The first measurement, of the parameters in use, always runs\n"
            "  --quiet           no progress bar\n"
            "  -h, --help        this text\n");
}

enum option_id { OPT_DEVICE = 1000, OPT_BUDGET, OPT_QUIET, OPT_HELP };

static const struct option long_options[] = {
    {"device", required_argument, NULL, OPT_DEVICE},
    {"budget", required_argument, NULL, OPT_BUDGET},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char *const command = "tune";

typedef struct tune_progress {
    progress bar;
    double budget, best;
    bool quiet;
} tune_progress;

/* A bar on a terminal; elsewhere (a log) a line whenever the best improves. */
static int on_candidate(void *user, const oclinit_progress *progress) {
    tune_progress *p = user;
    const oclinit_tuning_report *so_far = progress->tuning;
    char detail[160];
    snprintf(detail, sizeof detail, "%zu candidates (%zu rejected), best %.1f GFLOP/s, at the start %.1f",
             so_far->candidates, so_far->rejected, so_far->best, so_far->before);
    if (!p->bar.enabled && !p->quiet && so_far->best > p->best) {
        printf("  %4.0f s: %s\n", so_far->seconds, detail);
        fflush(stdout);
    }
    p->best = fmax(p->best, so_far->best);
    return progress_status(&p->bar, so_far->seconds / p->budget, detail);
}

int command_tune(int argc, char **argv) {
    const char *device = NULL;
    bool quiet = false;
    double budget = 600;
    options_reset();
    int id;
    while ((id = next_option(command, argc, argv, long_options)) != -1) {
        bool ok = true;
        switch (id) {
        case OPTION_INVALID: return EXIT_USAGE;
        case 'h':
        case OPT_HELP: usage(stdout); return EXIT_SUCCESS;
        case OPT_DEVICE: device = optarg; break;
        case OPT_QUIET: quiet = true; break;
        case OPT_BUDGET:
            ok = parse_double(command, "budget", optarg, &budget);
            /* Below a second no candidate fits (and the budget printed in whole seconds read 0); above a week it is
             * surely a typo. */
            if (ok && !(budget >= 1 && budget <= 604800)) {
                fprintf(stderr, "oclinit tune: --budget must be from 1 to 604800 seconds (a week), got %s\n", optarg);
                ok = false;
            }
            break;
        }
        if (!ok) return EXIT_USAGE;
    }

    oclinit_runtime_t runtime = NULL;
    oclinit_status status = oclinit_runtime_create(device, &runtime);
    if (status == OCLINIT_SUCCESS && !oclinit_runtime_get_context(runtime)) {
        fprintf(stderr, "oclinit tune: the host C path runs OpenBLAS, which needs no tuning; choose an OpenCL "
                        "device with --device (see oclinit devices)\n");
        oclinit_runtime_free(runtime);
        return EXIT_USAGE;
    }
    if (status != OCLINIT_SUCCESS) {
        report_failure(command, status);
        return EXIT_FAILURE;
    }
    char message[1536];
    oclinit_tuning_state state = oclinit_tuning_check(oclinit_runtime_get_device(runtime), message, sizeof message);
    if (state == OCLINIT_TUNING_IGNORED) fprintf(stderr, "oclinit tune: warning: %s\n", message);
    printf("tuning CLBlast's SGEMM for %s (%s), for at most %.0f s; starting from %s\n",
           oclinit_runtime_get_device(runtime)->name, oclinit_runtime_get_device(runtime)->platform_name, budget,
           state == OCLINIT_TUNING_APPLIED ? "the saved parameters" : "CLBlast's own parameters");
    fflush(stdout);

    tune_progress p = {.budget = budget, .quiet = quiet};
    progress_start(&p.bar, "tune", quiet);
    oclinit_tuning_options options = {.budget_seconds = budget, .progress = on_candidate, .user = &p};
    oclinit_tuning_report report;
    status = oclinit_tuning_run(runtime, &options, &report);
    progress_finish(&p.bar);
    if (status != OCLINIT_SUCCESS) {
        report_failure(command, status);
        oclinit_runtime_free(runtime);
        return failure_exit_code(status);
    }

    printf("%zu candidates in %.0f s (%zu refused or wrong), %s\n\n", report.candidates, report.seconds,
           report.rejected, report.converged ? "no neighbour of the best was faster" : "stopped at the budget");
    printf("%-26s %10s %10s   GFLOP/s\n", "C = op(A) op(B), m x n x k", "before", "after");
    const oi_gemm_shape *shapes = oi_tuning_shapes();
    for (size_t i = 0; i < OCLINIT_TUNING_SHAPES; i++) {
        char shape[40];
        snprintf(shape, sizeof shape, "%zu x %zu x %zu %s%s", shapes[i].m, shapes[i].n, shapes[i].k,
                 shapes[i].transpose_a ? "T" : "N", shapes[i].transpose_b ? "T" : "N");
        printf("%-26s %10.1f %10.1f\n", shape, report.shape_before[i], report.shape_after[i]);
    }
    printf("%-26s %10.1f %10.1f\n\n", "all", report.before, report.saved ? report.best : report.before);
    if (report.saved)
        printf("saved\n%s\nto %s\noclinit applies it whenever it uses this device.\n", report.parameters, report.path);
    else if (access(report.path, F_OK) == 0)
        printf("nothing beat the parameters in use by 2 %%; %s is unchanged.\n", report.path);
    else
        printf("nothing beat CLBlast's own parameters by 2 %%; nothing was saved to %s%s.\n", report.path,
               report.candidates == 0 ? " (the budget left no time for a candidate: give a larger --budget)" : "");
    oclinit_runtime_free(runtime);
    return EXIT_SUCCESS;
}
