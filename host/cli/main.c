/* oclinit: command dispatch and top-level help. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* OpenBLAS (0.3.21 in Debian 12) gives every thread a 128 MiB buffer, which each worker thread takes as OpenBLAS's
 * constructor starts it and the main thread on its first product, and it retries a failed allocation forever at
 * 100 % CPU. Under a memory limit (ulimit -v or -d) that is a spin instead of an error, even for --version; so
 * there OpenBLAS gets one thread per GiB of the limit (at least one), and the main thread's buffer is taken before
 * any command, once it is known to fit. */
#define OPENBLAS_BUFFER ((size_t)130 << 20) /* the 128 MiB, OpenBLAS's header and malloc's */
#define OPENBLAS_THREADS "OPENBLAS_NUM_THREADS="
#define OPENBLAS_CORETYPE "OPENBLAS_CORETYPE"

static pid_t watched; /* the command's process, in the watching parent */

/* Signals sent to the watching parent (timeout's SIGTERM, a kill) go on to the command; a terminal's SIGINT or
 * SIGQUIT reaches the command itself, as the whole process group gets it, and is not sent twice. */
static void forward(int signal_number, siginfo_t *info, void *context) {
    (void)context;
    bool from_terminal = (signal_number == SIGINT || signal_number == SIGQUIT) && info->si_code == SI_KERNEL;
    if (!from_terminal) kill(watched, signal_number);
}

/* Drivers crash rather than fail when they run out of address space part way (PoCL segfaults in CLBlast's kernel
 * build, or aborts when it cannot start its threads), and a driver's LLVM takes over SIGABRT, so a handler in the
 * crashing process may never run. Under a memory limit the command therefore runs in a child, forked here before
 * any library starts a thread, and this parent, which loads no driver, says why it died, then ends the same way. */
static void watch_for_crashes(char **argv) {
    size_t limit = oi_memory_limit();
    if (!limit) return;
    watched = fork();
    if (watched <= 0) return; /* the command (or no fork: it runs unwatched) */
    static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
    struct sigaction action = {0};
    action.sa_sigaction = forward;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < OI_COUNT(forwarded); i++) sigaction(forwarded[i], &action, NULL);
    int status;
    while (waitpid(watched, &status, 0) < 0)
        if (errno != EINTR) _exit(1);
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    int signal_number = WTERMSIG(status);
    if (signal_number == SIGSEGV || signal_number == SIGBUS || signal_number == SIGABRT) {
        char hint[320];
        int length = snprintf(hint, sizeof hint,
                              "oclinit %s: crashed while this process may use only %zu MiB (ulimit -v or -d): too "
                              "little memory for the OpenCL driver? Raise the limit, or use --device cpu\n",
                              argv[1] ? argv[1] : "", limit >> 20);
        ssize_t written = write(STDERR_FILENO, hint, (size_t)length < sizeof hint ? (size_t)length : sizeof hint - 1);
        (void)written;
    }
    signal(signal_number, SIG_DFL);
    raise(signal_number);
    _exit(128 + signal_number);
}

/* Runs before any library's constructor (the executable's preinit array), where OpenBLAS reads its thread count
 * from the environment. The environment cannot be changed for it there (libc sets environ again after this
 * runs), so when the count must change, oclinit runs itself again with the count set. */
static void limit_openblas_threads(int argc, char **argv, char **envp) {
    (void)argc;
    size_t limit = oi_memory_limit(), n = 0;
    if (!limit) return;
    long fit = limit >> 30 ? (long)(limit >> 30) : 1, asked = 0;
    for (; envp[n]; n++)
        if (strncmp(envp[n], OPENBLAS_THREADS, strlen(OPENBLAS_THREADS)) == 0)
            asked = strtol(envp[n] + strlen(OPENBLAS_THREADS), NULL, 10);
    if (asked >= 1 && asked <= fit) {
        watch_for_crashes(argv);
        return;
    }
    char **env = malloc((n + 2) * sizeof *env), count[48];
    if (!env) return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(envp[i], OPENBLAS_THREADS, strlen(OPENBLAS_THREADS)) != 0) env[k++] = envp[i];
    snprintf(count, sizeof count, OPENBLAS_THREADS "%ld", fit);
    env[k++] = count;
    env[k] = NULL;
    execve("/proc/self/exe", argv, env);
    free(env); /* not run again (no /proc): OpenBLAS may spin, as before */
    watch_for_crashes(argv);
}
__attribute__((section(".preinit_array"), used)) static void (*const preinit)(int, char **,
                                                                              char **) = limit_openblas_threads;

/* Under a memory limit, has OpenBLAS take the main thread's buffer now; false when it would not fit. */
static bool reserve_openblas_buffer(void) {
    if (!oi_memory_limit()) return true;
    void *room =
        mmap(NULL, OPENBLAS_BUFFER, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (room == MAP_FAILED) return false;
    munmap(room, OPENBLAS_BUFFER);
    /* Large enough for OpenBLAS's blocked product, which takes the buffer (its small-matrix kernels do not). */
    enum { N = 128 };
    static float a[N * N], c[N * N];
    oi_gemm_host(&(oi_gemm_shape){N, N, N, true, false}, a, N, a, N, c, N);
    return true;
}

/* An OpenBLAS older than the CPU runs its SSE3 kernels on it (oi_gemm_host_better_kernels), as Debian 12's does on
 * Emerald Rapids. Unless the user chose (OPENBLAS_CORETYPE), oclinit runs itself again asking for the CPU's
 * kernels, as later OpenBLAS releases pick by the CPU's features themselves; OpenBLAS reads the variable as it
 * loads, before main. */
static void ask_openblas_for_kernels(char **argv) {
    const char *better = oi_gemm_host_better_kernels();
    if (!better || getenv(OPENBLAS_CORETYPE)) return;
    if (setenv(OPENBLAS_CORETYPE, better, 1) != 0) return;
    execv("/proc/self/exe", argv);
    unsetenv(OPENBLAS_CORETYPE); /* not run again (no /proc): the old kernels, as before */
}

int stop_together(int code) {
    int stopped = oi_dist_lowest(code >= 0);
    if (stopped < 0) return -1;
    /* A failed broadcast leaves each rank its own code, or 1 where it would have gone on. */
    if (oi_dist_broadcast(&code, sizeof code, stopped) != OCLINIT_SUCCESS && code < 0) code = EXIT_FAILURE;
    return code;
}

static void usage(FILE *out) {
    fprintf(out,
            "oclinit %d.%d.%d: reproducible neural-network weight initialization on OpenCL devices\n"
            "\n"
            "Usage: oclinit <command> [options]\n"
            "\n"
            "Commands:\n"
            "  devices   list OpenCL platforms and devices, and which one is the default\n"
            "  init      initialize a tensor of any rank on a device and write it to a .npy file\n"
            "  model     a whole model's first checkpoint (Hugging Face config or spec) in safetensors\n"
            "  normalize fit min-max or z-score statistics on a CSV or .npy table and transform it,\n"
            "            or apply saved statistics to new data\n"
            "  experiment  the article's experiment: one network, five initializations, what each does\n"
            "  train     train the three-layer network on a CSV / .npy table or a built-in data set\n"
            "  predict   probabilities and classes from a trained model\n"
            "  tune      find CLBlast GEMM parameters for a device (faster training on it)\n"
            "  bench     the device against the host C path, numpy and PyTorch, with plots\n"
            "  inspect   per-tensor statistics of a checkpoint (safetensors, a Hugging Face directory, .npy),\n"
            "            and which weights are likely to explode or vanish\n"
            "\n"
            "Run `oclinit <command> --help` for a command's options.\n"
            "The environment variable OCLINIT_DEVICE sets the default device (as --device does).\n",
            OCLINIT_VERSION_MAJOR, OCLINIT_VERSION_MINOR, OCLINIT_VERSION_PATCH);
}

int main(int argc, char **argv) {
    ask_openblas_for_kernels(argv);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *command = argv[1];
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 || strcmp(command, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(command, "--version") == 0) {
        printf("oclinit %d.%d.%d\n", OCLINIT_VERSION_MAJOR, OCLINIT_VERSION_MINOR, OCLINIT_VERSION_PATCH);
        return 0;
    }
    if (!reserve_openblas_buffer()) {
        fprintf(stderr,
                "oclinit %s: error: out of host memory: this process may use only %zu MiB (ulimit -v or -d), too "
                "little for OpenBLAS's 128 MiB buffer beside oclinit (the host C path needs about 256 MiB, an OpenCL "
                "driver such as PoCL about 1 GiB)\n",
                command, oi_memory_limit() >> 20);
        return 1;
    }
    /* Under mpirun every rank joins the job first; a command that does not share its work refuses more than one. */
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        bool shares; /* its ranks split the work (host/dist) */
    } commands[] = {
        {"devices", command_devices, false},     {"init", command_init, false},
        {"normalize", command_normalize, false}, {"experiment", command_experiment, false},
        {"train", command_train, true},          {"predict", command_predict, false},
        {"tune", command_tune, false},           {"bench", command_bench, false},
        {"inspect", command_inspect, false},     {"model", command_model, true},
    };
    for (size_t i = 0; i < OI_COUNT(commands); i++) {
        if (strcmp(command, commands[i].name) != 0) continue;
        if (oi_dist_init() != OCLINIT_SUCCESS) {
            fprintf(stderr, "oclinit %s: error: cannot join the MPI job: %s\n", command, oclinit_error_get_detail());
            return EXIT_FAILURE;
        }
        int code;
        if (oi_dist_size() > 1 && !commands[i].shares) {
            if (oi_dist_rank() == 0)
                fprintf(stderr,
                        "oclinit %s: does not share its work between MPI ranks; run it without mpirun, or with "
                        "-np 1\n",
                        command);
            code = EXIT_USAGE;
        } else {
            oi_runtime_set_local_rank((unsigned)oi_dist_local_rank());
            code = commands[i].run(argc - 1, argv + 1);
        }
        oi_dist_finalize();
        return code;
    }
    fprintf(stderr, "oclinit: unknown command \"%s\"\n\n", command);
    usage(stderr);
    return EXIT_USAGE;
}
