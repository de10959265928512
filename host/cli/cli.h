/* The oclinit command-line tool: one file per command, shared option parsing and progress display. */
#ifndef OCLINIT_CLI_H
#define OCLINIT_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "oclinit.h"

/* Exit codes: 0 success, 1 the work failed, 2 the command line is wrong, 130 interrupted. */
enum { EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

int command_devices(int argc, char **argv);
int command_init(int argc, char **argv);
int command_normalize(int argc, char **argv);

/* Strict number parsing: the whole text must be a number in range; on failure prints
 * "oclinit <command>: --<option> ..." and returns false. */
bool parse_int64(const char *command, const char *option, const char *text, int64_t *value);
bool parse_uint64(const char *command, const char *option, const char *text, uint64_t *value);
bool parse_double(const char *command, const char *option, const char *text, double *value);

/* Prints "oclinit <command>: error: <status>: <detail>" to stderr. */
void report_failure(const char *command, oclinit_status status);

/* A progress bar on stderr when it is a terminal; its callback also cancels on SIGINT. */
typedef struct progress {
    bool enabled;
    const char *label;
    double start, last_draw;
} progress;

void progress_start(progress *p, const char *label, bool quiet);
int progress_update(void *progress, uint64_t done, uint64_t total);
void progress_finish(progress *p);
bool interrupted(void);
double seconds_now(void);

#endif
