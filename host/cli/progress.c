#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* SIGINT while a progress display is live (the work polls it through the callbacks) cancels the work, which
 * then removes its files and exits 130. Any other signal that ends the process, and SIGINT when nothing polls
 * or again a second or more after the first, first removes the temporary files of outputs being written. Sooner
 * it is the same interrupt delivered twice: `timeout` and `kill -INT -PGID` signal the process and its group, and
 * a watching parent (main.c) forwards what it gets; taken as a second Ctrl-C, it left a half-made directory. */
static volatile sig_atomic_t interrupt_seen = 0, polling = 0;
static struct timespec first_interrupt;

static void on_signal(int signal_number) {
    if (signal_number == SIGINT && polling) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now); /* async-signal-safe */
        if (!interrupt_seen) {
            first_interrupt = now;
            interrupt_seen = 1;
            return;
        }
        if ((double)(now.tv_sec - first_interrupt.tv_sec) + 1e-9 * (double)(now.tv_nsec - first_interrupt.tv_nsec) <
            1.0)
            return;
    }
    oi_output_remove_temporaries();
    struct sigaction action = {0};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    sigaction(signal_number, &action, NULL);
    raise(signal_number); /* blocked until the handler returns, then fatal as it would have been */
}

void catch_signals(void) {
    static const int fatal[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU, SIGXFSZ};
    static bool installed = false;
    if (installed) return;
    installed = true;
    struct sigaction action = {0};
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART; /* the drivers' and compilers' system calls must not fail with EINTR */
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        struct sigaction previous;
        /* A signal ignored by whoever started us (nohup, a shell's background job) stays ignored. */
        if (sigaction(fatal[i], NULL, &previous) == 0 && previous.sa_handler != SIG_IGN)
            sigaction(fatal[i], &action, NULL);
    }
}

bool interrupted(void) {
    return interrupt_seen;
}

int failure_exit_code(oclinit_status status) {
    return status == OCLINIT_ERROR_CANCELLED || interrupt_seen ? EXIT_INTERRUPTED : EXIT_FAILURE;
}

void progress_start(progress *p, const char *label, bool quiet) {
    catch_signals();
    polling = 1;
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->label = label;
    p->start = p->last_draw = oi_clock_seconds();
}

/* Each redraw is on the line of the one before and may be shorter (fewer digits, a shorter detail): erasing to the
 * end of the line removes what is left of the longer one. The bar is drawn only on a terminal, which takes it. */
#define CLEAR_TO_END "\033[K"

static void human_bytes(double bytes, char *text, size_t size) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) bytes /= 1024, u++;
    snprintf(text, size, "%.1f %s", bytes, units[u]);
}

int progress_update(void *user, const oclinit_progress *so_far) {
    progress *p = user;
    uint64_t done = so_far->done, total = so_far->total;
    if (interrupt_seen) return 1;
    double now = oi_clock_seconds();
    if (!p->enabled || (done < total && now - p->last_draw < 0.1)) return 0;
    p->last_draw = now;
    double fraction = total ? (double)done / (double)total : 1.0, elapsed = now - p->start;
    char bar[31], written[32], whole[32];
    int filled = (int)(fraction * 30);
    for (int i = 0; i < 30; i++) bar[i] = i < filled ? '#' : '.';
    bar[30] = '\0';
    human_bytes((double)done * sizeof(float), written, sizeof written);
    human_bytes((double)total * sizeof(float), whole, sizeof whole);
    double rate = elapsed > 0 ? (double)done * sizeof(float) / elapsed / 1e9 : 0;
    double remaining = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
    fprintf(stderr, "\r%s [%s] %3.0f%%  %s of %s  %.2f GB/s  %3.0f s left" CLEAR_TO_END, p->label, bar, fraction * 100,
            written, whole, rate, remaining);
    fflush(stderr);
    return 0;
}

int progress_iterations(progress *p, size_t done, size_t total, double cost, double accuracy) {
    if (interrupt_seen) return 1;
    double now = oi_clock_seconds();
    if (!p->enabled || (done < total && now - p->last_draw < 0.1)) return 0;
    p->last_draw = now;
    double fraction = total ? (double)done / (double)total : 1.0, elapsed = now - p->start;
    char bar[21];
    int filled = (int)(fraction * 20);
    for (int i = 0; i < 20; i++) bar[i] = i < filled ? '#' : '.';
    bar[20] = '\0';
    double rate = elapsed > 0 ? (double)done / elapsed : 0, remaining = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\r%s [%s] %zu/%zu  cost %.4g  accuracy %.3f  %.0f it/s  %3.0f s left" CLEAR_TO_END, p->label, bar,
            done, total, cost, accuracy, rate, remaining);
    fflush(stderr);
    return 0;
}

int progress_status(progress *p, double fraction, const char *detail) {
    if (interrupt_seen) return 1;
    double now = oi_clock_seconds();
    if (!p->enabled || (fraction < 1 && now - p->last_draw < 0.1)) return 0;
    p->last_draw = now;
    char bar[21];
    int filled = (int)(fmin(fmax(fraction, 0), 1) * 20);
    for (int i = 0; i < 20; i++) bar[i] = i < filled ? '#' : '.';
    bar[20] = '\0';
    fprintf(stderr, "\r%s [%s] %3.0f s  %s" CLEAR_TO_END, p->label, bar, now - p->start, detail);
    fflush(stderr);
    return 0;
}

void progress_finish(progress *p) {
    polling = 0;
    if (p->enabled) fputc('\n', stderr);
}
