/* numpy and PyTorch at the same sizes: runs bench/reference.py (embedded at build time) with python3 (or
 * $OCLINIT_PYTHON) and reads
 * its CSV rows. Without python3, numpy or PyTorch the rows are missing and a note says why. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;
extern const char bench_reference_py[];

static void join(const double *values, size_t count, char *text, size_t size) {
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < count && used < size; i++)
        used += (size_t)snprintf(text + used, size - used, "%s%.0f", i ? "," : "", values[i]);
}

/* One line of reference.py: a row or a '#' note. */
static void take_line(char *line, bench_results *results) {
    char benchmark[32], backend[32], unit[24], detail[48] = "";
    double size, work;
    timing t;
    int consumed = 0;
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '#') {
        bench_note(results, "%s", line + 2);
    } else if (sscanf(line, "%31[^,],%31[^,],%lf,%lf,%lf,%lf,%lf,%23[^,],%n", benchmark, backend, &size, &t.median,
                      &t.min, &t.max, &work, unit, &consumed) == 8 &&
               consumed > 0) {
        snprintf(detail, sizeof detail, "%s", line + consumed);
        bench_add(results, benchmark, backend, size, t, work, unit, detail);
    } else if (line[0]) {
        bench_note(results, "python3: %.200s", line);
    }
}

oclinit_status bench_python(const bench_config *cfg, bench_results *results) {
    double init[16], normalize[16], widths[8];
    char init_text[256], normalize_text[256], width_text[128], repeat[16], orthogonal[24], layers[16];
    join(init, bench_init_sizes(cfg, init), init_text, sizeof init_text);
    join(normalize, bench_normalize_sizes(cfg, normalize), normalize_text, sizeof normalize_text);
    join(widths, bench_train_widths(cfg, widths), width_text, sizeof width_text);
    snprintf(repeat, sizeof repeat, "%d", cfg->repeat);
    snprintf(orthogonal, sizeof orthogonal, "%zu", bench_orthogonal_size(cfg));
    snprintf(layers, sizeof layers, "%d", bench_model_layers(cfg));
    /* OCLINIT_PYTHON picks the interpreter, where python3 on the PATH is another (pyenv, a venv) than Debian's. */
    const char *python = getenv("OCLINIT_PYTHON") && *getenv("OCLINIT_PYTHON") ? getenv("OCLINIT_PYTHON") : "python3";
    char *argv[] = {(char *)python,
                    "-c",
                    (char *)bench_reference_py,
                    "--init-sizes",
                    init_text,
                    "--normalize-sizes",
                    normalize_text,
                    "--train-widths",
                    width_text,
                    "--npy-dir",
                    (char *)cfg->work_dir,
                    "--repeat",
                    repeat,
                    "--orthogonal-size",
                    orthogonal,
                    "--model-layers",
                    layers,
                    NULL};
    oclinit_status status = bench_say(cfg, "numpy and PyTorch (python3 bench/reference.py)");
    if (status != OCLINIT_SUCCESS) return status;

    int pipe_fds[2];
    pid_t pid;
    posix_spawn_file_actions_t actions;
    if (pipe(pipe_fds) != 0) return OCLINIT_ERROR_IO;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    int error = posix_spawnp(&pid, python, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    if (error != 0) {
        close(pipe_fds[0]);
        bench_note(results,
                   "numpy and PyTorch: cannot run %s (%s); on Debian: apt-get install python3-numpy "
                   "python3-torch",
                   python, strerror(error));
        return OCLINIT_SUCCESS;
    }
    FILE *in = fdopen(pipe_fds[0], "r");
    char line[512];
    while (in && fgets(line, sizeof line, in)) {
        take_line(line, results);
        if (cfg->progress && cfg->progress(cfg->user, "numpy and PyTorch (python3 bench/reference.py)")) {
            kill(pid, SIGTERM);
            status = OCLINIT_ERROR_CANCELLED;
            break;
        }
    }
    if (in)
        fclose(in);
    else
        close(pipe_fds[0]);
    int exit_status;
    waitpid(pid, &exit_status, 0);
    if (status == OCLINIT_SUCCESS && !(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0))
        bench_note(results, "python3 bench/reference.py failed (exit status %d); its rows so far are kept",
                   WIFEXITED(exit_status) ? WEXITSTATUS(exit_status) : -1);
    return status;
}
