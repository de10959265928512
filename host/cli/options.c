#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool parse_int64(const char *command, const char *option, const char *text, int64_t *value) {
    char *end;
    errno = 0;
    long long parsed = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE) {
        fprintf(stderr, "oclinit %s: --%s needs a whole number, got \"%s\"\n", command, option, text);
        return false;
    }
    *value = parsed;
    return true;
}

bool parse_count(const char *command, const char *option, const char *text, int64_t minimum, int64_t *value) {
    if (!parse_int64(command, option, text, value)) return false;
    if (*value >= minimum) return true;
    fprintf(stderr, "oclinit %s: --%s must be >= %lld, got %s\n", command, option, (long long)minimum, text);
    return false;
}

bool parse_uint64(const char *command, const char *option, const char *text, uint64_t *value) {
    char *end;
    errno = 0;
    unsigned long long parsed = strtoull(text, &end, 0);
    if (end == text || *end != '\0' || errno == ERANGE || text[0] == '-') {
        fprintf(stderr, "oclinit %s: --%s needs a whole number from 0 to 2^64-1 (decimal or 0x hex), got \"%s\"\n",
                command, option, text);
        return false;
    }
    *value = parsed;
    return true;
}

bool parse_double(const char *command, const char *option, const char *text, double *value) {
    char *end;
    errno = 0;
    double parsed = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(parsed)) {
        fprintf(stderr, "oclinit %s: --%s needs a finite number, got \"%s\"\n", command, option, text);
        return false;
    }
    *value = parsed;
    return true;
}

bool parse_separator(const char *command, const char *text, char *separator) {
    if (strcmp(text, "tab") == 0 || strcmp(text, "\\t") == 0 || strcmp(text, "\t") == 0)
        *separator = '\t';
    else if (strcmp(text, ",") == 0 || strcmp(text, ";") == 0)
        *separator = text[0];
    else {
        fprintf(stderr, "oclinit %s: --separator must be , ; or tab, got \"%s\"\n", command, text);
        return false;
    }
    return true;
}

void report_failure(const char *command, oclinit_status status) {
    const char *detail = oclinit_error_get_detail();
    fprintf(stderr, "oclinit %s: error: %s%s%s\n", command, oclinit_status_str(status), *detail ? ": " : "", detail);
}

void report_tuning(const char *command, oclinit_runtime_t runtime, bool gemm_matters) {
    char message[1536];
    oclinit_tuning_state state = oclinit_tuning_check(oclinit_runtime_get_device(runtime), message, sizeof message);
    if (state == OCLINIT_TUNING_IGNORED)
        fprintf(stderr, "oclinit %s: warning: %s\n", command, message);
    else if (state == OCLINIT_TUNING_NONE && gemm_matters && oclinit_runtime_get_context(runtime))
        fprintf(stderr,
                "oclinit %s: warning: CLBlast has no tuned parameters for %s here; `oclinit tune` finds some "
                "(several times faster GEMM on PoCL)\n",
                command, oclinit_runtime_get_device(runtime)->name);
}

void options_reset(void) {
    opterr = 0; /* the messages below name the command */
    optind = 1;
}

int next_option(const char *command, int argc, char **argv, const struct option *options) {
    int id = getopt_long(argc, argv, ":h", options, NULL);
    if (id == ':')
        fprintf(stderr, "oclinit %s: %s needs a value\n", command, argv[optind - 1]);
    else if (id == '?')
        fprintf(stderr, "oclinit %s: unknown option %s (see oclinit %s --help)\n", command, argv[optind - 1], command);
    else if (id == -1 && optind < argc)
        fprintf(stderr, "oclinit %s: unexpected argument \"%s\" (see oclinit %s --help)\n", command, argv[optind],
                command);
    else
        return id;
    return OPTION_INVALID;
}
