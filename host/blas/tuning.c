/* CLBlast tuned for the device it runs on.
 *
 * CLBlast takes its GEMM kernel's parameters (tile sizes, work-group shape, vector widths, local memory use)
 * from a database of devices it was tuned on; any other device, PoCL's CPU device among them, gets generic
 * ones, far below OpenBLAS on a CPU. oclinit_tuning_run searches the parameters of CLBlast's
 * main GEMM kernel, Xgemm, through CLBlastOverrideParameters: each candidate is timed at the shapes oclinit
 * multiplies and its products are checked against OpenBLAS. The best goes into a per-device cache file, applied
 * before the first product on that device. CLBlast's own tuners (clblast-utils) time one square shape over
 * hundreds of candidates, each a fresh kernel compilation of seconds on PoCL; a hill climb from starting points
 * derived from what the device reports (oi_tuning_seeds) needs a few dozen, within a budget it keeps. */
#include <clblast_c.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "blas/blas.h"
#include "philox.h"

/* ---- The parameters of the Xgemm kernel, and the values searched ---- */

enum {
    P_GEMMK,
    P_KREG,
    P_KWG,
    P_KWI,
    P_MDIMA,
    P_MDIMC,
    P_MWG,
    P_NDIMB,
    P_NDIMC,
    P_NWG,
    P_SA,
    P_SB,
    P_STRM,
    P_STRN,
    P_VWM,
    P_VWN,
    P_COUNT
};
static const char *parameter_names[P_COUNT] = {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
                                               "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM", "VWN"};

_Static_assert((int)P_COUNT == (int)OI_XGEMM_PARAMETERS, "blas.h lists Xgemm's parameters");

/* CLBlast's tuner's values for GEMMK=0, plus work-groups of 1 to 4 and 16-wide vectors, which suit CPUs. */
static const size_t zero[] = {0}, one[] = {1}, flags[] = {0, 1}, tiles[] = {16, 32, 64, 128}, k_tiles[] = {16, 32},
                    threads[] = {1, 2, 4, 8, 16, 32}, k_unroll[] = {2, 8}, vectors[] = {1, 2, 4, 8, 16};
static const struct {
    const size_t *values;
    size_t count;
} searched[P_COUNT] = {
#define SEARCHED(values)                                                                                               \
    { values, OI_COUNT(values) }
    [P_GEMMK] = SEARCHED(zero),   [P_KREG] = SEARCHED(one),      [P_KWG] = SEARCHED(k_tiles),
    [P_KWI] = SEARCHED(k_unroll), [P_MDIMA] = SEARCHED(threads), [P_MDIMC] = SEARCHED(threads),
    [P_MWG] = SEARCHED(tiles),    [P_NDIMB] = SEARCHED(threads), [P_NDIMC] = SEARCHED(threads),
    [P_NWG] = SEARCHED(tiles),    [P_SA] = SEARCHED(flags),      [P_SB] = SEARCHED(flags),
    [P_STRM] = SEARCHED(flags),   [P_STRN] = SEARCHED(flags),    [P_VWM] = SEARCHED(vectors),
    [P_VWN] = SEARCHED(vectors),
#undef SEARCHED
};

/* What `oclinit tune` writes besides Xgemm's parameters: the cube side from which CLBlast uses the tuned kernel
 * (choose_indirect_size; the last when it never wins), and the panel budget by which host/gemm.c splits K
 * (choose_panel; 0: never). A cache file may hold any budget in a range, which tests use to split small products. */
static const size_t indirect_sides[] = {64, 128, 192, 256, 384, 512, 768, 1024},
                    panels[] = {0, 1 << 22, 1 << 21, 1 << 20};
enum { PANEL_LOWEST = 1 << 10, PANEL_HIGHEST = 1 << 24 };

/* Neighbours of a configuration: one parameter, or two that go together, one step up or down its list. */
static const int moves[][2] = {{P_MWG, P_NWG}, {P_VWM, P_VWN}, {P_SA, P_SB}, {P_MDIMC, P_NDIMC}, {P_MWG, -1},
                               {P_NWG, -1},    {P_VWM, -1},    {P_VWN, -1},  {P_KWG, -1},        {P_MDIMC, -1},
                               {P_NDIMC, -1},  {P_SA, -1},     {P_SB, -1},   {P_STRM, -1},       {P_STRN, -1},
                               {P_KWI, -1},    {P_MDIMA, -1},  {P_NDIMB, -1}};

/* The constraints of the kernel (CLBlast's xgemm.opencl): tiles split evenly over work-items and vectors, the
 * local-memory tiles fit. Without local memory for A (SA=0) MDIMA is unused; it is tied to MDIMC so that the
 * same kernel is not tried twice, likewise NDIMB; with one work-item along M, strided and contiguous access
 * (STRM) are the same, likewise STRN. */
static bool config_valid(oi_xgemm_config *c, size_t local_memory, size_t max_group) {
    size_t *v = c->v;
    if (!v[P_SA]) v[P_MDIMA] = v[P_MDIMC];
    if (!v[P_SB]) v[P_NDIMB] = v[P_NDIMC];
    if (v[P_MDIMC] == 1) v[P_STRM] = 0;
    if (v[P_NDIMC] == 1) v[P_STRN] = 0;
    size_t group = v[P_MDIMC] * v[P_NDIMC];
    return group <= max_group && v[P_MWG] % (v[P_MDIMC] * v[P_VWM]) == 0 && v[P_NWG] % (v[P_NDIMC] * v[P_VWN]) == 0 &&
           v[P_MWG] % (v[P_MDIMA] * v[P_VWM]) == 0 && v[P_NWG] % (v[P_NDIMB] * v[P_VWN]) == 0 &&
           group % v[P_MDIMA] == 0 && group % v[P_NDIMB] == 0 && v[P_KWG] % (group / v[P_MDIMA]) == 0 &&
           v[P_KWG] % (group / v[P_NDIMB]) == 0 && v[P_KWG] % v[P_KWI] == 0 &&
           (v[P_SA] * v[P_KWG] * v[P_MWG] + v[P_SB] * v[P_KWG] * v[P_NWG]) * sizeof(float) <= local_memory;
}

void oi_xgemm_config_text(const oi_xgemm_config *c, char *text, size_t size) {
    size_t used = (size_t)snprintf(text, size, "Xgemm");
    for (int p = 0; p < P_COUNT && used < size; p++)
        used += (size_t)snprintf(text + used, size - used, " %s=%zu", parameter_names[p], c->v[p]);
}

/* ---- Where the search starts: derived from what the device reports ---- */

/* The largest of values at most x (values ascending), or the first. */
static size_t at_most(size_t x, const size_t *values, size_t count) {
    size_t chosen = values[0];
    for (size_t i = 0; i < count; i++)
        if (values[i] <= x) chosen = values[i];
    return chosen;
}

static oi_xgemm_config xgemm(size_t mdimc, size_t ndimc, size_t mwg, size_t nwg, size_t kwg, size_t kwi, size_t local,
                             size_t vwm, size_t vwn) {
    return (oi_xgemm_config){{[P_KREG] = 1,
                              [P_KWG] = kwg,
                              [P_KWI] = kwi,
                              [P_MDIMA] = mdimc,
                              [P_MDIMC] = mdimc,
                              [P_MWG] = mwg,
                              [P_NDIMB] = ndimc,
                              [P_NDIMC] = ndimc,
                              [P_NWG] = nwg,
                              [P_SA] = local,
                              [P_SB] = local,
                              [P_VWM] = vwm,
                              [P_VWN] = vwn}};
}

/* Whether every value is one the search may choose (and a cache file may hold). */
static bool in_search(const oi_xgemm_config *c) {
    for (int p = 0; p < P_COUNT; p++) {
        size_t i = 0;
        while (i < searched[p].count && searched[p].values[i] != c->v[p]) i++;
        if (i == searched[p].count) return false;
    }
    return true;
}

/* Work-groups of a configuration over C of the smallest tuned shape, 1024 x 512. */
static size_t groups_at_smallest(const oi_xgemm_config *c) {
    return (1024 / c->v[P_MWG]) * (512 / c->v[P_NWG]);
}

/* CPUs (PoCL runs a work-group as a loop on one core, a work-item's lanes as SIMD): each work-item holds a tile of C
 * in vector registers, MWI = one vector of the hardware's width down M by NWI across N, NWI accumulators (16 with
 * AVX-512's 32 registers, 8 with 16 registers: AVX2, SSE, NEON), leaving the rest for A and B; a few work-items
 * per group, 2 x 2 and 4 x 4. Local memory only where the device has its own: PoCL emulates it in global memory,
 * and its barriers make every accumulator go to memory at each step (twice as slow; bench/README.md).
 * GPUs: 16 x 16 work-groups on 128 x 128 tiles and 8 x 8 on 64 x 64 (16 x 16 on 64 x 64 too), 4-wide vectors
 * (their lanes are scalar: vectors only widen loads, and 16 bytes is what every GPU loads at once), local memory
 * when the device has it. Tiles that leave fewer work-groups than compute units at the smallest shape go last;
 * seeds that the device's work-group size or local memory cannot hold are left out. */
size_t oi_tuning_seeds(const oi_tuning_device *d, oi_xgemm_config seeds[OI_TUNING_MAX_SEEDS]) {
    oi_xgemm_config candidates[OI_TUNING_MAX_SEEDS];
    size_t count = 0, kept = 0, local = d->local_memory_dedicated ? 1 : 0;
    if (d->gpu) {
        size_t width = at_most(d->native_width > 4 ? d->native_width : 4, vectors, OI_COUNT(vectors));
        candidates[count++] = xgemm(16, 16, 128, 128, 16, 2, local, width, width);
        candidates[count++] = xgemm(8, 8, 64, 64, 16, 2, local, width, width);
        candidates[count++] = xgemm(16, 16, 64, 64, 16, 2, local, width, width);
    } else {
        size_t width = at_most(d->native_width ? d->native_width : d->preferred_width, vectors, OI_COUNT(vectors));
        size_t mwi = width, nwi = width >= 16 ? 16 : 8;
        for (size_t items = 2; items <= 4; items *= 2) {
            size_t mdimc = mwi * items >= 16 ? items : 16 / mwi, ndimc = nwi * items >= 16 ? items : 16 / nwi;
            candidates[count++] = xgemm(mdimc, ndimc, mdimc * mwi, ndimc * nwi, 32, 8, 0, width, width);
        }
        if (local) {
            candidates[count] = candidates[0];
            candidates[count].v[P_SA] = candidates[count].v[P_SB] = 1;
            count++;
        }
    }
    /* Those with enough work-groups first (a stable partition), then the rest; only those that fit the device. */
    for (int enough = 1; enough >= 0; enough--)
        for (size_t i = 0; i < count; i++) {
            oi_xgemm_config c = candidates[i];
            if ((groups_at_smallest(&c) >= d->compute_units) == (enough == 1) &&
                config_valid(&c, d->local_memory, d->max_group) && in_search(&c))
                seeds[kept++] = c;
        }
    /* A device with small work-groups or no local memory to speak of: 4 x 4 work-items, else one. */
    oi_xgemm_config small = xgemm(4, 4, 32, 32, 16, 2, 0, 4, 4), one_item = xgemm(1, 1, 16, 16, 16, 2, 0, 1, 1);
    if (kept == 0) seeds[kept++] = config_valid(&small, d->local_memory, d->max_group) ? small : one_item;
    return kept;
}

/* ---- The cache file: one line per kernel, "Xgemm GEMMK=0 KREG=1 ...", '#' starts a comment ---- */

enum { MAX_KERNELS = 8, MAX_PARAMETERS = 32, NAME_SIZE = 32 };

/* The file's one line that is oclinit's rather than a CLBlast kernel's: "oclinit GEMM_PANEL=N" (host/gemm.c). */
#define OWN_LINE "oclinit"
#define PANEL "GEMM_PANEL"

typedef struct tuned_kernel {
    char name[NAME_SIZE];
    size_t count;
    char parameter[MAX_PARAMETERS][NAME_SIZE];
    size_t value[MAX_PARAMETERS];
} tuned_kernel;

static bool is_name_char(char c) {
    return isalnum((unsigned char)c) || c == '_';
}

/* Copies a name of [A-Za-z0-9_] at *text into name, advancing; false if there is none or it is too long. */
static bool take_name(const char **text, char name[NAME_SIZE]) {
    size_t n = 0;
    while (is_name_char((*text)[n])) n++;
    if (n == 0 || n >= NAME_SIZE) return false;
    memcpy(name, *text, n);
    name[n] = '\0';
    *text += n;
    return true;
}

static bool find_parameter(const tuned_kernel *k, const char *name, size_t *value) {
    for (size_t i = 0; i < k->count; i++)
        if (strcmp(k->parameter[i], name) == 0) return *value = k->value[i], true;
    return false;
}

/* The values `oclinit tune` may write for a parameter of a kernel: one of values, or any in [lowest, highest] when
 * highest is not 0. */
typedef struct tuned_values {
    const size_t *values;
    size_t count, lowest, highest;
} tuned_values;

/* False when `oclinit tune` writes no such parameter for that kernel (or no such kernel). */
static bool values_for(const char *kernel, const char *parameter, tuned_values *allowed) {
    static const size_t no_split[] = {0};
    *allowed = (tuned_values){0};
    if (strcmp(kernel, "Xgemm") == 0) {
        for (int p = 0; p < P_COUNT; p++)
            if (strcmp(parameter, parameter_names[p]) == 0)
                return *allowed = (tuned_values){searched[p].values, searched[p].count, 0, 0}, true;
    } else if (strcmp(kernel, "GemmRoutine") == 0 && strcmp(parameter, "XGEMM_MIN_INDIRECT_SIZE") == 0) {
        return *allowed = (tuned_values){indirect_sides, OI_COUNT(indirect_sides), 0, 0}, true;
    } else if (strcmp(kernel, OWN_LINE) == 0 && strcmp(parameter, PANEL) == 0) {
        return *allowed = (tuned_values){no_split, 1, PANEL_LOWEST, PANEL_HIGHEST}, true;
    }
    return false;
}

static bool value_allowed(const tuned_values *allowed, size_t value) {
    for (size_t i = 0; i < allowed->count; i++)
        if (allowed->values[i] == value) return true;
    return allowed->highest && value >= allowed->lowest && value <= allowed->highest;
}

static void allowed_text(const tuned_values *allowed, char *text, size_t size) {
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < allowed->count && used < size; i++)
        used += (size_t)snprintf(text + used, size - used, "%s%zu", i ? ", " : "", allowed->values[i]);
    if (allowed->highest && used < size)
        snprintf(text + used, size - used, ", or %zu to %zu", allowed->lowest, allowed->highest);
}

/* Whether the line just parsed, kernels[count], is one that `oclinit tune` writes: a kernel it tunes, once, with
 * each of its parameters once and a value its search can choose, and for Xgemm all of them, fitting together.
 * Anything else (a hand edit with tiles far beyond the search, say) could have CLBlast build a kernel that is
 * very slow or wrong. */
static bool kernel_allowed(const tuned_kernel *kernels, size_t count, size_t line, char *why, size_t why_size) {
    const tuned_kernel *k = &kernels[count];
    tuned_values allowed;
    char values[160];
    for (size_t i = 0; i < count; i++)
        if (strcmp(kernels[i].name, k->name) == 0)
            return snprintf(why, why_size, "line %zu: a second %s line", line, k->name), false;
    if (strcmp(k->name, "Xgemm") != 0 && strcmp(k->name, "GemmRoutine") != 0 && strcmp(k->name, OWN_LINE) != 0)
        return snprintf(why, why_size,
                        "line %zu: kernel %s is not one that `oclinit tune` writes (Xgemm, GemmRoutine, " OWN_LINE ")",
                        line, k->name),
               false;
    for (size_t i = 0; i < k->count; i++) {
        if (!values_for(k->name, k->parameter[i], &allowed))
            return snprintf(why, why_size, "line %zu: unknown parameter %s of %s", line, k->parameter[i], k->name),
                   false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(k->parameter[j], k->parameter[i]) == 0)
                return snprintf(why, why_size, "line %zu: %s is given twice", line, k->parameter[i]), false;
        if (!value_allowed(&allowed, k->value[i])) {
            allowed_text(&allowed, values, sizeof values);
            return snprintf(why, why_size, "line %zu: %s=%zu is not a value `oclinit tune` chooses (%s: %s)", line,
                            k->parameter[i], k->value[i], k->parameter[i], values),
                   false;
        }
    }
    if (strcmp(k->name, "Xgemm") != 0) return true;
    oi_xgemm_config c;
    for (int p = 0; p < P_COUNT; p++)
        if (!find_parameter(k, parameter_names[p], &c.v[p]))
            return snprintf(why, why_size, "line %zu: Xgemm lacks %s", line, parameter_names[p]), false;
    if (!config_valid(&c, SIZE_MAX, SIZE_MAX))
        return snprintf(why, why_size,
                        "line %zu: the Xgemm parameters do not fit together (each tile must split evenly over its "
                        "work-items and vector widths)",
                        line),
               false;
    return true;
}

static bool parse_cache(const char *text, tuned_kernel *kernels, size_t *count, char *why, size_t why_size) {
    *count = 0;
    for (size_t line = 1; *text; line++) {
        const char *end = strchr(text, '\n');
        if (!end) end = text + strlen(text);
        while (text < end && (*text == ' ' || *text == '\t' || *text == '\r')) text++;
        if (text < end && *text != '#') {
            tuned_kernel *k = &kernels[*count];
            if (*count == MAX_KERNELS)
                return snprintf(why, why_size, "line %zu: more than %d kernels", line, MAX_KERNELS), false;
            if (!take_name(&text, k->name)) return snprintf(why, why_size, "line %zu: no kernel name", line), false;
            k->count = 0;
            for (;;) {
                while (text < end && (*text == ' ' || *text == '\t' || *text == '\r')) text++;
                if (text == end) break;
                char *after;
                if (k->count == MAX_PARAMETERS)
                    return snprintf(why, why_size, "line %zu: more than %d parameters", line, MAX_PARAMETERS), false;
                if (!take_name(&text, k->parameter[k->count]) || *text != '=' || !isdigit((unsigned char)text[1]))
                    return snprintf(why, why_size, "line %zu: expected NAME=number", line), false;
                errno = 0;
                unsigned long long value = strtoull(text + 1, &after, 10);
                if (errno || value > (1u << 30) || (after < end && !isspace((unsigned char)*after)))
                    return snprintf(why, why_size, "line %zu: bad value for %s", line, k->parameter[k->count]), false;
                k->value[k->count++] = (size_t)value;
                text = after;
            }
            if (k->count == 0) return snprintf(why, why_size, "line %zu: %s has no parameters", line, k->name), false;
            if (!kernel_allowed(kernels, *count, line, why, why_size)) return false;
            (*count)++;
        }
        text = *end ? end + 1 : end;
    }
    if (*count == 0) return snprintf(why, why_size, "no kernel parameters in it"), false;
    return true;
}

static uint64_t fnv1a(uint64_t hash, const char *text) {
    for (; *text; text++) hash = (hash ^ (unsigned char)*text) * 1099511628211u;
    return (hash ^ 0xff) * 1099511628211u; /* a separator, so that ("ab", "c") and ("a", "bc") differ */
}

static oclinit_status cache_directory(char *path, size_t size) {
    const char *dir = getenv("OCLINIT_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (dir && *dir)
        n = snprintf(path, size, "%s", dir);
    else if (xdg && *xdg)
        n = snprintf(path, size, "%s/oclinit", xdg);
    else if (home && *home)
        n = snprintf(path, size, "%s/.cache/oclinit", home);
    else
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "no cache directory: set OCLINIT_CACHE_DIR or HOME");
    if (n < 0 || (size_t)n >= size)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the cache directory's path is too long");
    return OCLINIT_SUCCESS;
}

oclinit_status oclinit_tuning_get_path(const oclinit_device_info *device, char *path, size_t size) {
    OI_REQUIRE(device, "device");
    OI_REQUIRE(path, "path");
    if (size == 0) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: size is 0", __func__);
    if (device->type == OCLINIT_DEVICE_HOST)
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "the host C path runs OpenBLAS, which needs no tuning");
    oclinit_status status = cache_directory(path, size);
    if (status != OCLINIT_SUCCESS) return status;
    /* A readable part of the device's name, and a hash of all that identifies the device and its driver. */
    char slug[41];
    size_t n = 0;
    for (const char *c = device->name; *c && n + 1 < sizeof slug; c++)
        if (isalnum((unsigned char)*c))
            slug[n++] = (char)tolower((unsigned char)*c);
        else if (n > 0 && slug[n - 1] != '-')
            slug[n++] = '-';
    while (n > 0 && slug[n - 1] == '-') n--;
    slug[n] = '\0';
    uint64_t hash = fnv1a(fnv1a(fnv1a(14695981039346656037u, device->platform_name), device->name), device->version);
    size_t used = strlen(path);
    int written = snprintf(path + used, size - used, "/clblast-%s-%016llx.txt", slug, (unsigned long long)hash);
    if (written < 0 || (size_t)written >= size - used)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the cache file's path is too long");
    return OCLINIT_SUCCESS;
}

/* Reads and parses the device's cache file: NONE when there is none, IGNORED with why. */
static oclinit_tuning_state read_cache(const oclinit_device_info *device, tuned_kernel *kernels, size_t *count,
                                       char *why, size_t why_size) {
    char path[1024], reason[256] = "";
    char *text = NULL;
    size_t size;
    struct stat st;
    oclinit_tuning_state state = OCLINIT_TUNING_IGNORED;
    *count = 0;
    if (oclinit_tuning_get_path(device, path, sizeof path) != OCLINIT_SUCCESS) {
        snprintf(why, why_size, "no CLBlast cache file: %s", oclinit_error_get_detail());
        return OCLINIT_TUNING_NONE;
    }
    if (stat(path, &st) != 0 && errno == ENOENT) {
        snprintf(why, why_size, "no CLBlast cache file %s", path);
        return OCLINIT_TUNING_NONE;
    }
    if (oi_read_file(path, &text, &size) != OCLINIT_SUCCESS)
        snprintf(reason, sizeof reason, "%s", oclinit_error_get_detail());
    else if (strlen(text) != size)
        snprintf(reason, sizeof reason, "it is not a text file");
    else if (parse_cache(text, kernels, count, reason, sizeof reason))
        state = OCLINIT_TUNING_APPLIED;
    if (state == OCLINIT_TUNING_IGNORED)
        snprintf(why, why_size, "ignored the CLBlast cache file %s: %s (run `oclinit tune` to write it again)", path,
                 reason);
    free(text);
    return state;
}

oclinit_tuning_state oclinit_tuning_check(const oclinit_device_info *device, char *message, size_t size) {
    tuned_kernel kernels[MAX_KERNELS];
    char why[1536] = "";
    size_t count;
    if (message && size) message[0] = '\0';
    OI_REQUIRE_OR(device, "device", OCLINIT_TUNING_NONE);
    oclinit_tuning_state state = read_cache(device, kernels, &count, why, sizeof why);
    if (message && size) snprintf(message, size, "%s", state == OCLINIT_TUNING_IGNORED ? why : "");
    return state;
}

static oclinit_status override_kernel(cl_device_id device, const tuned_kernel *k) {
    const char *names[MAX_PARAMETERS];
    for (size_t i = 0; i < k->count; i++) names[i] = k->parameter[i];
    CLBlastStatusCode code =
        CLBlastOverrideParameters(device, k->name, CLBlastPrecisionSingle, k->count, names, k->value);
    if (code != CLBlastSuccess)
        return oi_fail(OCLINIT_ERROR_BLAS, "CLBlast refused the parameters of kernel %s (CLBlast code %d)", k->name,
                       (int)code);
    return OCLINIT_SUCCESS;
}

/* Applies the device's cache file to CLBlast and records how that went. */
static void load_cache(oclinit_runtime_t rt, oi_blas_state *state) {
    tuned_kernel kernels[MAX_KERNELS];
    size_t count;
    state->tuning = read_cache(&rt->info, kernels, &count, state->tuning_message, sizeof state->tuning_message);
    if (state->tuning == OCLINIT_TUNING_NONE) state->tuning_message[0] = '\0';
    size_t panel = 0;
    for (size_t i = 0; i < count && state->tuning == OCLINIT_TUNING_APPLIED; i++) {
        if (strcmp(kernels[i].name, OWN_LINE) == 0) {
            find_parameter(&kernels[i], PANEL, &panel);
        } else if (override_kernel(rt->device, &kernels[i]) != OCLINIT_SUCCESS) {
            char path[1024] = "";
            oclinit_tuning_get_path(&rt->info, path, sizeof path);
            snprintf(state->tuning_message, sizeof state->tuning_message,
                     "ignored the CLBlast cache file %s: %s (run `oclinit tune` to write it again)", path,
                     oclinit_error_get_detail());
            state->tuning = OCLINIT_TUNING_IGNORED;
        }
    }
    state->gemm_panel = state->tuning == OCLINIT_TUNING_APPLIED ? panel : 0;
    oi_clear_error();
}

static const char state_key; /* its address names blas's state on a runtime */

oclinit_status oi_blas_state_get(oclinit_runtime_t runtime, oi_blas_state **state) {
    void *data;
    oclinit_status status = oi_runtime_state(runtime, &state_key, sizeof **state, &data);
    if (status != OCLINIT_SUCCESS) return status;
    *state = data;
    if (!(*state)->loaded) load_cache(runtime, *state);
    (*state)->loaded = true;
    return OCLINIT_SUCCESS;
}

oclinit_tuning_state oclinit_tuning_get_state(oclinit_runtime_t runtime, const char **message) {
    if (message) *message = "";
    OI_REQUIRE_OR(runtime, "runtime", OCLINIT_TUNING_NONE);
    const oi_blas_state *state = oi_runtime_find_state(runtime, &state_key);
    if (message) *message = state ? state->tuning_message : "";
    return state ? state->tuning : OCLINIT_TUNING_NONE;
}

/* ---- Timing candidates ---- */

static const oi_gemm_shape shapes[OCLINIT_TUNING_SHAPES] = {
    {1024, 1024, 1024, false, false}, /* the usual square benchmark */
    {2048, 1024, 512, false, true},   /* the large network's forward pass: X W1^T */
    {2048, 1024, 1024, false, true},  /* A1 W2^T */
    {1024, 1024, 2048, true, false},  /* its backward pass: dW2 = dZ2^T A1 */
    {2048, 1024, 1024, false, false}, /* dA1 = dZ2 W2 */
    {1024, 512, 2048, true, false},   /* dW1 = dZ1^T X */
};

const oi_gemm_shape *oi_tuning_shapes(void) {
    return shapes;
}

typedef struct tuner {
    oclinit_runtime_t rt;
    oi_blas_state *state;
    cl_mem a, b, c;
    float *host_a, *host_b, *reference[OCLINIT_TUNING_SHAPES], *result;
    oi_tuning_device device;
    oi_xgemm_config *visited;
    size_t visited_count, visited_capacity;
    oclinit_tuning_report *report;
    double start, deadline; /* the run's: it ends by the deadline, the final choices and measurement included */
    double pass;            /* wall seconds of the latest whole time_shapes */
    double start_pass;      /* ... of the first, with the parameters in use */
    double best_pass;       /* ... of the latest with the best parameters */
    double longest;         /* wall seconds of the longest candidate so far (compilation, check, timing) */
    double cutoff;          /* a candidate's timing stops at this clock (+inf outside candidates) */
} tuner;

static double shape_flops(const oi_gemm_shape *s) {
    return 2.0 * (double)s->m * (double)s->n * (double)s->k;
}

static oclinit_status run_gemm(tuner *t, const oi_gemm_shape *s) {
    oclinit_status status = oi_gemm_device_packed(t->rt, s, t->a, t->b, t->c);
    cl_int error = status == OCLINIT_SUCCESS ? clFinish(t->rt->queue) : CL_SUCCESS;
    if (error != CL_SUCCESS) status = oi_fail(OCLINIT_ERROR_BLAS, "CLBlast SGEMM failed (OpenCL error %d)", (int)error);
    return status;
}

/* Seconds per product for each shape with the parameters in use: one untimed run (kernel compilation) whose
 * result is checked, then the fastest of at least 3 runs and 50 ms. Stops early (returning +inf) once the total
 * passes limit or the clock passes t->cutoff. Fails when CLBlast fails (OCLINIT_ERROR_BLAS or OpenCL's code) or a
 * product is wrong. */
static oclinit_status time_shapes(tuner *t, double limit, double seconds[OCLINIT_TUNING_SHAPES], double *total) {
    oclinit_status status = OCLINIT_SUCCESS;
    double pass_start = oi_clock_seconds();
    *total = 0;
    for (size_t i = 0; i < OCLINIT_TUNING_SHAPES; i++) seconds[i] = INFINITY;
    for (size_t i = 0; i < OCLINIT_TUNING_SHAPES; i++) {
        const oi_gemm_shape *s = &shapes[i];
        OI_CHECK(run_gemm(t, s));
        OI_CL_CHECK(
            clEnqueueReadBuffer(t->rt->queue, t->c, CL_TRUE, 0, s->m * s->n * sizeof(float), t->result, 0, NULL, NULL));
        /* Entries are sums of k products of N(0, 1) numbers; float rounding moves them by about k * 1e-7. */
        float tolerance = 1e-5f * (float)s->k;
        for (size_t e = 0; e < s->m * s->n; e++)
            if (!(fabsf(t->result[e] - t->reference[i][e]) <= tolerance))
                return oi_fail(OCLINIT_ERROR_BLAS, "wrong product: entry %zu of %zu x %zu x %zu is %g, not %g", e, s->m,
                               s->n, s->k, t->result[e], t->reference[i][e]);
        /* The fastest of the runs: other work on the machine only ever slows a run down. */
        double begin = oi_clock_seconds();
        for (int runs = 0; runs < 3 || oi_clock_seconds() - begin < 0.05; runs++) {
            double run_start = oi_clock_seconds();
            OI_CHECK(run_gemm(t, s));
            seconds[i] = fmin(seconds[i], oi_clock_seconds() - run_start);
        }
        *total += seconds[i];
        if (*total > limit || oi_clock_seconds() > t->cutoff) return *total = INFINITY, OCLINIT_SUCCESS;
    }
    t->pass = oi_clock_seconds() - pass_start;
cleanup:
    return status;
}

static double all_flops(void) {
    double flops = 0;
    for (size_t i = 0; i < OCLINIT_TUNING_SHAPES; i++) flops += shape_flops(&shapes[i]);
    return flops;
}

/* GFLOP/s over all shapes, and per shape into out. */
static double gflops(const double seconds[OCLINIT_TUNING_SHAPES], double out[OCLINIT_TUNING_SHAPES]) {
    double total = 0;
    for (size_t i = 0; i < OCLINIT_TUNING_SHAPES; i++) {
        out[i] = shape_flops(&shapes[i]) / seconds[i] / 1e9;
        total += seconds[i];
    }
    return all_flops() / total / 1e9;
}

static oclinit_status apply_config(tuner *t, const oi_xgemm_config *c) {
    tuned_kernel k = {.name = "Xgemm", .count = P_COUNT};
    for (int p = 0; p < P_COUNT; p++) {
        snprintf(k.parameter[p], NAME_SIZE, "%s", parameter_names[p]);
        k.value[p] = c->v[p];
    }
    oclinit_status status = override_kernel(t->rt->device, &k);
    /* CLBlast caches compiled programs per routine, not per parameters: drop them so the next GEMM builds. */
    if (status == OCLINIT_SUCCESS) CLBlastClearCache();
    return status;
}

static bool visited(tuner *t, const oi_xgemm_config *c) {
    for (size_t i = 0; i < t->visited_count; i++)
        if (memcmp(&t->visited[i], c, sizeof *c) == 0) return true;
    return false;
}

static oclinit_status remember(tuner *t, const oi_xgemm_config *c) {
    if (t->visited_count == t->visited_capacity) {
        size_t capacity = t->visited_capacity ? 2 * t->visited_capacity : 64;
        oi_xgemm_config *grown = realloc(t->visited, capacity * sizeof *grown);
        if (!grown) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "tuning");
        t->visited = grown;
        t->visited_capacity = capacity;
    }
    t->visited[t->visited_count++] = *c;
    return OCLINIT_SUCCESS;
}

/* *total: the seconds of one candidate over the shapes, +inf when it is slower than limit, not done by the clock's
 * cutoff, CLBlast refused it or its products were wrong. Fails only when out of memory or cancelled. */
static oclinit_status try_config(tuner *t, const oi_xgemm_config *c, double limit, double cutoff,
                                 const oclinit_tuning_options *options, double *total) {
    double seconds[OCLINIT_TUNING_SHAPES];
    oclinit_status status = remember(t, c);
    if (status != OCLINIT_SUCCESS) return status;
    status = apply_config(t, c);
    t->cutoff = cutoff;
    if (status == OCLINIT_SUCCESS) status = time_shapes(t, limit, seconds, total);
    t->cutoff = INFINITY;
    oclinit_tuning_report *r = t->report;
    r->candidates++;
    if (status != OCLINIT_SUCCESS) {
        r->rejected++;
        *total = INFINITY;
    }
    oi_clear_error();
    r->seconds = oi_clock_seconds() - t->start;
    oclinit_progress progress = {.done = r->candidates, .tuning = r};
    if (options->progress && options->progress(options->user, &progress))
        return oi_fail(OCLINIT_ERROR_CANCELLED, "tuning cancelled");
    return OCLINIT_SUCCESS;
}

/* Whether candidate, timed at total, replaces *best (timed at *best_total, +inf when there is none yet): it must
 * be at least 2 % faster, and stay so when both are timed again one right after the other, because on a busy
 * machine one slow phase during the best's timing flatters every candidate after it, and the climb would end on a
 * slower configuration. Updates *best_total. */
static oclinit_status take_if_faster(tuner *t, oi_xgemm_config *best, double *best_total,
                                     const oi_xgemm_config *candidate, double total, bool *taken) {
    oclinit_status status = OCLINIT_SUCCESS;
    double seconds[OCLINIT_TUNING_SHAPES], again = total;
    *taken = false;
    if (!(total < 0.98 * *best_total)) return OCLINIT_SUCCESS;
    if (*best_total < INFINITY) {
        OI_CHECK(apply_config(t, best));
        OI_CHECK(time_shapes(t, INFINITY, seconds, best_total));
        OI_CHECK(apply_config(t, candidate));
        OI_CHECK(time_shapes(t, INFINITY, seconds, &again));
    }
    if (again < 0.98 * *best_total) *best = *candidate, *best_total = again, *taken = true, t->best_pass = t->pass;
cleanup:
    return status;
}

/* The budget. The final choices take a dozen passes over the shapes with the best parameters at most (the direct
 * kernel's build and cubes up to 768, then per panel budget a pass and 2048^3, at worst 2.5 passes, then the last
 * measurement), and each of their steps starts only while it and the last measurement fit. A candidate starts only
 * while it (as long as the longest so far, or a pass with the parameters in use before the first), the final
 * choices and one more build fit. Before there is a best, only the last measurement must fit after it: a
 * candidate taken is faster than the start, and the final steps check the time themselves (reserving them all
 * there made `--budget 60` try nothing when CLBlast's own parameters take 12 s a pass). Estimates fail when the
 * machine gets busier, so a candidate's timing also stops where the rest would no longer fit (its cutoff). */
enum { FINAL_PASSES = 13, FINAL_STEP_PASSES = 4 };

static double candidate_estimate(const tuner *t) {
    return t->longest > 0 ? t->longest : t->start_pass;
}

static double candidate_cutoff(const tuner *t, bool have_best) {
    return t->deadline - (have_best ? FINAL_PASSES * t->best_pass + candidate_estimate(t) : t->start_pass);
}

static bool time_for_candidate(const tuner *t, bool have_best) {
    return oi_clock_seconds() + candidate_estimate(t) <= candidate_cutoff(t, have_best);
}

static bool time_for_final_step(const tuner *t) {
    return oi_clock_seconds() + FINAL_STEP_PASSES * t->best_pass <= t->deadline;
}

/* Below a size CLBlast multiplies with its direct kernel (not tuned here) instead of the tuned one, which
 * needs its operands padded and transposed first; it compares m n k with the size cubed. The size chosen: the
 * smallest cube side at which the tuned kernel is at least as fast, else the largest of indirect_sides. */

static oclinit_status set_indirect_size(tuner *t, size_t side) {
    tuned_kernel k = {.name = "GemmRoutine", .count = 1, .parameter = {"XGEMM_MIN_INDIRECT_SIZE"}, .value = {side}};
    return override_kernel(t->rt->device, &k);
}

static oclinit_status time_cube(tuner *t, size_t n, double *seconds) {
    oclinit_status status = OCLINIT_SUCCESS;
    oi_gemm_shape cube = {n, n, n, false, false};
    OI_CHECK(run_gemm(t, &cube)); /* builds the kernel on first use */
    *seconds = INFINITY;
    double begin = oi_clock_seconds();
    for (int runs = 0; runs < 3 || oi_clock_seconds() - begin < 0.02; runs++) {
        double run_start = oi_clock_seconds();
        OI_CHECK(run_gemm(t, &cube));
        *seconds = fmin(*seconds, oi_clock_seconds() - run_start);
    }
cleanup:
    return status;
}

static oclinit_status choose_indirect_size(tuner *t, size_t *side) {
    oclinit_status status = OCLINIT_SUCCESS;
    double direct, indirect;
    *side = indirect_sides[OI_COUNT(indirect_sides) - 1];
    for (size_t i = 0; i + 1 < OI_COUNT(indirect_sides) && time_for_final_step(t); i++) {
        OI_CHECK(set_indirect_size(t, SIZE_MAX / 4));
        OI_CHECK(time_cube(t, indirect_sides[i], &direct));
        OI_CHECK(set_indirect_size(t, 0));
        OI_CHECK(time_cube(t, indirect_sides[i], &indirect));
        if (indirect <= direct) {
            *side = indirect_sides[i];
            break;
        }
    }
cleanup:
    if (status == OCLINIT_SUCCESS) status = set_indirect_size(t, *side);
    return status;
}

/* The budget for the panels of A and B by which host/gemm.c splits K, timed at the shapes and at 2048^3 (whose
 * panels are the largest: the network's shapes alone hardly tell the budgets apart): from no split down to
 * smaller budgets, each taken only if at least 2 % faster, so that a tie keeps the fewer CLBlast calls. */
enum { PANEL_CUBE = 2048 };
static oclinit_status choose_panel(tuner *t, size_t *chosen) {
    oclinit_status status = OCLINIT_SUCCESS;
    double seconds[OCLINIT_TUNING_SHAPES], total, cube, best = INFINITY;
    *chosen = 0;
    for (size_t i = 0; i < OI_COUNT(panels) && time_for_final_step(t); i++) {
        t->state->gemm_panel = panels[i];
        OI_CHECK(time_shapes(t, INFINITY, seconds, &total));
        OI_CHECK(time_cube(t, PANEL_CUBE, &cube));
        if (total + cube < (i == 0 ? 1.0 : 0.98) * best) best = total + cube, *chosen = panels[i];
    }
cleanup:
    t->state->gemm_panel = *chosen;
    return status;
}

/* Uniform numbers in [-1, 1) straight from Philox (seed 1, the given stream): any numbers do for timing and
 * checking products, and blas stays below the init feature. */
static void fill_test_matrix(float *x, size_t count, uint64_t stream) {
    for (size_t block = 0; block < (count + 3) / 4; block++) {
        oi_philox_words w = oi_philox_block(1, stream, block);
        for (size_t j = 0; j < 4 && 4 * block + j < count; j++) x[4 * block + j] = (float)(int32_t)w.w[j] * 0x1p-31f;
    }
}

static oclinit_status query_device(cl_device_id id, oi_tuning_device *d) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_device_type type;
    cl_device_local_mem_type local_type;
    cl_ulong local_memory;
    cl_uint preferred, native, units;
    OI_CL_CHECK(clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof type, &type, NULL));
    OI_CL_CHECK(clGetDeviceInfo(id, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof preferred, &preferred, NULL));
    OI_CL_CHECK(clGetDeviceInfo(id, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof native, &native, NULL));
    OI_CL_CHECK(clGetDeviceInfo(id, CL_DEVICE_LOCAL_MEM_TYPE, sizeof local_type, &local_type, NULL));
    OI_CL_CHECK(clGetDeviceInfo(id, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local_memory, &local_memory, NULL));
    OI_CL_CHECK(clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL));
    OI_CL_CHECK(clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof d->max_group, &d->max_group, NULL));
    d->gpu = (type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR)) != 0;
    d->preferred_width = preferred;
    d->native_width = native;
    d->local_memory = (size_t)local_memory;
    d->local_memory_dedicated = local_type == CL_LOCAL;
    d->compute_units = units;
cleanup:
    return status;
}

static oclinit_status tuner_prepare(tuner *t) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t most = PANEL_CUBE * PANEL_CUBE; /* floats in the largest operand, choose_panel's cube's at least */
    for (size_t i = 0; i < OCLINIT_TUNING_SHAPES; i++) {
        const oi_gemm_shape *s = &shapes[i];
        size_t sizes[3] = {s->m * s->k, s->k * s->n, s->m * s->n};
        for (int j = 0; j < 3; j++) most = sizes[j] > most ? sizes[j] : most;
    }
    OI_CHECK(query_device(t->rt->device, &t->device));
    t->host_a = malloc(most * sizeof(float));
    t->host_b = malloc(most * sizeof(float));
    t->result = malloc(most * sizeof(float));
    for (size_t i = 0; i < OCLINIT_TUNING_SHAPES; i++)
        t->reference[i] = malloc(shapes[i].m * shapes[i].n * sizeof(float));
    for (size_t i = 0; i < OCLINIT_TUNING_SHAPES; i++)
        if (!t->reference[i]) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "tuning's reference products");
    if (!t->host_a || !t->host_b || !t->result) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "tuning's matrices");
    fill_test_matrix(t->host_a, most, 0);
    fill_test_matrix(t->host_b, most, 1);
    for (size_t i = 0; i < OCLINIT_TUNING_SHAPES; i++)
        oi_gemm_host(&shapes[i], t->host_a, oi_gemm_lda(&shapes[i]), t->host_b, oi_gemm_ldb(&shapes[i]),
                     t->reference[i], shapes[i].n);
    OI_CHECK(oi_buffer_create(t->rt, most * sizeof(float), &t->a));
    OI_CHECK(oi_buffer_create(t->rt, most * sizeof(float), &t->b));
    OI_CHECK(oi_buffer_create(t->rt, most * sizeof(float), &t->c));
    OI_CL_CHECK(clEnqueueWriteBuffer(t->rt->queue, t->a, CL_TRUE, 0, most * sizeof(float), t->host_a, 0, NULL, NULL));
    OI_CL_CHECK(clEnqueueWriteBuffer(t->rt->queue, t->b, CL_TRUE, 0, most * sizeof(float), t->host_b, 0, NULL, NULL));
cleanup:
    return status;
}

static void tuner_free(tuner *t) {
    if (t->a) clReleaseMemObject(t->a);
    if (t->b) clReleaseMemObject(t->b);
    if (t->c) clReleaseMemObject(t->c);
    free(t->host_a);
    free(t->host_b);
    free(t->result);
    for (size_t i = 0; i < OCLINIT_TUNING_SHAPES; i++) free(t->reference[i]);
    free(t->visited);
}

static oclinit_status make_directories(const char *file) {
    char path[1024];
    snprintf(path, sizeof path, "%s", file);
    for (char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return oi_fail(OCLINIT_ERROR_IO, "cannot create the directory %s: %s", path, strerror(errno));
        *slash = '/';
    }
    return OCLINIT_SUCCESS;
}

static oclinit_status save_cache(tuner *t, const char *parameters) {
    oclinit_status status = OCLINIT_SUCCESS;
    const oclinit_tuning_report *r = t->report;
    const oclinit_device_info *d = &t->rt->info;
    char text[2048], stamp[32];
    time_t clock = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M UTC", gmtime(&clock));
    int n = snprintf(text, sizeof text,
                     "# CLBlast parameters for %s (%s; %s), found by `oclinit tune`.\n"
                     "# %s: %zu candidates in %.0f s; GFLOP/s over oclinit's GEMM shapes: %.1f before, %.1f with "
                     "these.\n"
                     "# " PANEL ": oclinit splits K so that (m + n) x chunk floats of A and B stay within it (0: "
                     "never).\n"
                     "%s\n",
                     d->name, d->platform_name, d->version, stamp, r->candidates, r->seconds, r->before, r->best,
                     parameters);
    oi_output out = {0};
    OI_CHECK(make_directories(r->path));
    OI_CHECK(oi_output_open(r->path, &out));
    OI_CHECK(oi_output_write(&out, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1));
    OI_CHECK(oi_output_commit(&out));
cleanup:
    oi_output_abort(&out);
    return status;
}

oclinit_status oclinit_tuning_run(oclinit_runtime_t runtime, const oclinit_tuning_options *options,
                                  oclinit_tuning_report *report) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_tuning_options defaults = {0};
    tuner t = {.rt = runtime, .report = report, .start = oi_clock_seconds(), .cutoff = INFINITY};
    double began;
    double seconds[OCLINIT_TUNING_SHAPES], start_total, best_total, total;
    oi_xgemm_config best = {{0}}, candidate;
    bool have_best = false, improved = true, taken;
    tuned_kernel kernels[MAX_KERNELS];
    size_t kernel_count;
    char why[1536];

    OI_REQUIRE(runtime, "runtime");
    OI_REQUIRE(report, "report");
    if (oi_runtime_on_host(runtime))
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "the host C path runs OpenBLAS, which needs no tuning");
    if (!options) options = &defaults;
    OI_CHECK(oi_blas_state_get(runtime, &t.state));
    t.deadline = t.start + (options->budget_seconds > 0 ? options->budget_seconds : 600);
    memset(report, 0, sizeof *report);
    OI_CHECK(oclinit_tuning_get_path(&runtime->info, report->path, sizeof report->path));
    OI_CHECK(tuner_prepare(&t));

    /* The start: the parameters in use, CLBlast's own or a previous tuning's (which the climb continues from). */
    OI_CHECK(time_shapes(&t, INFINITY, seconds, &start_total));
    report->before = report->best = gflops(seconds, report->shape_before);
    best_total = start_total;
    t.start_pass = t.best_pass = t.pass;
    if (read_cache(&runtime->info, kernels, &kernel_count, why, sizeof why) == OCLINIT_TUNING_APPLIED) {
        for (size_t i = 0; i < kernel_count && !have_best; i++) {
            if (strcmp(kernels[i].name, "Xgemm") != 0) continue;
            have_best = true;
            for (int p = 0; p < P_COUNT; p++)
                have_best = have_best && find_parameter(&kernels[i], parameter_names[p], &best.v[p]);
        }
        if (have_best) OI_CHECK(remember(&t, &best));
    }
    bool started_saved = have_best;
    double climb_total = have_best ? start_total : INFINITY;
    oi_xgemm_config seeds[OI_TUNING_MAX_SEEDS];
    size_t seed_count = oi_tuning_seeds(&t.device, seeds);
    for (size_t s = 0; s < seed_count && time_for_candidate(&t, have_best); s++) {
        candidate = seeds[s];
        if (visited(&t, &candidate)) continue;
        began = oi_clock_seconds();
        OI_CHECK(try_config(&t, &candidate, 2 * fmin(climb_total, start_total), candidate_cutoff(&t, have_best),
                            options, &total));
        OI_CHECK(take_if_faster(&t, &best, &climb_total, &candidate, total, &taken));
        t.longest = fmax(t.longest, oi_clock_seconds() - began);
        have_best = have_best || taken;
        if (total < best_total) best_total = total;
        report->best = all_flops() / best_total / 1e9;
    }
    /* First-improvement hill climb: move to the first neighbour at least 2 % faster, until none is. */
    bool out_of_time = !time_for_candidate(&t, have_best);
    while (have_best && improved && !out_of_time) {
        size_t m = 0;
        improved = false;
        for (; m < OI_COUNT(moves) && !improved && !out_of_time; m++) {
            for (int direction = -1; direction <= 1 && !improved && !out_of_time; direction += 2) {
                bool possible = true;
                candidate = best;
                for (int j = 0; j < 2 && moves[m][j] >= 0; j++) {
                    int p = moves[m][j];
                    size_t at = 0;
                    while (at < searched[p].count && searched[p].values[at] != candidate.v[p]) at++;
                    long next = (long)at + direction;
                    if (at == searched[p].count || next < 0 || next >= (long)searched[p].count)
                        possible = false;
                    else
                        candidate.v[p] = searched[p].values[next];
                }
                if (!possible || !config_valid(&candidate, t.device.local_memory, t.device.max_group) ||
                    visited(&t, &candidate))
                    continue;
                if ((out_of_time = !time_for_candidate(&t, have_best))) break;
                began = oi_clock_seconds();
                OI_CHECK(
                    try_config(&t, &candidate, 1.5 * climb_total, candidate_cutoff(&t, have_best), options, &total));
                OI_CHECK(take_if_faster(&t, &best, &climb_total, &candidate, total, &improved));
                t.longest = fmax(t.longest, oi_clock_seconds() - began);
                if (total < best_total) best_total = total;
                report->best = all_flops() / best_total / 1e9;
            }
        }
        report->converged = !improved && !out_of_time && m == OI_COUNT(moves);
    }

    /* Leave CLBlast with the best found, measured once more for the report, and the size from which it runs;
     * save them if they beat the start, or refresh the saved ones the climb started from. */
    if (have_best) {
        size_t indirect_size, panel;
        OI_CHECK(apply_config(&t, &best));
        OI_CHECK(choose_indirect_size(&t, &indirect_size));
        OI_CHECK(choose_panel(&t, &panel));
        OI_CHECK(time_shapes(&t, INFINITY, seconds, &total));
        report->best = gflops(seconds, report->shape_after);
        if (total < 0.98 * start_total || started_saved) {
            size_t used;
            oi_xgemm_config_text(&best, report->parameters, sizeof report->parameters);
            used = strlen(report->parameters);
            snprintf(report->parameters + used, sizeof report->parameters - used,
                     "\nGemmRoutine XGEMM_MIN_INDIRECT_SIZE=%zu\n" OWN_LINE " " PANEL "=%zu", indirect_size, panel);
            report->seconds = oi_clock_seconds() - t.start; /* the file says how long the whole search took */
            OI_CHECK(save_cache(&t, report->parameters));
            report->saved = true;
            t.state->tuning = OCLINIT_TUNING_APPLIED;
            t.state->tuning_message[0] = '\0';
        }
    }
    if (!report->saved) memcpy(report->shape_after, report->shape_before, sizeof report->shape_after);
    report->seconds = oi_clock_seconds() - t.start;
cleanup:
    tuner_free(&t);
    return status;
}
