/* The oclinit command line, run as a user runs it: --help, a successful init, and every bad input the
 * foundation issue lists, each with a clear message, a non-zero exit, and no output or temporary file. */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

typedef struct run_result {
    int exit_code; /* -signal when killed */
    char out[8192], err[8192];
} run_result;

typedef struct run_options {
    const char *env_name, *env_value;  /* one variable to set in the child */
    rlim_t file_size_limit;            /* bytes, 0 for none */
    const char *interrupt_when_exists; /* send SIGINT once a file with this prefix in dir holds data: the device's
                                          kernels are built by then (PoCL compiles with clang in-process, whose
                                          own signal handlers take a SIGINT that arrives during the build) */
    const char *dir;
} run_options;

static char work_dir[256];

/* How many entries of dir start with prefix (all when NULL); *bytes, when not NULL, the size of the largest. */
static size_t entries_with_size(const char *dir, const char *prefix, off_t *bytes) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    if (bytes) *bytes = 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && (!prefix || strncmp(e->d_name, prefix, strlen(prefix)) == 0)) {
            struct stat st;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (bytes && stat(path, &st) == 0 && st.st_size > *bytes) *bytes = st.st_size;
            n++;
        }
    closedir(d);
    return n;
}

static size_t count_entries(const char *dir, const char *prefix) {
    return entries_with_size(dir, prefix, NULL);
}

static run_result *run(const char *const *args, const run_options *options) {
    run_result *r = calloc(1, sizeof *r);
    char out_name[] = "/tmp/oclinit-test-out-XXXXXX", err_name[] = "/tmp/oclinit-test-err-XXXXXX";
    int out = mkstemp(out_name), err = mkstemp(err_name);
    assert_true(out >= 0 && err >= 0);
    unlink(out_name);
    unlink(err_name);
    char *argv[64];
    size_t argc = 0;
    argv[argc++] = (char *)OCLINIT_CLI_PATH;
    for (; args[argc - 1]; argc++) argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        if (options && options->env_name) setenv(options->env_name, options->env_value, 1);
        if (options && options->file_size_limit) {
            struct rlimit limit = {options->file_size_limit, options->file_size_limit};
            signal(SIGXFSZ, SIG_IGN); /* so write() reports EFBIG, as a full disk reports ENOSPC */
            setrlimit(RLIMIT_FSIZE, &limit);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    if (options && options->interrupt_when_exists) {
        off_t bytes = 0;
        for (int i = 0; i < 6000 && (entries_with_size(options->dir, options->interrupt_when_exists, &bytes) == 0 ||
                                     bytes < (1 << 20));
             i++) {
            struct timespec pause = {0, 5000000};
            nanosleep(&pause, NULL);
        }
        kill(pid, SIGINT);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    test_read_output(out, r->out, sizeof r->out);
    test_read_output(err, r->err, sizeof r->err);
    return r;
}

/* Runs args and counts how many times they open path (inotify): a file read once is opened once. */
static size_t opens_during(const char *path, const char *const *args, run_result **result) {
    int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    assert_true(watch >= 0);
    /* Closes watched too: inotify merges an event into an identical one still unread, two opens in a row into one. */
    assert_true(inotify_add_watch(watch, path, IN_OPEN | IN_CLOSE) >= 0);
    *result = run(args, NULL);
    size_t opens = 0;
    /* The child has exited: every event of its opens is queued already. */
    _Alignas(struct inotify_event) char events[4096];
    for (ssize_t n; (n = read(watch, events, sizeof events)) > 0;)
        for (char *p = events; p < events + n;) {
            const struct inotify_event *event = (const struct inotify_event *)p;
            opens += (event->mask & IN_OPEN) != 0;
            p += sizeof *event + event->len;
        }
    close(watch);
    return opens;
}

static void expect_output(const run_result *r, const char *text, bool in_stderr) {
    const char *where = in_stderr ? r->err : r->out;
    if (!strstr(where, text))
        print_error("expected \"%s\" in %s; exit %d\nstdout: %s\nstderr: %s\n", text, in_stderr ? "stderr" : "stdout",
                    r->exit_code, r->out, r->err);
    assert_non_null(strstr(where, text));
}

static int setup_dir(void **state) {
    (void)state;
    snprintf(work_dir, sizeof work_dir, "/tmp/oclinit-test-cli-XXXXXX");
    return mkdtemp(work_dir) ? 0 : -1;
}

static int remove_dir(void **state) {
    (void)state;
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", work_dir);
    return system(command);
}

static const char *path_in_dir(const char *name) {
    static char path[2][300];
    static int which = 0;
    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s/%s", work_dir, name);
    return path[which];
}

static void help_is_there(void **state) {
    (void)state;
    const char *top[] = {"--help", NULL};
    run_result *r = run(top, NULL);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "Commands:", false);
    free(r);
    const char *init[] = {"init", "--help", NULL};
    r = run(init, NULL);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "--scheme NAME", false);
    expect_output(r, "kaiming-normal --nonlinearity linear", false);
    free(r);
    /* Every command's help lists its -h. */
    const char *commands[] = {"init", "normalize", "train", "predict", "experiment"};
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
        r = run((const char *const[]){commands[k], "--help", NULL}, NULL);
        assert_int_equal(r->exit_code, 0);
        expect_output(r, "-h, --help", false);
        free(r);
    }
    const char *none[] = {NULL};
    r = run(none, NULL);
    assert_int_equal(r->exit_code, 2);
    expect_output(r, "Usage: oclinit <command>", true);
    free(r);
}

static void devices_are_listed(void **state) {
    (void)state;
    const char *args[] = {"devices", NULL};
    run_result *r = run(args, NULL);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "0:0", false);
    expect_output(r, "* ", false);
    expect_output(r, "host C path", false);
    free(r);
}

static void init_writes_a_layer(void **state) {
    (void)state;
    const char *out = path_in_dir("w.npy");
    const char *args[] = {"init",   "--scheme", "he-normal", "--fan-in", "33",      "--fan-out", "7",
                          "--seed", "5",        "--output",  out,        "--stats", NULL};
    run_result *r = run(args, NULL);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "(7, 33) float32, kaiming-normal -> normal", false);
    expect_output(r, "stats: mean", false);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_size, 128 + 7 * 33 * 4);
    assert_int_equal(count_entries(work_dir, NULL), 1);
    /* The same layer on the host C path is the same file, byte for byte. */
    const char *host_out = path_in_dir("h.npy");
    const char *host_args[] = {"init",   "--scheme", "he-normal", "--fan-in", "33",       "--fan-out", "7",
                               "--seed", "5",        "--output",  host_out,   "--device", "cpu",       NULL};
    free(r);
    r = run(host_args, NULL);
    assert_int_equal(r->exit_code, 0);
    char command[700];
    snprintf(command, sizeof command, "cmp -s '%s' '%s'", out, host_out);
    assert_int_equal(system(command), 0);
    unlink(out);
    unlink(host_out);
    free(r);
}

/* Runs a failing command and checks the message, the exit code, and that the directory holds the same files
 * as before, among them a file at the output path with its content unchanged. */
static void expect_failure(const char *const *args, const run_options *options, const char *message) {
    const char *keep = path_in_dir("kept.npy");
    FILE *f = fopen(keep, "w");
    fputs("keep me", f);
    fclose(f);
    size_t entries = count_entries(work_dir, NULL);
    run_result *r = run(args, options);
    if (r->exit_code == 0) print_error("succeeded but should not: %s\n", r->out);
    assert_true(r->exit_code != 0 && r->exit_code < 128);
    expect_output(r, message, true);
    assert_int_equal(count_entries(work_dir, NULL), entries);
    char content[16] = "";
    f = fopen(keep, "r");
    assert_non_null(fgets(content, sizeof content, f));
    fclose(f);
    assert_string_equal(content, "keep me");
    unlink(keep);
    free(r);
}

#define INIT(...) ((const char *const[]){"init", __VA_ARGS__, NULL})

static void bad_shapes(void **state) {
    (void)state;
    const char *out = path_in_dir("kept.npy");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "0", "--fan-out", "3", "--output", out), NULL,
                   "fan_in and fan_out must be >= 1, got 0 and 3");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "5", "--fan-out", "-3", "--output", out), NULL,
                   "fan_in and fan_out must be >= 1");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "abc", "--fan-out", "3", "--output", out), NULL,
                   "--fan-in needs a whole number, got \"abc\"");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "4294967296", "--fan-out", "4294967296", "--output", out),
                   NULL, "more than 2^61 elements");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "99999999999999999999", "--fan-out", "3", "--output", out),
                   NULL, "--fan-in needs a whole number");
}

static void bad_options(void **state) {
    (void)state;
    const char *out = path_in_dir("kept.npy");
    expect_failure(INIT("--scheme", "xavier", "--fan-in", "3", "--fan-out", "3", "--output", out), NULL,
                   "unknown scheme \"xavier\"");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "3", "--fan-out", "3", "--output", out, "--bogus"), NULL,
                   "unknown option --bogus");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "3", "--fan-out", "3", "--output", out, "--gain", "2"), NULL,
                   "--gain does not apply to scheme normal");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "3", "--fan-out", "3", "--output", out, "--std", "0"), NULL,
                   "std must be a finite number > 0");
    expect_failure(INIT("--scheme", "trunc-normal", "--fan-in", "3", "--fan-out", "3", "--output", out, "--std", "-1"),
                   NULL, "std must be a finite number > 0");
    expect_failure(
        INIT("--scheme", "uniform", "--fan-in", "3", "--fan-out", "3", "--output", out, "--a", "2", "--b", "1"), NULL,
        "uniform needs finite a < b");
    expect_failure(
        INIT("--scheme", "trunc-normal", "--fan-in", "3", "--fan-out", "3", "--output", out, "--a", "2", "--b", "2"),
        NULL, "truncation needs a < b");
    expect_failure(INIT("--scheme", "constant", "--fan-in", "3", "--fan-out", "3", "--output", out), NULL,
                   "scheme constant needs --value");
    expect_failure(INIT("--scheme", "kaiming-normal", "--fan-in", "3", "--fan-out", "3", "--output", out,
                        "--nonlinearity", "swish"),
                   NULL, "unknown nonlinearity \"swish\"");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "3", "--fan-out", "3"), NULL, "--output is required");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "3", "--fan-out", "3", "--output", out, "--seed", "-1"), NULL,
                   "--seed needs a whole number from 0 to 2^64-1");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "3", "--fan-out", "3", "--output", out, "--device",
                        "no such device anywhere"),
                   NULL, "no device whose name contains \"no such device anywhere\"");
}

static void unwritable_path(void **state) {
    (void)state;
    expect_failure(
        INIT("--scheme", "normal", "--fan-in", "3", "--fan-out", "3", "--output", "/nonexistent-oclinit-dir/w.npy"),
        NULL, "cannot create /nonexistent-oclinit-dir/w.npy");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "3", "--fan-out", "3", "--output", work_dir), NULL,
                   "is a directory");
}

static void full_disk(void **state) {
    (void)state;
    run_options limit = {.file_size_limit = 16 << 20}; /* above what PoCL writes while compiling */
    for (int host = 0; host < 2; host++) {
        const char *const *args = INIT("--scheme", "normal", "--fan-in", "4096", "--fan-out", "2048", "--output",
                                       path_in_dir("kept.npy"), "--chunk-mib", "1", "--device", host ? "cpu" : "0:0");
        /* PoCL writes its kernel cache on first use and aborts when that write fails, so warm it first. */
        free(run(args, NULL));
        expect_failure(args, &limit, "no space left: writing");
    }
}

static void device_allocation_failure(void **state) {
    (void)state;
    oclinit_device_info info;
    assert_ok(oclinit_device_find(NULL, &info));
    char fan_out[32], chunk[32];
    snprintf(fan_out, sizeof fan_out, "%llu", (unsigned long long)(info.max_allocation / (65536 * 4) + 1));
    snprintf(chunk, sizeof chunk, "%llu", (unsigned long long)(info.max_allocation >> 20) + 1);
    expect_failure(INIT("--scheme", "normal", "--fan-in", "65536", "--fan-out", fan_out, "--output",
                        path_in_dir("kept.npy"), "--chunk-mib", chunk),
                   NULL, "cannot allocate");
}

static void no_opencl_platform(void **state) {
    (void)state;
    char empty[300];
    snprintf(empty, sizeof empty, "%s-vendors", work_dir);
    mkdir(empty, 0700);
    run_options no_vendors = {.env_name = "OCL_ICD_VENDORS", .env_value = empty};
    expect_failure((const char *const[]){"devices", NULL}, &no_vendors, "apt-get install pocl-opencl-icd");
    expect_failure(INIT("--scheme", "normal", "--fan-in", "3", "--fan-out", "3", "--output", path_in_dir("kept.npy")),
                   &no_vendors, "no OpenCL platform found");
    /* The host C path needs no platform. */
    const char *out = path_in_dir("w.npy");
    run_result *r = run(
        INIT("--scheme", "normal", "--fan-in", "3", "--fan-out", "3", "--output", out, "--device", "cpu"), &no_vendors);
    assert_int_equal(r->exit_code, 0);
    unlink(out);
    rmdir(empty);
    free(r);
}

/* Ctrl-C while a large layer is being written: exit 130, and neither the file nor its temporary remains. */
static void interrupt_leaves_nothing(void **state) {
    (void)state;
    run_options interrupt = {.interrupt_when_exists = "big.npy.tmp", .dir = work_dir};
    run_result *r = run(INIT("--scheme", "uniform", "--fan-in", "32768", "--fan-out", "16384", "--output",
                             path_in_dir("big.npy"), "--chunk-mib", "4"),
                        &interrupt);
    assert_int_equal(r->exit_code, 130);
    expect_output(r, "cancelled", true);
    assert_int_equal(count_entries(work_dir, NULL), 0);
    free(r);
}

static void write_text_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text_file(const char *path) {
    static char text[4096];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

#define NORMALIZE(...) ((const char *const[]){"normalize", __VA_ARGS__, NULL})

static void normalize_fits_and_applies(void **state) {
    (void)state;
    char train[300], test[300], out[300], stats[300];
    snprintf(train, sizeof train, "%s", path_in_dir("train.csv"));
    snprintf(test, sizeof test, "%s", path_in_dir("test.csv"));
    snprintf(out, sizeof out, "%s", path_in_dir("out.csv"));
    snprintf(stats, sizeof stats, "%s", path_in_dir("stats.txt"));
    write_text_file(train, "height;\"class\";weight\n1.0;\"a;b\";10\n2.0;b;30\n3.0;c;20\n");
    write_text_file(test, "height;class;weight\n4;x;40\n");
    run_result *r = run(
        NORMALIZE("--method", "minmax", "--label", "class", "--input", train, "--output", out, "--save-stats", stats),
        NULL);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "3 rows x 2 features, minmax to [0, 1], label column 2 (\"class\") passed through", false);
    assert_string_equal(read_text_file(out), "height;class;weight\n0;\"a;b\";0\n0.5;b;1\n1;c;0.5\n");
    expect_output(r, "statistics saved to", false);
    free(r);
    assert_non_null(strstr(read_text_file(stats), "feature 2 \"weight\" 3 20"));
    /* Saved statistics on new data; the label comes from the statistics file. */
    r = run(NORMALIZE("--stats", stats, "--input", test, "--output", out, "--device", "cpu"), NULL);
    assert_int_equal(r->exit_code, 0);
    assert_string_equal(read_text_file(out), "height;class;weight\n1.5;x;1.5\n");
    free(r);
    /* Production data lack the label the statistics record: the features, matched by name, are normalized. */
    write_text_file(test, "height;weight\n4;40\n");
    r = run(NORMALIZE("--stats", stats, "--input", test, "--output", out, "--device", "cpu"), NULL);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "no label column (the statistics' \"class\" is not in the input)", false);
    assert_string_equal(read_text_file(out), "height;weight\n1.5;1.5\n");
    free(r);
    /* Other names are no match: the label's absence is the error. */
    unlink(out);
    write_text_file(test, "height;mass\n4;40\n");
    expect_failure(NORMALIZE("--stats", stats, "--input", test, "--output", out, "--device", "cpu"), NULL,
                   "no column is named \"class\"");
}

static void normalize_bad_inputs(void **state) {
    (void)state;
    char train[300], out[300];
    snprintf(train, sizeof train, "%s", path_in_dir("train.csv"));
    snprintf(out, sizeof out, "%s", path_in_dir("kept.npy"));
    const char *cases[][2] = {
        {"a,b\n1,2\n3,x\n", "line 3, column 2 (b): \"x\" is not a number"},
        {"a,b\n1,2\n3\n", "line 3, column 2: the row has 1 fields where line 1 has 2"},
        {"a,b\n1,2\n", "at least 2 rows"},
        {"a,b\n1,inf\n2,2\n", "line 2, column 2 (b): inf is not a finite"},
        {"", "is empty"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        write_text_file(train, cases[k][0]);
        expect_failure(NORMALIZE("--method", "zscore", "--input", train, "--output", out), NULL, cases[k][1]);
        unlink(train);
    }
    write_text_file(train, "a,b\n1,2\n3,4\n");
    expect_failure(NORMALIZE("--input", train, "--output", out), NULL, "give either --method");
    expect_failure(NORMALIZE("--method", "zscore", "--stats", train, "--input", train, "--output", out), NULL,
                   "give either --method");
    expect_failure(NORMALIZE("--method", "zscore", "--range", "0,2", "--input", train, "--output", out), NULL,
                   "--range goes with --method minmax");
    expect_failure(NORMALIZE("--method", "minmax", "--range", "2,1", "--input", train, "--output", out), NULL,
                   "--range needs LO < HI");
    expect_failure(NORMALIZE("--method", "cubic", "--input", train, "--output", out), NULL, "unknown method \"cubic\"");
    expect_failure(NORMALIZE("--method", "zscore", "--label", "c", "--input", train, "--output", out), NULL,
                   "no column is named \"c\"");
    expect_failure(NORMALIZE("--stats", train, "--input", train, "--output", out), NULL,
                   "is not an oclinit statistics file");
    expect_failure(NORMALIZE("--method", "zscore", "--input", path_in_dir("missing.csv"), "--output", out), NULL,
                   "cannot open");
    /* A label of text has no place in a .npy output: refused before any work, even before the device is sought,
     * naming the column and the output, and nothing is written. */
    char npy[300];
    snprintf(npy, sizeof npy, "%s", path_in_dir("out.NPY"));
    write_text_file(train, "a,kind,b\n1,cat,2\n3,dog,4\n");
    size_t entries = count_entries(work_dir, NULL);
    run_result *r = run(NORMALIZE("--method", "zscore", "--label", "kind", "--input", train, "--output", npy,
                                  "--save-stats", path_in_dir("stats.txt"), "--device", "no-such-device"),
                        NULL);
    assert_int_equal(r->exit_code, 2);
    char message[600];
    snprintf(message, sizeof message,
             "oclinit normalize: error: --output: %s: the label column 2 (\"kind\") holds \"cat\" (line 2 of the "
             "input), which is not a number",
             npy);
    expect_output(r, message, true);
    free(r);
    assert_int_equal(count_entries(work_dir, NULL), entries);
    write_text_file(train, "a,b\n1,2\n3,4\n");
    /* Both files or neither: statistics into a missing directory leave no output either. */
    expect_failure(NORMALIZE("--method", "zscore", "--input", train, "--output", out, "--save-stats",
                             "/nonexistent-oclinit-dir/stats.txt"),
                   NULL, "cannot create /nonexistent-oclinit-dir/stats.txt");
    unlink(train);
}

/* A CSV of moons with the label in the middle column. */
static void write_moons_csv(const char *path, size_t samples, uint64_t stream, const char *labels[2]) {
    float x[2 * 400], y[400];
    assert_true(samples <= 400);
    assert_ok(oclinit_dataset_make(OCLINIT_DATASET_MOONS, samples, 0.1, 5, stream, x, y));
    FILE *f = fopen(path, "w");
    fputs("a,y,b\n", f);
    for (size_t i = 0; i < samples; i++) fprintf(f, "%.9g,%s,%.9g\n", x[2 * i], labels[(int)y[i]], x[2 * i + 1]);
    fclose(f);
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int lines = 0, c;
    while ((c = fgetc(f)) != EOF) lines += c == '\n';
    fclose(f);
    return lines;
}

#define EXPERIMENT(...) ((const char *const[]){"experiment", __VA_ARGS__, NULL})
#define TRAIN(...) ((const char *const[]){"train", __VA_ARGS__, NULL})
#define PREDICT(...) ((const char *const[]){"predict", __VA_ARGS__, NULL})

static void experiment_writes_table_results_and_plot(void **state) {
    (void)state;
    char results[300], plot[300];
    snprintf(results, sizeof results, "%s", path_in_dir("results.csv"));
    snprintf(plot, sizeof plot, "%s", path_in_dir("costs.svg"));
    run_result *r = run(
        EXPERIMENT("--device", "cpu", "--iterations", "400", "--results", results, "--plot", plot, "--quiet"), NULL);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "he (variance 2/fan_in)", false);
    expect_output(r, "zeros stays at 50 %:                      yes", false);
    expect_output(r,
                  "(the article trained 15000 iterations at lr 0.01; these checks assume that, not this run's 400 "
                  "at lr 0.01)",
                  false);
    expect_output(r, "zeros: every weight gradient is 0", false);
    free(r);
    assert_int_equal(count_lines(results), 6);
    assert_non_null(strstr(read_text_file(results), "init,train_accuracy,test_accuracy,cost_start,cost_end"));
    const char *svg = read_text_file(plot);
    assert_true(strncmp(svg, "<svg", 4) == 0);
    assert_non_null(strstr(svg, "iteration"));
}

static void train_and_predict(void **state) {
    (void)state;
    char train[300], test[300], model[300], out[300];
    snprintf(train, sizeof train, "%s", path_in_dir("train.csv"));
    snprintf(test, sizeof test, "%s", path_in_dir("test.csv"));
    snprintf(model, sizeof model, "%s", path_in_dir("moons.model"));
    snprintf(out, sizeof out, "%s", path_in_dir("predictions.csv"));
    const char *labels[2] = {"0", "1"};
    write_moons_csv(train, 300, 100, labels);
    write_moons_csv(test, 100, 102, labels);
    run_result *r = run(TRAIN("--data", train, "--label", "y", "--test", test, "--hidden", "16,8", "--optimizer",
                              "adam", "--lr", "0.01", "--iterations", "800", "--save", model, "--quiet"),
                        NULL);
    if (r->exit_code != 0) print_error("%s%s", r->out, r->err);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "test accuracy", false);
    expect_output(r, "model saved to", false);
    free(r);
    r = run(PREDICT("--model", model, "--data", test, "--label", "y", "--output", out, "--device", "cpu"), NULL);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "100 predictions written", false);
    double accuracy = atof(strstr(r->out, "accuracy ") + 9);
    assert_true(accuracy >= 0.95);
    free(r);
    assert_int_equal(count_lines(out), 101);
    assert_true(strncmp(read_text_file(out), "probability,class\n", 18) == 0);
    /* Without --label the model's own label column is left out of the inputs, the same predictions. */
    char first[4096], again[300];
    snprintf(first, sizeof first, "%s", read_text_file(out));
    snprintf(again, sizeof again, "%s", path_in_dir("again.csv"));
    /* The data are read once: the column is taken out of the table read, not read again as the label. */
    assert_int_equal(
        opens_during(test, PREDICT("--model", model, "--data", test, "--output", again, "--device", "cpu"), &r), 1);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "100 predictions written to", false);
    expect_output(r, "(column \"y\", the model's label, is not an input); accuracy", false);
    free(r);
    assert_string_equal(read_text_file(again), first);
    /* --quiet: the predictions and nothing else. */
    unlink(again);
    r = run(PREDICT("--model", model, "--data", test, "--output", again, "--device", "cpu", "--quiet"), NULL);
    assert_int_equal(r->exit_code, 0);
    assert_string_equal(r->out, "");
    assert_string_equal(r->err, "");
    free(r);
    assert_string_equal(read_text_file(again), first);
}

static void train_bad_inputs(void **state) {
    (void)state;
    char train[300], other[300], model[300];
    snprintf(train, sizeof train, "%s", path_in_dir("train.csv"));
    snprintf(other, sizeof other, "%s", path_in_dir("other.csv"));
    snprintf(model, sizeof model, "%s", path_in_dir("kept.npy"));
    const char *labels[2] = {"0", "1"}, *words[2] = {"no", "yes"};
    write_moons_csv(train, 50, 100, labels);
    expect_failure(TRAIN("--data", train, "--label", "y", "--hidden", "0,5", "--save", model), NULL,
                   "--hidden needs two sizes of at least 1");
    expect_failure(TRAIN("--data", train, "--label", "y", "--lr", "0", "--save", model), NULL, "--lr must be > 0");
    expect_failure(TRAIN("--data", train, "--label", "y", "--lr", "-0.1", "--save", model), NULL, "--lr must be > 0");
    expect_failure(TRAIN("--data", train, "--label", "target", "--save", model), NULL, "no column is named \"target\"");
    expect_failure(TRAIN("--data", train, "--save", model), NULL, "needs --label");
    expect_failure(TRAIN("--data", train, "--label", "y", "--init", "xavier", "--save", model), NULL,
                   "unknown scheme \"xavier\"");
    expect_failure(TRAIN("--data", train, "--label", "y", "--optimizer", "rmsprop", "--save", model), NULL,
                   "unknown optimizer \"rmsprop\"");
    write_text_file(other, "a,c,y\n1,2,0\n3,4,1\n");
    expect_failure(TRAIN("--data", train, "--label", "y", "--test", other, "--save", model), NULL,
                   "feature 2 is \"c\" in");
    write_text_file(other, "a,c,b,y\n1,2,3,0\n");
    expect_failure(TRAIN("--data", train, "--label", "y", "--test", other, "--save", model), NULL,
                   "has 3 feature columns, the training data 2");
    write_moons_csv(other, 50, 100, words);
    expect_failure(TRAIN("--data", other, "--label", "y", "--save", model), NULL, "line 2, column 2: the label is \"");
    expect_failure(TRAIN("--data", train, "--label", "y", "--hidden", "200000,200000", "--save", model), NULL,
                   "cannot allocate");
    unlink(train);
    unlink(other);
}

/* --header: the first row is a header even when it is all numbers, and a label that is exactly a header name is
 * that column, not an index. */
static void train_header(void **state) {
    (void)state;
    char data[300], model[300];
    snprintf(data, sizeof data, "%s", path_in_dir("numbered.csv"));
    snprintf(model, sizeof model, "%s", path_in_dir("numbered.model"));
    write_text_file(data, "10,20,30\n0.1,0.2,0\n0.9,0.8,1\n0.2,0.1,0\n0.8,0.9,1\n");
    const char *labels[] = {"3", "30"};
    for (int k = 0; k < 2; k++) {
        run_result *r = run(TRAIN("--data", data, "--header", "--label", labels[k], "--iterations", "3", "--device",
                                  "cpu", "--save", model, "--quiet"),
                            NULL);
        if (r->exit_code != 0) print_error("--label %s: %s%s", labels[k], r->out, r->err);
        assert_int_equal(r->exit_code, 0);
        free(r);
        if (k == 1) { /* predict reads the file the same way */
            char out[300];
            snprintf(out, sizeof out, "%s", path_in_dir("numbered-predictions.csv"));
            r = run(PREDICT("--model", model, "--data", data, "--header", "--label", "30", "--output", out), NULL);
            if (r->exit_code != 0) print_error("predict --header: %s%s", r->out, r->err);
            assert_int_equal(r->exit_code, 0);
            assert_non_null(strstr(r->out, "4 predictions written"));
            free(r);
            assert_int_equal(unlink(out), 0);
        }
        assert_int_equal(unlink(model), 0);
    }
    /* Without it the row of numbers is data, whose label 30 is not 0 or 1. */
    expect_failure(TRAIN("--data", data, "--label", "3", "--iterations", "3", "--device", "cpu", "--save", model), NULL,
                   "the label is \"30\"");
    unlink(data);
}

static void predict_bad_inputs(void **state) {
    (void)state;
    char data[300], model[300], out[300];
    snprintf(data, sizeof data, "%s", path_in_dir("data.csv"));
    snprintf(model, sizeof model, "%s", path_in_dir("model.bin"));
    snprintf(out, sizeof out, "%s", path_in_dir("kept.npy"));
    write_text_file(data, "a,b,c\n1,2,3\n");
    write_text_file(model, "this is not a model");
    expect_failure(PREDICT("--model", model, "--data", data, "--output", out), NULL, "not an oclinit model");
    unlink(model);
    expect_failure(PREDICT("--model", model, "--data", data, "--output", out), NULL, "cannot open");
    run_result *r =
        run(TRAIN("--data", "circles", "--iterations", "10", "--save", model, "--quiet", "--device", "cpu"), NULL);
    assert_int_equal(r->exit_code, 0);
    free(r);
    expect_failure(PREDICT("--model", model, "--data", data, "--output", out), NULL,
                   "has 3 feature columns; the model takes 2; give --label NAME");
    unlink(model);
    unlink(data);
}

/* What a file's name ends in counts whatever its case, as numpy and the readers take it: inspect names a .NPY
 * without .npy content as not one, and normalize writes .npy to a .NPY output. */
static void file_names_ignore_case(void **state) {
    (void)state;
    const char *text = path_in_dir("TEXT.NPY");
    write_text_file(text, "not numpy at all\n");
    expect_failure((const char *const[]){"inspect", text, NULL}, NULL, "TEXT.NPY: not a .npy file");
    const char *input = path_in_dir("in.csv"), *out = path_in_dir("OUT.NPY");
    write_text_file(input, "a,b\n1,2\n3,4\n");
    run_result *r =
        run(NORMALIZE("--method", "zscore", "--input", input, "--output", out, "--device", "cpu", "--quiet"), NULL);
    assert_int_equal(r->exit_code, 0);
    free(r);
    assert_int_equal(memcmp(read_text_file(out), "\x93NUMPY", 6), 0);
}

/* tune and bench refuse bad options; a corrupt CLBlast cache file is named, warned about and never fatal;
 * bench writes its CSV and plots. */
static void tune_and_bench(void **state) {
    (void)state;
    static const struct {
        const char *args[8], *message;
    } bad[] = {
        {{"tune", "--device", "cpu", NULL}, "needs no tuning"},
        {{"tune", "--budget", "0", NULL}, "--budget must be from 1 to 604800 seconds (a week), got 0"},
        {{"tune", "--budget", "0.001", NULL}, "--budget must be from 1 to 604800 seconds"},
        {{"tune", "--budget", "99999999999999999999", NULL}, "--budget must be from 1 to 604800 seconds"},
        {{"tune", "--budget", "soon", NULL}, "--budget"},
        {{"bench", "--only", "init,nonsense", NULL}, "unknown benchmark \"nonsense\""},
        {{"bench", "--device", "cpu", NULL}, "choose a device with --device"},
        {{"bench", "--repeat", "0", NULL}, "--repeat"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_result *r = run(bad[i].args, NULL);
        assert_int_equal(r->exit_code, 2);
        expect_output(r, bad[i].message, true);
        free(r);
    }

    oclinit_device_info device;
    char cache[1024];
    assert_ok(oclinit_device_find(NULL, &device));
    setenv("OCLINIT_CACHE_DIR", work_dir, 1);
    assert_ok(oclinit_tuning_get_path(&device, cache, sizeof cache));
    FILE *f = fopen(cache, "w");
    assert_non_null(f);
    fputs("Xgemm MWG=sixty-four\n", f);
    fclose(f);
    run_options in_work_dir = {.env_name = "OCLINIT_CACHE_DIR", .env_value = work_dir};
    const char *devices[] = {"devices", NULL};
    run_result *r = run(devices, &in_work_dir);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "file ignored", false);
    expect_output(r, "line 1: expected NAME=number", false);
    free(r);
    r = run(EXPERIMENT("--iterations", "20", "--quiet"), &in_work_dir);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "oclinit experiment: warning: ignored the CLBlast cache file", true);
    free(r);

    const char *csv = path_in_dir("bench.csv"), *plots = path_in_dir("plots");
    const char *bench[] = {"bench", "--quick", "--only", "gemm", "--repeat", "1", "--csv", csv, "--plot", plots, NULL};
    r = run(bench, &in_work_dir);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "warning: ignored the CLBlast cache file", true);
    expect_output(r, "gemm: GFLOP/s (median of 3 runs, +- half the min-max spread)", false);
    expect_output(r, "2048 x 1024 x 512 NT", false);
    expect_output(r, "SGEMM: CLBlast / OpenBLAS", false);
    expect_output(r, "host BLAS: OpenBLAS's ", false);
    /* What --only left out is "not measured", with no figure made up for it. */
    expect_output(r, "device ms / host twin ms: not measured", false);
    assert_null(strstr(r->out, "nan"));
#if defined(__linux__) && defined(__x86_64__)
    expect_output(r, ", model ", false); /* the CPU's family and model number, beside its name */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bf16")) expect_output(r, " avx512bf16", false); /* bf16 rounds through it */
#endif
    free(r);
    /* One run has no spread to show. */
    const char *once[] = {"bench", "--quick", "--only", "normalize", "--repeat", "1", NULL};
    r = run(once, &in_work_dir);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "normalize-fit: GB/s (one run)\n", false);
    assert_null(strstr(r->out, "+-"));
    free(r);
    char *text;
    size_t size;
    assert_ok(oi_read_file(csv, &text, &size));
    assert_int_equal(
        strncmp(text, "benchmark,backend,size,seconds,min_seconds,max_seconds,throughput,unit,detail\n", 78), 0);
    assert_non_null(strstr(text, "\ngemm,device,1024,"));
    assert_non_null(strstr(text, "\ngemm,host,1024,"));
    assert_non_null(strstr(text, "\ngemm-network,device,2147483648,"));
    free(text);
    assert_ok(oi_read_file(path_in_dir("plots/gemm.svg"), &text, &size));
    assert_non_null(strstr(text, "<svg"));
    assert_non_null(strstr(text, ">device</text>"));
    assert_non_null(strstr(text, ">host</text>"));
    free(text);
    unsetenv("OCLINIT_CACHE_DIR");
}

/* The numbers in a CSV written by oclinit (header first), all finite: how many, or -1 at a non-finite one. */
static long finite_numbers(const char *path) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    long count = 0;
    assert_non_null(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f) && count >= 0) {
        for (char *field = strtok(line, ",\n"); field && count >= 0; field = strtok(NULL, ",\n"))
            count = isfinite(strtod(field, NULL)) ? count + 1 : -1;
    }
    fclose(f);
    return count;
}

/* Columns at the ends of float32's range (N(0, 1) times 1e19, times 1e-25, near +-3e38): normalize writes finite
 * data and statistics that --stats reads back, train warns about them and saves a model predict loads; and a
 * cost that grows over tenfold stops train without a model. */
static void extreme_magnitudes_and_divergence(void **state) {
    (void)state;
    char data[300], out[300], again[300], stats[300], model[300], predictions[300];
    snprintf(data, sizeof data, "%s", path_in_dir("extreme.csv"));
    snprintf(out, sizeof out, "%s", path_in_dir("extreme_z.csv"));
    snprintf(again, sizeof again, "%s", path_in_dir("extreme_z2.csv"));
    snprintf(stats, sizeof stats, "%s", path_in_dir("extreme.txt"));
    snprintf(model, sizeof model, "%s", path_in_dir("extreme.model"));
    snprintf(predictions, sizeof predictions, "%s", path_in_dir("extreme_predictions.csv"));
    float x[2 * 300], y[300], z[3 * 300];
    assert_ok(oclinit_dataset_make(OCLINIT_DATASET_MOONS, 300, 0.1, 5, 100, x, y));
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .std = 1, .shape = {2, {300, 3}}};
    assert_ok(oclinit_init_fill_host(NULL, &d, 9, 0, 0, 900, z));
    FILE *f = fopen(data, "w");
    fputs("a,b,tiny,huge,y\n", f);
    for (int i = 0; i < 300; i++)
        fprintf(f, "%.9g,%.9g,%.9g,%.9g,%d\n", x[2 * i] * 1e19, x[2 * i + 1] + z[3 * i], z[3 * i + 1] * 1e-25,
                (z[3 * i + 2] < 0 ? -3e38 : 3e38) * (1 - fmin(fabs(z[3 * i + 2]), 9) / 100), (int)y[i]);
    fclose(f);

    run_result *r = run(
        NORMALIZE("--method", "zscore", "--label", "y", "--input", data, "--output", out, "--save-stats", stats), NULL);
    if (r->exit_code != 0) print_error("%s%s", r->out, r->err);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "warning: column 1 (\"a\") is extreme", true);
    expect_output(r, "warning: column 3 (\"tiny\") is extreme", true);
    assert_null(strstr(r->err, "constant"));
    free(r);
    assert_int_equal(finite_numbers(out), 300 * 5);
    r = run(NORMALIZE("--stats", stats, "--input", data, "--output", again, "--device", "cpu"), NULL);
    assert_int_equal(r->exit_code, 0);
    free(r);
    char *first, *second;
    size_t first_size, second_size;
    assert_ok(oi_read_file(out, &first, &first_size));
    assert_ok(oi_read_file(again, &second, &second_size));
    assert_true(first_size == second_size && memcmp(first, second, first_size) == 0);
    free(second);
    free(first);

    r = run(TRAIN("--data", data, "--label", "y", "--optimizer", "adam", "--iterations", "300", "--save", model,
                  "--quiet", "--device", "cpu"),
            NULL);
    if (r->exit_code != 0) print_error("%s%s", r->out, r->err);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "oclinit train: warning: column 4 (\"huge\") is extreme", true);
    free(r);
    r = run(PREDICT("--model", model, "--data", data, "--label", "y", "--output", predictions, "--device", "cpu"),
            NULL);
    if (r->exit_code != 0) print_error("%s%s", r->out, r->err);
    assert_int_equal(r->exit_code, 0);
    expect_output(r, "300 predictions written", false);
    free(r);
    assert_int_equal(finite_numbers(predictions), 300 * 2);

    unlink(model);
    r = run(
        TRAIN("--data", "circles", "--optimizer", "adam", "--lr", "1e6", "--save", model, "--quiet", "--device", "cpu"),
        NULL);
    assert_int_equal(r->exit_code, 1);
    expect_output(r, "the cost on the training set grew from 0.7", true);
    expect_output(r, "try a smaller --lr", true);
    free(r);
    assert_int_equal(access(model, F_OK), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(help_is_there, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(devices_are_listed, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(init_writes_a_layer, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(bad_shapes, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(bad_options, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(unwritable_path, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(full_disk, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(device_allocation_failure, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(no_opencl_platform, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(interrupt_leaves_nothing, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(normalize_fits_and_applies, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(normalize_bad_inputs, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(experiment_writes_table_results_and_plot, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(train_and_predict, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(train_bad_inputs, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(train_header, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(predict_bad_inputs, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(file_names_ignore_case, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(tune_and_bench, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(extreme_magnitudes_and_divergence, setup_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
