/* model: `oclinit model` writing TinyLlama-1.1B's checkpoint in bf16 (its first 2 layers with --quick), timed from
 * process start to exit on the device and on the host C path, against a plain sequential write of the same bytes to
 * the same file system with the same policy (a temporary file, one fsync, a rename), through the page cache
 * (write-limit) and with O_DIRECT as oclinit writes (write-limit-direct), and against PyTorch's route
 * (bench/reference.py). GB/s of checkpoint and, in the detail, G parameters/s; each run's peak RSS goes in a note.
 * Each run's files are deleted after it, untimed. */
#define _GNU_SOURCE /* O_DIRECT */
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "features/features.h"

extern char **environ;

/* TinyLlama-1.1B's config.json (TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T); %d: its layers. */
static const char tinyllama_config[] =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"bos_token_id\": 1, \"eos_token_id\": 2, \"hidden_act\": \"silu\",\n"
    " \"hidden_size\": 2048, \"initializer_range\": 0.02, \"intermediate_size\": 5632,\n"
    " \"max_position_embeddings\": 2048, \"model_type\": \"llama\", \"num_attention_heads\": 32,\n"
    " \"num_hidden_layers\": %d, \"num_key_value_heads\": 4, \"pretraining_tp\": 1, \"rms_norm_eps\": 1e-05,\n"
    " \"rope_scaling\": null, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\", \"use_cache\": true,\n"
    " \"vocab_size\": 32000}\n";

int bench_model_layers(const bench_config *cfg) {
    return cfg->quick ? 2 : 22;
}

/* TinyLlama's parameters with that many layers: embeddings and head, then per layer attention (q, o: 2048^2; k, v:
 * 256 x 2048), MLP (3 x 5632 x 2048) and two norms, and the final norm. */
double bench_model_parameters(int layers) {
    const double hidden = 2048, kv = 256, inner = 5632, vocab = 32000;
    double layer = 2 * hidden * hidden + 2 * kv * hidden + 3 * inner * hidden + 2 * hidden;
    return 2 * vocab * hidden + layers * layer + hidden;
}

typedef struct run {
    char *const *argv;
    const char *directory;
    long peak_kib; /* the largest peak RSS of the timed runs, KiB */
} run;

/* After a deletion: the file system commits it before the next timed run, and with it, where it is mounted with
 * `discard` (as the VMs measured here are), the trimming of the freed gigabytes that would otherwise slow that run. */
static void settle(const char *path) {
    char parent[1200];
    oi_path_split(path, parent, sizeof parent);
    int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    syncfs(fd);
    close(fd);
}

static void remove_checkpoint(const char *directory) {
    static const char *const files[] = {"model.safetensors", "config.json"};
    char path[1200];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", directory, files[i]);
        unlink(path);
    }
    rmdir(directory);
    settle(directory);
}

/* A live process's peak RSS since its exec (VmHWM), in KiB; 0 once it is gone. Not wait4's ru_maxrss, which also
 * counts the memory of the spawning process (this one) that the child shared until its exec. */
static long peak_rss_kib(pid_t pid) {
    char path[64], line[256];
    long kib = 0;
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

static oclinit_status run_process(void *context) {
    run *r = context;
    pid_t pid;
    int status;
    posix_spawn_file_actions_t quiet; /* its one line of output would break the tables */
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    int error = posix_spawn(&pid, r->argv[0], &quiet, NULL, r->argv, environ);
    posix_spawn_file_actions_destroy(&quiet);
    if (error != 0) return OCLINIT_ERROR_IO;
    /* every 2 ms until it exits: its buffers are all made in its first milliseconds */
    pid_t done;
    while ((done = waitpid(pid, &status, WNOHANG)) == 0) {
        long kib = peak_rss_kib(pid);
        if (kib > r->peak_kib) r->peak_kib = kib;
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    if (done != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return OCLINIT_ERROR_IO;
    return OCLINIT_SUCCESS;
}

static void remove_run(void *context) {
    remove_checkpoint(((run *)context)->directory);
}

/* The same bytes written as oclinit writes a file (core/output.c): a temporary name, one fsync, a rename. */
typedef struct plain_write {
    const char *path;
    uint64_t bytes;
    void *block;
    size_t block_bytes;
} plain_write;

static oclinit_status write_plainly(void *context) {
    plain_write *w = context;
    oclinit_status status = OCLINIT_SUCCESS;
    oi_output out = {.fd = -1};
    OI_CHECK(oi_output_open(w->path, &out));
    OI_CHECK(oi_output_reserve(&out, w->bytes));
    for (uint64_t done = 0; done < w->bytes; done += w->block_bytes) {
        size_t n = w->bytes - done < w->block_bytes ? (size_t)(w->bytes - done) : w->block_bytes;
        OI_CHECK(oi_output_write(&out, w->block, n));
    }
    OI_CHECK(oi_output_commit(&out));
cleanup:
    oi_output_abort(&out);
    return status;
}

static void remove_plain(void *context) {
    unlink(((plain_write *)context)->path);
    settle(((plain_write *)context)->path);
}

/* The same with O_DIRECT, whole 4 KiB pages from an aligned block (the last one padded, then cut back), in writes of
 * the size oclinit's checkpoint writer uses. */
static oclinit_status write_directly(void *context) {
    plain_write *w = context;
    oclinit_status status = OCLINIT_SUCCESS;
    char temporary[1100];
    snprintf(temporary, sizeof temporary, "%s.direct", w->path);
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
    if (fd < 0) return OCLINIT_ERROR_NOT_SUPPORTED;
    for (uint64_t done = 0; done < w->bytes && status == OCLINIT_SUCCESS; done += OI_DIRECT_PIECE) {
        size_t n = w->bytes - done < OI_DIRECT_PIECE ? (size_t)(w->bytes - done) : OI_DIRECT_PIECE;
        n = (n + 4095) / 4096 * 4096;
        if (pwrite(fd, (char *)w->block + done % w->block_bytes, n, (off_t)done) != (ssize_t)n)
            status = OCLINIT_ERROR_IO;
    }
    if (status == OCLINIT_SUCCESS && (ftruncate(fd, (off_t)w->bytes) != 0 || fsync(fd) != 0)) status = OCLINIT_ERROR_IO;
    if (close(fd) != 0 && status == OCLINIT_SUCCESS) status = OCLINIT_ERROR_IO;
    if (status == OCLINIT_SUCCESS && rename(temporary, w->path) != 0) status = OCLINIT_ERROR_IO;
    if (status != OCLINIT_SUCCESS) unlink(temporary);
    return status;
}

oclinit_status bench_model(const bench_config *cfg, bench_results *results) {
    oclinit_status status = OCLINIT_SUCCESS;
    const oclinit_device_info *info = oclinit_runtime_get_device(cfg->runtime);
    int layers = bench_model_layers(cfg);
    double parameters = bench_model_parameters(layers), bytes = 2 * parameters;
    char config[1024], directory[1024], plain[1024], device[32], detail[48];
    plain_write w = {plain, (uint64_t)bytes, NULL, (size_t)64 << 20};
    snprintf(config, sizeof config, "%s/oclinit-bench-%ld-config.json", cfg->work_dir, (long)getpid());
    snprintf(directory, sizeof directory, "%s/oclinit-bench-%ld-model", cfg->work_dir, (long)getpid());
    snprintf(plain, sizeof plain, "%s/oclinit-bench-%ld-plain.safetensors", cfg->work_dir, (long)getpid());
    snprintf(device, sizeof device, "%u:%u", info->platform_index, info->device_index);
    snprintf(detail, sizeof detail, "TinyLlama-1.1B, %d layers, bf16", layers);
    FILE *f = fopen(config, "w");
    if (!f || fprintf(f, tinyllama_config, layers) < 0 || fclose(f) != 0) {
        bench_note(results, "model: cannot write %s", config);
        return OCLINIT_ERROR_IO;
    }
    /* A 64 MiB block of bf16-like bytes: what the file system is given matters, not how it was made. On huge pages
     * where the system gives them, as oclinit's writer on the host path: the disks measured took O_DIRECT writes
     * faster from them, and the plain write is the best a plain program does. */
    if (!(w.block = oi_output_direct_memory(w.block_bytes))) {
        status = OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
        goto cleanup;
    }
    for (size_t i = 0; i < w.block_bytes; i++) ((unsigned char *)w.block)[i] = (unsigned char)(i * 2654435761u >> 13);
    int repeat = cfg->repeat < 3 ? cfg->repeat : 3; /* gigabytes a run */
    const char *devices[] = {device, "cpu"}, *backends[] = {"device", "host"};
    run runs[2];
    char *argv[2][12];
    for (int d = 0; d < 2; d++) {
        char *args[] = {(char *)cfg->self, "model",   "--config", config,     "--output",
                        directory,         "--dtype", "bf16",     "--device", (char *)devices[d],
                        "--quiet",         NULL};
        memcpy(argv[d], args, sizeof args);
        runs[d] = (run){argv[d], directory, 0};
    }
    /* The write through the page cache first, on its own: in turn with the others, it ran at a fifth of its speed
     * and slowed the run after it by a tenth. The rest in turns, so that the disk's drift moves the O_DIRECT write
     * and oclinit's alike (bench/README.md, "Slots, not tensors"). */
    const bench_task tasks[] = {
        {write_directly, remove_plain, &w}, {run_process, remove_run, &runs[0]}, {run_process, remove_run, &runs[1]}};
    timing t[4];
    if ((status = bench_say(cfg, "model: a plain write of %.2f GB", bytes / 1e9)) != OCLINIT_SUCCESS) goto cleanup;
    t[0] = bench_measure_then(write_plainly, remove_plain, &w, repeat);
    status = bench_say(cfg, "model: %d rounds of a plain O_DIRECT write and oclinit model on the device and the host",
                       repeat);
    if (status != OCLINIT_SUCCESS) goto cleanup;
    bench_measure_turns(tasks, 3, repeat, t + 1);
    timing limit = t[0];
    bench_add(results, "model", "write-limit", parameters, t[0], bytes / 1e9, "GB/s", detail);
    if (t[1].median == t[1].median) {
        bench_add(results, "model", "write-limit-direct", parameters, t[1], bytes / 1e9, "GB/s", detail);
        if (t[1].median < limit.median) limit = t[1]; /* the targets are against the faster plain write */
    } else {
        bench_note(results, "model: %s refuses O_DIRECT; the plain write goes through the page cache only",
                   cfg->work_dir);
    }
    for (int d = 0; d < 2; d++) {
        if (t[2 + d].median != t[2 + d].median) {
            bench_note(results, "model: `%s model --config %s --output %s --device %s` failed", cfg->self, config,
                       directory, devices[d]);
            status = OCLINIT_ERROR_IO;
            continue;
        }
        bench_add(results, "model", backends[d], parameters, t[2 + d], bytes / 1e9, "GB/s", detail);
        bench_note(results,
                   "model on the %s: %.2f G parameters/s, %.0f%% of the faster plain write's speed, peak RSS %ld MiB",
                   backends[d], parameters / t[2 + d].median / 1e9, 100 * limit.median / t[2 + d].median,
                   runs[d].peak_kib / 1024);
    }
cleanup:
    remove_checkpoint(directory);
    unlink(plain);
    unlink(config);
    free(w.block);
    return status;
}
