/* The whole job a user runs: `oclinit init` writing an 8192 x 8192 he-normal .npy, timed from process start
 * to exit (PyTorch and numpy doing the same are timed by bench/reference.py). */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

typedef struct job {
    char *const *argv;
    const char *output;
} job;

static oclinit_status run_process(void *context) {
    job *j = context;
    pid_t pid;
    int status, error;
    posix_spawn_file_actions_t quiet; /* its one line of output would break the tables */
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    error = posix_spawn(&pid, j->argv[0], &quiet, NULL, j->argv, environ);
    posix_spawn_file_actions_destroy(&quiet);
    if (error != 0) return OCLINIT_ERROR_IO;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return OCLINIT_ERROR_IO;
    unlink(j->output);
    return OCLINIT_SUCCESS;
}

oclinit_status bench_init_npy(const bench_config *cfg, bench_results *results) {
    const oclinit_device_info *info = oclinit_runtime_get_device(cfg->runtime);
    char output[1024], device[32];
    snprintf(output, sizeof output, "%s/oclinit-bench-%ld.npy", cfg->work_dir, (long)getpid());
    snprintf(device, sizeof device, "%u:%u", info->platform_index, info->device_index);
    const double fan = 8192, bytes = fan * fan * 4;
    const char *devices[] = {device, "cpu"}, *backends[] = {"device", "host"};
    for (int d = 0; d < 2; d++) {
        char *argv[] = {(char *)cfg->self, "init",     "--scheme", "he-normal", "--fan-in", "8192", "--fan-out",
                        "8192",            "--output", output,     "--device",  (char *)devices[d], "--quiet", NULL};
        job j = {argv, output};
        oclinit_status status = bench_say(cfg, "init-npy: oclinit init 8192 x 8192 on the %s", backends[d]);
        if (status != OCLINIT_SUCCESS) return status;
        timing t = bench_measure(run_process, &j, cfg->repeat);
        if (t.median != t.median) {
            bench_note(results, "init-npy: `%s init ... --output %s` failed", cfg->self, output);
            return OCLINIT_ERROR_IO;
        }
        bench_add(results, "init-npy", backends[d], fan * fan, t, bytes / 1e9, "GB/s", "8192 x 8192 he-normal .npy");
    }
    return OCLINIT_SUCCESS;
}
