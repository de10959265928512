#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool parse_int64(const char *command, const char *option, const char *text, int64_t *value) {
    char *end;
    errno = 0;
    long long parsed = strtoll(text, &end, 10);
    if (end != text && *end == '\0' && errno == ERANGE) {
        fprintf(stderr, "oclinit %s: --%s needs a whole number of magnitude at most %lld, got \"%s\"\n", command,
                option, LLONG_MAX, text);
        return false;
    }
    if (end == text || *end != '\0') {
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
    if (end != text && *end == '\0' && errno == ERANGE && fabs(parsed) <= DBL_MIN) {
        fprintf(stderr, "oclinit %s: --%s is too small for a double (it would become 0), got \"%s\"\n", command, option,
                text);
        return false;
    }
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(parsed)) {
        fprintf(stderr, "oclinit %s: --%s needs a finite number, got \"%s\"\n", command, option, text);
        return false;
    }
    *value = parsed;
    return true;
}

bool parse_float32(const char *command, const char *option, const char *text, bool keep_nonzero, double *value) {
    if (!parse_double(command, option, text, value)) return false;
    if (fabs(*value) > FLT_MAX) {
        fprintf(stderr, "oclinit %s: --%s must be a float32 number (magnitude at most %g), got \"%s\"\n", command,
                option, (double)FLT_MAX, text);
        return false;
    }
    if (keep_nonzero && *value != 0 && (float)*value == 0) {
        fprintf(stderr,
                "oclinit %s: --%s is too small for float32 (it would become 0; the smallest is %g), got \"%s\"\n",
                command, option, (double)FLT_TRUE_MIN, text);
        return false;
    }
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
    if (interrupted() && status != OCLINIT_ERROR_CANCELLED) {
        fprintf(stderr, "oclinit %s: cancelled (interrupted; then %s%s%s)\n", command, oclinit_status_str(status),
                *detail ? ": " : "", detail);
        return;
    }
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

/* Why getopt_long refused "--name[=value]": a prefix of several options, a value for one that takes none, or no
 * such option. Options sharing an id are one option under several names. */
static void explain_long_option(const char *command, const char *arg, const struct option *options) {
    const char *name = arg + 2, *equals = strchr(name, '=');
    size_t length = equals ? (size_t)(equals - name) : strlen(name);
    const struct option *found = NULL;
    char candidates[512] = "";
    size_t used = 0, count = 0;
    for (const struct option *o = options; length > 0 && o->name; o++) {
        if (strncmp(o->name, name, length) != 0) continue;
        if (o->name[length] == '\0') { /* an exact name is never ambiguous */
            found = o;
            count = 1;
            break;
        }
        bool alias = false;
        for (const struct option *p = options; p < o; p++)
            alias |= p->val == o->val && strncmp(p->name, name, length) == 0;
        if (alias) continue;
        found = o;
        count++;
        if (used < sizeof candidates)
            used +=
                (size_t)snprintf(candidates + used, sizeof candidates - used, "%s--%s", count > 1 ? ", " : "", o->name);
    }
    if (count > 1)
        fprintf(stderr, "oclinit %s: ambiguous option --%.*s: could be %s (see oclinit %s --help)\n", command,
                (int)length, name, candidates, command);
    else if (count == 1 && equals && found->has_arg == no_argument)
        fprintf(stderr, "oclinit %s: --%s takes no value, got \"%s\"\n", command, found->name, arg);
    else
        fprintf(stderr, "oclinit %s: unknown option %s (see oclinit %s --help)\n", command, arg, command);
}

int next_option(const char *command, int argc, char **argv, const struct option *options) {
    int id = getopt_long(argc, argv, ":h", options, NULL);
    if (id == ':')
        fprintf(stderr, "oclinit %s: %s needs a value\n", command, argv[optind - 1]);
    else if (id == '?' && strncmp(argv[optind - 1], "--", 2) == 0)
        explain_long_option(command, argv[optind - 1], options);
    else if (id == '?')
        fprintf(stderr, "oclinit %s: unknown option %s (see oclinit %s --help)\n", command, argv[optind - 1], command);
    else if (id == -1 && optind < argc)
        fprintf(stderr, "oclinit %s: unexpected argument \"%s\" (see oclinit %s --help)\n", command, argv[optind],
                command);
    else
        return id;
    return OPTION_INVALID;
}

bool parse_chunk_mib(const char *command, const char *text, int64_t *mib) {
    if (!parse_count(command, "chunk-mib", text, 1, mib)) return false;
    if ((uint64_t)*mib <= SIZE_MAX >> 20) return true;
    fprintf(stderr, "oclinit %s: --chunk-mib is too large (at most %zu), got %s\n", command, SIZE_MAX >> 20, text);
    return false;
}
