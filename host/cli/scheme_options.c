/* The scheme options of init and train (--value, --std, --gain, --nonlinearity, ...): parsed the same way and
 * checked against the scheme they are given with. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The CLI's scheme option ids and the library's options (features/init/scheme.c says which scheme takes which). */
static const oi_scheme_option option_of[SCHEME_OPTION_COUNT] = {
    [OPT_VALUE - OPT_VALUE] = OI_OPTION_VALUE,
    [OPT_MEAN - OPT_VALUE] = OI_OPTION_MEAN,
    [OPT_STD - OPT_VALUE] = OI_OPTION_STD,
    [OPT_A - OPT_VALUE] = OI_OPTION_A,
    [OPT_B - OPT_VALUE] = OI_OPTION_B,
    [OPT_SCALE - OPT_VALUE] = OI_OPTION_SCALE,
    [OPT_GAIN - OPT_VALUE] = OI_OPTION_GAIN,
    [OPT_NEGATIVE_SLOPE - OPT_VALUE] = OI_OPTION_NEGATIVE_SLOPE,
    [OPT_MODE - OPT_VALUE] = OI_OPTION_MODE,
    [OPT_NONLINEARITY - OPT_VALUE] = OI_OPTION_NONLINEARITY,
    [OPT_DISTRIBUTION - OPT_VALUE] = OI_OPTION_DISTRIBUTION,
    [OPT_SPARSITY - OPT_VALUE] = OI_OPTION_SPARSITY,
    [OPT_GROUPS - OPT_VALUE] = OI_OPTION_GROUPS,
    [OPT_CONVENTION - OPT_VALUE] = OI_OPTION_CONVENTION,
};

int scheme_option(const char *command, int id, const char *arg, scheme_args *args) {
    if (id < OPT_VALUE || id >= OPT_VALUE + SCHEME_OPTION_COUNT) return 0;
    const char *name = oi_scheme_option_name(option_of[id - OPT_VALUE]);
    bool ok = true;
    /* A std or a bound that rounds to 0 would change the distribution, or make it invalid. */
    switch (id) {
    case OPT_VALUE: ok = parse_float32(command, name, arg, false, &args->value); break;
    case OPT_MEAN: ok = parse_float32(command, name, arg, false, &args->mean); break;
    case OPT_STD: ok = parse_float32(command, name, arg, true, &args->std); break;
    case OPT_A: ok = parse_float32(command, name, arg, true, &args->a); break;
    case OPT_B: ok = parse_float32(command, name, arg, true, &args->b); break;
    case OPT_SCALE: ok = parse_double(command, name, arg, &args->scale); break;
    case OPT_GAIN: ok = parse_double(command, name, arg, &args->gain); break;
    case OPT_NEGATIVE_SLOPE: ok = parse_double(command, name, arg, &args->negative_slope); break;
    case OPT_SPARSITY: ok = parse_double(command, name, arg, &args->sparsity); break;
    case OPT_GROUPS: ok = parse_count(command, name, arg, 1, &args->groups); break;
    case OPT_CONVENTION: args->convention = arg; break;
    case OPT_MODE: args->mode = arg; break;
    case OPT_NONLINEARITY: args->nonlinearity = arg; break;
    default: args->distribution = arg; break;
    }
    args->given[id - OPT_VALUE] = true;
    return ok ? 1 : -1;
}

bool scheme_build(const char *command, const char *name, const scheme_args *args, oclinit_scheme *scheme) {
    oclinit_scheme_kind kind;
    if (oclinit_scheme_kind_parse(name, &kind) != OCLINIT_SUCCESS) {
        fprintf(stderr, "oclinit %s: %s\n", command, oclinit_error_get_detail());
        return false;
    }
    for (int i = 0; i < SCHEME_OPTION_COUNT; i++) {
        if (args->given[i] && !oi_scheme_option_applies(option_of[i], kind)) {
            fprintf(stderr, "oclinit %s: --%s does not apply to scheme %s (see oclinit init --help)\n", command,
                    oi_scheme_option_name(option_of[i]), oclinit_scheme_kind_str(kind));
            return false;
        }
    }
    const char *meaning;
    oi_scheme_option required = oi_scheme_required_option(kind, &meaning);
    for (int i = 0; i < SCHEME_OPTION_COUNT; i++) {
        if (option_of[i] != required || args->given[i]) continue;
        fprintf(stderr, "oclinit %s: scheme %s needs --%s%s%s%s\n", command, oclinit_scheme_kind_str(kind),
                oi_scheme_option_name(required), *meaning ? " (" : "", meaning, *meaning ? ")" : "");
        return false;
    }
    oclinit_scheme s = oclinit_scheme_default(kind);
    const bool *given = args->given;
    if (given[OPT_VALUE - OPT_VALUE]) s.value = args->value;
    if (given[OPT_MEAN - OPT_VALUE]) s.mean = args->mean;
    if (given[OPT_STD - OPT_VALUE]) s.std = args->std;
    if (given[OPT_A - OPT_VALUE]) s.a = args->a;
    if (given[OPT_B - OPT_VALUE]) s.b = args->b;
    if (given[OPT_SCALE - OPT_VALUE]) s.scale = args->scale;
    if (given[OPT_GAIN - OPT_VALUE]) s.gain = args->gain;
    if (given[OPT_NEGATIVE_SLOPE - OPT_VALUE]) s.negative_slope = args->negative_slope;
    if (given[OPT_SPARSITY - OPT_VALUE]) s.sparsity = args->sparsity;
    if (given[OPT_GROUPS - OPT_VALUE]) s.groups = args->groups;
    if ((args->mode && oclinit_fan_mode_parse(args->mode, &s.mode) != OCLINIT_SUCCESS) ||
        (args->nonlinearity && oclinit_nonlinearity_parse(args->nonlinearity, &s.nonlinearity) != OCLINIT_SUCCESS) ||
        (args->distribution &&
         oclinit_distribution_kind_parse(args->distribution, &s.distribution) != OCLINIT_SUCCESS) ||
        (args->convention && oclinit_convention_parse(args->convention, &s.convention) != OCLINIT_SUCCESS)) {
        fprintf(stderr, "oclinit %s: %s\n", command, oclinit_error_get_detail());
        return false;
    }
    *scheme = s;
    return true;
}
