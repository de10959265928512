/* Whole models: the registry of named tensors, oclinit's JSON spec (README.md, "Whole models"), the loaders and the
 * name -> stream rule. Hugging Face configs are hf.c's.
 *
 * A spec:
 *   {"seed": 1, "dtype": "bf16",
 *    "tensors": [{"name": "embed.weight", "shape": [32000, 2048], "scheme": "normal", "std": 0.02, "zero_row": 0},
 *                {"name": "layers.0.mlp.weight", "shape": [5632, 2048]}, {"name": "norm.weight", "shape": [2048]}],
 *    "rules": [{"match": "*norm.weight", "scheme": "ones"}, {"match": "*.bias", "scheme": "zeros"}],
 *    "default": {"scheme": "kaiming-uniform", "nonlinearity": "relu"}}
 * Options are named as the CLI's (std, gain, mode, negative-slope or negative_slope, fan-in, ...) and refused on a
 * scheme that does not use them; unknown keys are refused everywhere, so a typo never falls back to a default. */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/model/model.h"
#include "io/io.h"

/* Keeps one tensor's elements (2^61) and so every model's bytes, in float32, within 2^63. */
#define MAX_MODEL_ELEMENTS ((uint64_t)1 << 61)

uint64_t oclinit_tensor_stream(const char *name) {
    OI_REQUIRE_OR(name, "name", 0);
    uint64_t hash = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        hash ^= *p;
        hash *= 0x100000001b3ull;
    }
    return hash;
}

void oi_json_describe(const json_t *value, char *text, size_t size) {
    char quoted[72];
    switch (json_typeof(value)) {
    case JSON_STRING:
        oi_printable(json_string_value(value), json_string_length(value), quoted, sizeof quoted);
        snprintf(text, size, "\"%s\"", quoted);
        break;
    case JSON_INTEGER: snprintf(text, size, "%" JSON_INTEGER_FORMAT, json_integer_value(value)); break;
    case JSON_REAL: snprintf(text, size, "%.17g", json_real_value(value)); break;
    case JSON_TRUE: snprintf(text, size, "true"); break;
    case JSON_FALSE: snprintf(text, size, "false"); break;
    case JSON_NULL: snprintf(text, size, "null"); break;
    case JSON_OBJECT: snprintf(text, size, "an object"); break;
    case JSON_ARRAY: snprintf(text, size, "a list"); break;
    }
}

/* ---- The registry ---- */

oclinit_status oi_model_create(oclinit_model_t *model) {
    *model = calloc(1, sizeof **model);
    if (!*model) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "no memory for a model");
    (*model)->dtype = OCLINIT_DTYPE_F32;
    return OCLINIT_SUCCESS;
}

oclinit_status oi_model_add(oclinit_model_t model, const char *where, const char *name, const oclinit_shape *shape,
                            const oclinit_scheme *scheme, int64_t zero_row) {
    oclinit_distribution distribution;
    uint64_t elements = 0;
    char shown[72];
    oi_printable(name, strlen(name), shown, sizeof shown);
    oclinit_status status = oclinit_shape_get_elements(shape, &elements);
    if (status == OCLINIT_SUCCESS) status = oclinit_scheme_resolve_shape(scheme, shape, &distribution);
    if (status != OCLINIT_SUCCESS)
        return oi_fail(status, "%s: tensor %s: %s", where, shown, oclinit_error_get_detail());
    if (zero_row >= shape->dims[0])
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: tensor %s: zero_row %" PRId64 " is not below %" PRId64,
                       where, shown, zero_row, shape->dims[0]);
    if (model->elements + elements > MAX_MODEL_ELEMENTS) /* each term is at most 2^61: no wrap */
        return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "%s: tensor %s: the model would have more than 2^61 elements",
                       where, shown);
    if (model->count == model->capacity) {
        if (model->count == OI_MODEL_MAX_TENSORS)
            return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "%s: tensor %s: a model has at most %zu tensors", where, shown,
                           OI_MODEL_MAX_TENSORS);
        size_t capacity = model->capacity ? 2 * model->capacity : 64;
        oclinit_model_tensor *grown = realloc(model->tensors, capacity * sizeof *grown);
        if (!grown) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "no memory for %zu tensors", capacity);
        model->tensors = grown;
        model->capacity = capacity;
    }
    char *copy = strdup(name);
    if (!copy) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "no memory for tensor %s's name", shown);
    oclinit_model_tensor *t = &model->tensors[model->count++];
    t->name = copy;
    t->shape = *shape;
    t->scheme = *scheme;
    t->zero_row = zero_row;
    t->stream = oclinit_tensor_stream(name);
    model->elements += elements;
    return OCLINIT_SUCCESS;
}

size_t oclinit_model_get_count(oclinit_model_t model) {
    OI_REQUIRE_OR(model, "model", 0);
    return model->count;
}

const oclinit_model_tensor *oclinit_model_get_tensor(oclinit_model_t model, size_t index) {
    OI_REQUIRE_OR(model, "model", NULL);
    if (index >= model->count) {
        oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: index %zu is not below the model's %zu tensors", __func__, index,
                model->count);
        return NULL;
    }
    return &model->tensors[index];
}

oclinit_dtype oclinit_model_get_dtype(oclinit_model_t model) {
    OI_REQUIRE_OR(model, "model", OCLINIT_DTYPE_F32);
    return model->dtype;
}

size_t oi_model_rule_count(oclinit_model_t model) {
    OI_REQUIRE_OR(model, "model", 0);
    return model->rule_count;
}

const oi_model_rule *oi_model_get_rule(oclinit_model_t model, size_t index) {
    OI_REQUIRE_OR(model, "model", NULL);
    if (index >= model->rule_count) {
        oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: index %zu is not below the model's %zu rules", __func__, index,
                model->rule_count);
        return NULL;
    }
    return &model->rules[index];
}

uint64_t oclinit_model_get_seed(oclinit_model_t model) {
    OI_REQUIRE_OR(model, "model", 0);
    return model->seed;
}

void oclinit_model_free(oclinit_model_t model) {
    if (!model) return;
    for (size_t i = model->rule_count; i-- > 0;) free((char *)model->rules[i].match);
    free(model->rules);
    for (size_t i = model->count; i-- > 0;) free((char *)model->tensors[i].name);
    free(model->tensors);
    free(model);
}

/* ---- The spec ---- */

typedef struct spec_reader {
    const char *path;
} spec_reader;

static oclinit_status spec_fail(const spec_reader *s, const char *where, const char *key, const char *message,
                                const json_t *value) {
    char got[96] = "";
    if (value) {
        memcpy(got, ", got ", 7);
        oi_json_describe(value, got + 6, sizeof got - 6);
    }
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s%s%s: %s%s", s->path, where, key ? "." : "", key ? key : "",
                   message, got);
}

static oclinit_status get_number(const spec_reader *s, const char *where, const char *key, const json_t *value,
                                 double *number) {
    if (!json_is_number(value) || !isfinite(json_number_value(value)))
        return spec_fail(s, where, key, "expected a number", value);
    *number = json_number_value(value);
    return OCLINIT_SUCCESS;
}

static oclinit_status get_positive(const spec_reader *s, const char *where, const char *key, const json_t *value,
                                   int64_t *count) {
    if (!json_is_integer(value) || json_integer_value(value) < 1)
        return spec_fail(s, where, key, "expected a positive integer", value);
    *count = json_integer_value(value);
    return OCLINIT_SUCCESS;
}

/* A name option through its library parser, whose detail lists the known names. */
static oclinit_status get_name(const spec_reader *s, const char *where, const char *key, const json_t *value,
                               oclinit_status (*parse)(const char *, int *), int *parsed) {
    if (!json_is_string(value)) return spec_fail(s, where, key, "expected a string", value);
    if (parse(json_string_value(value), parsed) != OCLINIT_SUCCESS)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s.%s: %s", s->path, where, key,
                       oclinit_error_get_detail());
    return OCLINIT_SUCCESS;
}

/* The enum parsers, through one signature (each enum is an int). */
static oclinit_status parse_kind(const char *name, int *v) {
    oclinit_scheme_kind kind;
    oclinit_status status = oclinit_scheme_kind_parse(name, &kind);
    *v = (int)kind;
    return status;
}
static oclinit_status parse_mode(const char *name, int *v) {
    oclinit_fan_mode mode;
    oclinit_status status = oclinit_fan_mode_parse(name, &mode);
    *v = (int)mode;
    return status;
}
static oclinit_status parse_nonlinearity(const char *name, int *v) {
    oclinit_nonlinearity nonlinearity;
    oclinit_status status = oclinit_nonlinearity_parse(name, &nonlinearity);
    *v = (int)nonlinearity;
    return status;
}
static oclinit_status parse_distribution(const char *name, int *v) {
    oclinit_distribution_kind kind;
    oclinit_status status = oclinit_distribution_kind_parse(name, &kind);
    *v = (int)kind;
    return status;
}
static oclinit_status parse_convention(const char *name, int *v) {
    oclinit_convention convention;
    oclinit_status status = oclinit_convention_parse(name, &convention);
    *v = (int)convention;
    return status;
}

/* The scheme of an object at where (a tensor, a rule, the default): "scheme" and its options. own: the object's
 * other keys (NULL-terminated), which the caller reads; any other key is refused. *found: whether it names a scheme
 * (options without one are refused). */
static oclinit_status parse_scheme(const spec_reader *s, const json_t *object, const char *where,
                                   const char *const *own, const char *own_list, bool *found, oclinit_scheme *scheme) {
    const json_t *given[OI_OPTION_COUNT] = {0}, *value, *named = NULL;
    const char *keys[OI_OPTION_COUNT] = {0}, *key;
    oclinit_status status = OCLINIT_SUCCESS;
    int kind = 0, parsed = 0;
    json_object_foreach((json_t *)object, key, value) {
        bool is_own = false;
        for (const char *const *o = own; *o; o++) is_own |= strcmp(*o, key) == 0;
        if (is_own) continue;
        if (strcmp(key, "scheme") == 0) {
            OI_CHECK(get_name(s, where, key, value, parse_kind, &kind));
            named = value;
            continue;
        }
        int id = (int)oi_scheme_option_find(key);
        if (id == OI_OPTION_COUNT) {
            char shown[72];
            oi_printable(key, strlen(key), shown, sizeof shown);
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "%s: %s.%s: unknown key (known: %sscheme, " OI_OPTION_LIST ")", s->path, where, shown,
                           own_list);
        }
        if (given[id])
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s.%s: given twice (also as %s)", s->path, where, key,
                           keys[id]);
        given[id] = value;
        keys[id] = key;
    }
    *found = named != NULL;
    for (int id = 0; id < OI_OPTION_COUNT; id++) {
        if (!given[id]) continue;
        if (!named) return spec_fail(s, where, keys[id], "an option without a scheme", NULL);
        if (!oi_scheme_option_applies((oi_scheme_option)id, kind))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s.%s: does not apply to scheme %s", s->path, where,
                           keys[id], oclinit_scheme_kind_str((oclinit_scheme_kind)kind));
    }
    if (!named) return OCLINIT_SUCCESS;
    const char *meaning;
    oi_scheme_option required = oi_scheme_required_option((oclinit_scheme_kind)kind, &meaning);
    if (required != OI_OPTION_COUNT && !given[required])
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s: scheme %s needs \"%s\"%s%s%s", s->path, where,
                       oclinit_scheme_kind_str((oclinit_scheme_kind)kind), oi_scheme_option_name(required),
                       *meaning ? " (" : "", meaning, *meaning ? ")" : "");
    oclinit_scheme made = oclinit_scheme_default((oclinit_scheme_kind)kind);
    double *numbers[] = {[OI_OPTION_VALUE] = &made.value,
                         [OI_OPTION_MEAN] = &made.mean,
                         [OI_OPTION_STD] = &made.std,
                         [OI_OPTION_A] = &made.a,
                         [OI_OPTION_B] = &made.b,
                         [OI_OPTION_SCALE] = &made.scale,
                         [OI_OPTION_GAIN] = &made.gain,
                         [OI_OPTION_NEGATIVE_SLOPE] = &made.negative_slope,
                         [OI_OPTION_SPARSITY] = &made.sparsity};
    for (int id = OI_OPTION_VALUE; id <= OI_OPTION_SPARSITY; id++)
        if (given[id]) OI_CHECK(get_number(s, where, keys[id], given[id], numbers[id]));
    if (given[OI_OPTION_GROUPS])
        OI_CHECK(get_positive(s, where, keys[OI_OPTION_GROUPS], given[OI_OPTION_GROUPS], &made.groups));
    if (given[OI_OPTION_FAN_IN])
        OI_CHECK(get_positive(s, where, keys[OI_OPTION_FAN_IN], given[OI_OPTION_FAN_IN], &made.fan_in));
    if (given[OI_OPTION_FAN_OUT])
        OI_CHECK(get_positive(s, where, keys[OI_OPTION_FAN_OUT], given[OI_OPTION_FAN_OUT], &made.fan_out));
    if (given[OI_OPTION_MODE]) {
        OI_CHECK(get_name(s, where, keys[OI_OPTION_MODE], given[OI_OPTION_MODE], parse_mode, &parsed));
        made.mode = (oclinit_fan_mode)parsed;
    }
    if (given[OI_OPTION_NONLINEARITY]) {
        OI_CHECK(get_name(s, where, keys[OI_OPTION_NONLINEARITY], given[OI_OPTION_NONLINEARITY], parse_nonlinearity,
                          &parsed));
        made.nonlinearity = (oclinit_nonlinearity)parsed;
    }
    if (given[OI_OPTION_DISTRIBUTION]) {
        OI_CHECK(get_name(s, where, keys[OI_OPTION_DISTRIBUTION], given[OI_OPTION_DISTRIBUTION], parse_distribution,
                          &parsed));
        made.distribution = (oclinit_distribution_kind)parsed;
    }
    if (given[OI_OPTION_CONVENTION]) {
        OI_CHECK(
            get_name(s, where, keys[OI_OPTION_CONVENTION], given[OI_OPTION_CONVENTION], parse_convention, &parsed));
        made.convention = (oclinit_convention)parsed;
    }
    *scheme = made;
cleanup:
    return status;
}

static oclinit_status parse_shape(const spec_reader *s, const char *where, const json_t *value, oclinit_shape *shape) {
    char at[64];
    size_t i;
    const json_t *dim;
    if (!value) return spec_fail(s, where, "shape", "missing", NULL);
    if (!json_is_array(value) || json_array_size(value) < 1 || json_array_size(value) > OCLINIT_MAX_RANK) {
        char message[64];
        snprintf(message, sizeof message, "expected a list of 1 to %d dimensions", OCLINIT_MAX_RANK);
        return spec_fail(s, where, "shape", message, json_is_array(value) ? NULL : value);
    }
    memset(shape, 0, sizeof *shape);
    shape->rank = (int)json_array_size(value);
    json_array_foreach(value, i, dim) {
        snprintf(at, sizeof at, "shape[%zu]", i);
        oclinit_status status = get_positive(s, where, at, dim, &shape->dims[i]);
        if (status != OCLINIT_SUCCESS) return status;
    }
    return OCLINIT_SUCCESS;
}

/* Why pattern is malformed, or NULL. glibc's fnmatch takes an unterminated '[' as a plain character and lets a
 * final '\\' match nothing, so either typo would leave its rule silently unused. */
static const char *glob_error(const char *pattern) {
    for (const char *p = pattern; *p; p++) {
        if (*p == '\\') {
            if (!*++p) return "a final '\\' escapes nothing";
        } else if (*p == '[') {
            const char *q = p + 1;
            if (*q == '!' || *q == '^') q++;
            if (*q == ']') q++; /* a ']' first is a member, not the end */
            for (; *q && *q != ']'; q++)
                if (*q == '\\' && q[1]) q++;
            if (!*q) return "unterminated '['";
            p = q;
        }
    }
    return NULL;
}

/* An integer, or a decimal string for seeds from 2^63 on, which JSON parsers (jansson too) take only as a string. */
static oclinit_status get_seed(const spec_reader *s, const json_t *value, uint64_t *seed) {
    if (json_is_integer(value) && json_integer_value(value) >= 0) {
        *seed = (uint64_t)json_integer_value(value);
        return OCLINIT_SUCCESS;
    }
    if (json_is_string(value)) {
        const char *text = json_string_value(value);
        char *end;
        errno = 0;
        unsigned long long parsed = strtoull(text, &end, 10);
        if (*text >= '0' && *text <= '9' && end == text + json_string_length(value) && errno == 0) {
            *seed = parsed;
            return OCLINIT_SUCCESS;
        }
    }
    return spec_fail(s, "seed", NULL, "expected an integer >= 0, or one up to 2^64 - 1 as a decimal string", value);
}

static const char *const tensor_keys[] = {"name", "shape", "zero_row", NULL};
static const char *const rule_keys[] = {"match", NULL};
static const char *const no_keys[] = {NULL};

/* A tensor without a scheme of its own takes the first rule whose glob matches its name (rule_schemes[r] is
 * model->rules[r]'s), else the fallback. Every rule's glob is tried on every name, once, for the rules' counts. */
static oclinit_status add_tensor(const spec_reader *s, oclinit_model_t model, size_t index, const json_t *entry,
                                 const oclinit_scheme *rule_schemes, const oclinit_scheme *fallback) {
    char where[48], source[64] = "";
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_shape shape;
    oclinit_scheme scheme;
    bool found;
    int64_t zero_row = -1;
    snprintf(where, sizeof where, "tensors[%zu]", index);
    if (!json_is_object(entry)) return spec_fail(s, where, NULL, "expected an object", entry);
    const json_t *name = json_object_get(entry, "name"), *row = json_object_get(entry, "zero_row");
    if (!name) return spec_fail(s, where, "name", "missing", NULL);
    if (!json_is_string(name) || json_string_length(name) == 0)
        return spec_fail(s, where, "name", "expected a non-empty string", name);
    /* safetensors' header keeps this key for itself. */
    if (strcmp(json_string_value(name), "__metadata__") == 0)
        return spec_fail(s, where, "name", "is reserved by safetensors", name);
    OI_CHECK(parse_shape(s, where, json_object_get(entry, "shape"), &shape));
    if (row && (!json_is_integer(row) || json_integer_value(row) < 0))
        return spec_fail(s, where, "zero_row", "expected an integer >= 0", row);
    if (row && shape.rank < 2) /* a row of a vector would be one element */
        return spec_fail(s, where, "zero_row", "needs a tensor of rank 2 or more", NULL);
    if (row) zero_row = json_integer_value(row);
    OI_CHECK(parse_scheme(s, entry, where, tensor_keys, "name, shape, zero_row, ", &found, &scheme));
    for (size_t r = 0; r < model->rule_count; r++) {
        oi_model_rule *rule = &model->rules[r];
        if (fnmatch(rule->match, json_string_value(name), 0) != 0) continue;
        rule->matched++;
        if (found) continue;
        scheme = rule_schemes[r];
        found = true;
        rule->applied++;
        snprintf(source, sizeof source, " (scheme from rules[%zu])", r);
    }
    if (!found && fallback) {
        scheme = *fallback;
        found = true;
        snprintf(source, sizeof source, " (scheme from default)");
    }
    if (!found) {
        char shown[72];
        oi_printable(json_string_value(name), json_string_length(name), shown, sizeof shown);
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: %s: tensor %s has no scheme, no rule matches its name and the spec has no default", s->path,
                       where, shown);
    }
    char context[1024];
    snprintf(context, sizeof context, "%s: %s%s", s->path, where, source);
    OI_CHECK(oi_model_add(model, context, json_string_value(name), &shape, &scheme, zero_row));
cleanup:
    return status;
}

typedef struct named {
    const char *name;
    size_t index;
} named;

static int compare_names(const void *a, const void *b) {
    const named *x = a, *y = b;
    int order = strcmp(x->name, y->name);
    return order ? order : (x->index > y->index) - (x->index < y->index);
}

/* Every name once: sorted, equal names are neighbours (n log n, for specs of any size). */
static oclinit_status check_unique(const spec_reader *s, oclinit_model_t model) {
    named *order = malloc((model->count ? model->count : 1) * sizeof *order);
    if (!order) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "no memory to check %zu names", model->count);
    for (size_t i = 0; i < model->count; i++) order[i] = (named){model->tensors[i].name, i};
    qsort(order, model->count, sizeof *order, compare_names);
    oclinit_status status = OCLINIT_SUCCESS;
    for (size_t k = 1; k < model->count && status == OCLINIT_SUCCESS; k++) {
        if (strcmp(order[k - 1].name, order[k].name) != 0) continue;
        char where[48], message[320];
        snprintf(where, sizeof where, "tensors[%zu]", order[k].index);
        snprintf(message, sizeof message, "\"%.256s\" is the name of tensors[%zu] already", order[k].name,
                 order[k - 1].index);
        status = spec_fail(s, where, "name", message, NULL);
    }
    free(order);
    return status;
}

static oclinit_status spec_load(const spec_reader *s, const json_t *root, oclinit_model_t model) {
    static const char *const top[] = {"seed", "dtype", "tensors", "rules", "default"};
    oclinit_status status = OCLINIT_SUCCESS;
    const char *key;
    const json_t *value;
    oclinit_scheme *rule_schemes = NULL, fallback;
    bool has_default = false;
    if (!json_is_object(root)) return spec_fail(s, "(the whole file)", NULL, "expected an object", root);
    json_object_foreach((json_t *)root, key, value) {
        size_t k = 0;
        while (k < OI_COUNT(top) && strcmp(top[k], key) != 0) k++;
        if (k == OI_COUNT(top)) {
            char shown[72];
            oi_printable(key, strlen(key), shown, sizeof shown);
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "%s: %s: unknown key (known: seed, dtype, tensors, rules, default)", s->path, shown);
        }
    }
    const json_t *seed = json_object_get(root, "seed"), *dtype = json_object_get(root, "dtype"),
                 *tensors = json_object_get(root, "tensors"), *rule_list = json_object_get(root, "rules"),
                 *default_scheme = json_object_get(root, "default");
    if (seed) OI_CHECK(get_seed(s, seed, &model->seed));
    if (dtype) {
        if (!json_is_string(dtype) || oclinit_dtype_parse(json_string_value(dtype), &model->dtype) != OCLINIT_SUCCESS ||
            (model->dtype != OCLINIT_DTYPE_F32 && model->dtype != OCLINIT_DTYPE_F16 &&
             model->dtype != OCLINIT_DTYPE_BF16))
            return spec_fail(s, "dtype", NULL, "expected \"f32\", \"f16\" or \"bf16\"", dtype);
    }
    if (!tensors) return spec_fail(s, "tensors", NULL, "missing", NULL);
    if (!json_is_array(tensors) || json_array_size(tensors) == 0)
        return spec_fail(s, "tensors", NULL, "expected a non-empty list", json_is_array(tensors) ? NULL : tensors);
    if (rule_list && !json_is_array(rule_list)) return spec_fail(s, "rules", NULL, "expected a list", rule_list);
    size_t rule_count = rule_list ? json_array_size(rule_list) : 0, i;
    rule_schemes = calloc(rule_count ? rule_count : 1, sizeof *rule_schemes);
    model->rules = calloc(rule_count ? rule_count : 1, sizeof *model->rules);
    if (!rule_schemes || !model->rules) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "no memory for %zu rules", rule_count);
        goto cleanup;
    }
    for (i = 0; i < rule_count; i++) {
        const json_t *entry = json_array_get(rule_list, i), *match;
        char where[48];
        bool found;
        snprintf(where, sizeof where, "rules[%zu]", i);
        if (!json_is_object(entry)) {
            status = spec_fail(s, where, NULL, "expected an object", entry);
            goto cleanup;
        }
        match = json_object_get(entry, "match");
        if (!match || !json_is_string(match) || json_string_length(match) == 0) {
            status =
                spec_fail(s, where, "match", match ? "expected a non-empty glob, e.g. \"*.bias\"" : "missing", match);
            goto cleanup;
        }
        const char *malformed = glob_error(json_string_value(match));
        if (malformed) {
            char shown[72];
            oi_printable(json_string_value(match), json_string_length(match), shown, sizeof shown);
            status =
                oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s.match: %s in \"%s\"", s->path, where, malformed, shown);
            goto cleanup;
        }
        OI_CHECK(parse_scheme(s, entry, where, rule_keys, "match, ", &found, &rule_schemes[i]));
        if (!found) {
            status = spec_fail(s, where, "scheme", "missing", NULL);
            goto cleanup;
        }
        model->rules[model->rule_count].match = strdup(json_string_value(match));
        if (!model->rules[model->rule_count].match) {
            status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "no memory for %s's glob", where);
            goto cleanup;
        }
        model->rule_count++;
    }
    if (default_scheme) {
        if (!json_is_object(default_scheme)) {
            status = spec_fail(s, "default", NULL, "expected an object", default_scheme);
            goto cleanup;
        }
        OI_CHECK(parse_scheme(s, default_scheme, "default", no_keys, "", &has_default, &fallback));
        if (!has_default) {
            status = spec_fail(s, "default", "scheme", "missing", NULL);
            goto cleanup;
        }
    }
    for (i = 0; i < json_array_size(tensors); i++)
        OI_CHECK(add_tensor(s, model, i, json_array_get(tensors, i), rule_schemes, has_default ? &fallback : NULL));
    OI_CHECK(check_unique(s, model));
cleanup:
    free(rule_schemes);
    return status;
}

/* ---- Loading ---- */

/* Whether value holds a number of 2^63 or more in magnitude; *path becomes the JSON path of the first (seed,
 * tensors[0].shape[1]) from path[used] on. */
static bool find_huge(const json_t *value, char *path, size_t size, size_t used) {
    const char *key;
    json_t *item;
    size_t i;
    char shown[72];
    switch (json_typeof(value)) {
    case JSON_REAL: return fabs(json_real_value(value)) >= 0x1p63;
    case JSON_OBJECT:
        json_object_foreach((json_t *)value, key, item) {
            oi_printable(key, strlen(key), shown, sizeof shown);
            size_t next = used + (size_t)snprintf(path + used, size - used, "%s%s", used ? "." : "", shown);
            if (find_huge(item, path, size, next < size ? next : size - 1)) return true;
        }
        return false;
    case JSON_ARRAY:
        json_array_foreach(value, i, item) {
            size_t next = used + (size_t)snprintf(path + used, size - used, "[%zu]", i);
            if (find_huge(item, path, size, next < size ? next : size - 1)) return true;
        }
        return false;
    default: return false;
    }
}

oclinit_status oi_model_parse_json(const char *name, const char *data, size_t size, bool is_spec,
                                   oclinit_model_t *model) {
    oclinit_status status = OCLINIT_SUCCESS;
    json_error_t error;
    oclinit_model_t made = NULL;
    *model = NULL;
    json_t *root = json_loadb(data, size, JSON_REJECT_DUPLICATES, &error);
    if (!root && json_error_code(&error) == json_error_numeric_overflow) {
        /* jansson's message names no key: find it in the file read with integers as doubles, which hold any. */
        char path[256] = "";
        json_t *loose = json_loadb(data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, NULL);
        bool found = loose && find_huge(loose, path, sizeof path, 0);
        json_decref(loose);
        if (found)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s:%d:%d: %s: %s (integers go from -2^63 to 2^63 - 1)%s",
                           name, error.line, error.column, path, error.text,
                           is_spec && strcmp(path, "seed") == 0 ? "; give a larger seed as a decimal string" : "");
    }
    if (!root)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s:%d:%d: %s", name, error.line, error.column, error.text);
    OI_CHECK(oi_model_create(&made));
    if (is_spec) {
        spec_reader s = {name};
        OI_CHECK(spec_load(&s, root, made));
    } else {
        OI_CHECK(oi_model_from_hf(name, root, made));
    }
    *model = made;
    made = NULL;
cleanup:
    oclinit_model_free(made);
    json_decref(root);
    return status;
}

static oclinit_status load(const char *path, bool is_spec, oclinit_model_t *model) {
    char *data = NULL;
    size_t size = 0;
    *model = NULL;
    oclinit_status status = oi_read_file(path, &data, &size);
    if (status == OCLINIT_SUCCESS) status = oi_model_parse_json(path, data, size, is_spec, model);
    free(data);
    return status;
}

oclinit_status oclinit_model_load_config(const char *path, oclinit_model_t *model) {
    OI_REQUIRE(path, "path");
    OI_REQUIRE(model, "model");
    return load(path, false, model);
}

oclinit_status oclinit_model_load_spec(const char *path, oclinit_model_t *model) {
    OI_REQUIRE(path, "path");
    OI_REQUIRE(model, "model");
    return load(path, true, model);
}
