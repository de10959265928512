/* Hugging Face config.json -> the tensors transformers' save_pretrained stores for that model, in state_dict order,
 * each with the scheme of the family's _init_weights (README.md, "Whole models").
 *
 * Read from transformers 4.45's models/{llama,mistral,qwen2,gpt2}/{configuration,modeling}_*.py:
 * - llama, mistral, qwen2 (*ForCausalLM): model.embed_tokens (vocab, hidden), whose row config.pad_token_id is
 *   zeroed; per layer self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj (nn.Linear: (out, in)), the two RMSNorm
 *   weights; model.norm; lm_head unless tied. Linear and Embedding weights N(0, initializer_range), biases 0, RMSNorm
 *   weights 1 (their constructor's torch.ones: _init_weights leaves them). Biases: llama's attention_bias and
 *   mlp_bias, qwen2's q, k and v (never o), none in mistral. The rotary inv_freq buffer is not persistent.
 * - gpt2 (GPT2LMHeadModel): transformer.wte, wpe, per layer ln_1, attn.c_attn, attn.c_proj, ln_2,
 *   [crossattention.{c_attn,q_attn,c_proj}, ln_cross_attn], mlp.c_fc, mlp.c_proj; ln_f; lm_head unless tied.
 *   Conv1D weights are (in, out). Every c_proj.weight is N(0, initializer_range / sqrt(2 n_layer)) (the GPT-2 paper's
 *   residual scaling), LayerNorm weights 1 and biases 0. attn.bias and attn.masked_bias are not persistent.
 * A config's keys take the defaults of the family's configuration class when absent, as PretrainedConfig does. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "features/model/model.h"

typedef enum family { LLAMA, MISTRAL, QWEN2, GPT2 } family;

static const struct {
    const char *model_type, *architecture;
    int64_t key_value_heads; /* num_key_value_heads when the key is absent; 0: num_attention_heads */
    bool tied;               /* tie_word_embeddings when the key is absent */
} families[] = {
    [LLAMA] = {"llama", "LlamaForCausalLM", 0, false},
    [MISTRAL] = {"mistral", "MistralForCausalLM", 8, false},
    [QWEN2] = {"qwen2", "Qwen2ForCausalLM", 32, false},
    [GPT2] = {"gpt2", "GPT2LMHeadModel", 0, true},
};

/* GPT2Config's attribute_map: the generic names a config may use for its own keys. */
static const struct {
    const char *key, *alias;
} gpt2_aliases[] = {
    {"n_embd", "hidden_size"},
    {"n_positions", "max_position_embeddings"},
    {"n_head", "num_attention_heads"},
    {"n_layer", "num_hidden_layers"},
};

typedef struct reader {
    const char *path;
    const json_t *config;
    family family;
    const char *required; /* for messages: the keys this family needs */
    oclinit_model_t model;
} reader;

/* The value of key (or of its GPT-2 alias), NULL when absent; *name is the key it was found under. */
static oclinit_status lookup(const reader *r, const char *key, const json_t **value, const char **name) {
    *value = json_object_get(r->config, key);
    *name = key;
    if (r->family != GPT2) return OCLINIT_SUCCESS;
    for (size_t i = 0; i < OI_COUNT(gpt2_aliases); i++) {
        if (strcmp(gpt2_aliases[i].key, key) != 0) continue;
        const json_t *alias = json_object_get(r->config, gpt2_aliases[i].alias);
        if (!alias) break;
        if (*value && !json_equal(*value, alias))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s and %s (its other name) disagree", r->path, key,
                           gpt2_aliases[i].alias);
        *value = alias;
        *name = gpt2_aliases[i].alias;
    }
    return OCLINIT_SUCCESS;
}

static oclinit_status expected(const reader *r, const char *key, const char *what, const json_t *value) {
    char got[96];
    oi_json_describe(value, got, sizeof got);
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s: expected %s, got %s", r->path, key, what, got);
}

/* A positive integer. Absent: missing_default, or an error naming the key when it is < 0 (the key is required);
 * null: null_default, or an error when it is < 0. */
static oclinit_status get_count(const reader *r, const char *key, int64_t missing_default, int64_t null_default,
                                int64_t *count) {
    const json_t *value;
    const char *name;
    oclinit_status status = lookup(r, key, &value, &name);
    if (status != OCLINIT_SUCCESS) return status;
    if (!value && missing_default >= 0) {
        *count = missing_default;
        return OCLINIT_SUCCESS;
    }
    if (!value)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: %s: missing (a %s config needs %s)", r->path, key,
                       families[r->family].model_type, r->required);
    if (json_is_null(value) && null_default >= 0) {
        *count = null_default;
        return OCLINIT_SUCCESS;
    }
    if (!json_is_integer(value) || json_integer_value(value) < 1) return expected(r, name, "a positive integer", value);
    *count = json_integer_value(value);
    return OCLINIT_SUCCESS;
}

static oclinit_status get_flag(const reader *r, const char *key, bool missing_default, bool *flag) {
    const json_t *value = json_object_get(r->config, key);
    if (!value) {
        *flag = missing_default;
        return OCLINIT_SUCCESS;
    }
    if (!json_is_boolean(value)) return expected(r, key, "true or false", value);
    *flag = json_is_true(value);
    return OCLINIT_SUCCESS;
}

/* initializer_range: 0.02 in all four configuration classes. */
static oclinit_status get_range(const reader *r, double *range) {
    const json_t *value = json_object_get(r->config, "initializer_range");
    *range = 0.02;
    if (!value) return OCLINIT_SUCCESS;
    if (!json_is_number(value) || !(json_number_value(value) > 0) || !isfinite(json_number_value(value)))
        return expected(r, "initializer_range", "a number > 0", value);
    *range = json_number_value(value);
    return OCLINIT_SUCCESS;
}

/* nn.Embedding's padding_idx from pad_token_id: -1 for none; a negative index counts from the end, as torch's. */
static oclinit_status get_padding_row(const reader *r, int64_t vocab, int64_t *row) {
    const json_t *value = json_object_get(r->config, "pad_token_id");
    *row = -1;
    if (!value || json_is_null(value)) return OCLINIT_SUCCESS;
    if (!json_is_integer(value)) return expected(r, "pad_token_id", "an integer or null", value);
    json_int_t id = json_integer_value(value);
    if (id >= vocab || id < -vocab)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: pad_token_id: %lld is not a row of the embedding (vocab_size %" PRId64 ")", r->path,
                       (long long)id, vocab);
    *row = id < 0 ? vocab + id : id;
    return OCLINIT_SUCCESS;
}

/* torch_dtype (transformers >= 4.56 writes dtype): the checkpoint's element type; absent or null: float32. Any torch
 * dtype with a safetensors twin is taken, also those oclinit does not write: the caller refuses them only when the
 * user names no other (oclinit model --dtype). */
static oclinit_status get_dtype(const reader *r, oclinit_dtype *dtype) {
    const char *key = "torch_dtype";
    const json_t *value = json_object_get(r->config, key);
    if (!value) value = json_object_get(r->config, key = "dtype");
    *dtype = OCLINIT_DTYPE_F32;
    if (!value || json_is_null(value)) return OCLINIT_SUCCESS;
    static const struct {
        const char *name;
        oclinit_dtype dtype;
    } names[] = {{"float32", OCLINIT_DTYPE_F32},        {"float16", OCLINIT_DTYPE_F16},
                 {"bfloat16", OCLINIT_DTYPE_BF16},      {"float64", OCLINIT_DTYPE_F64},
                 {"int64", OCLINIT_DTYPE_I64},          {"int32", OCLINIT_DTYPE_I32},
                 {"int16", OCLINIT_DTYPE_I16},          {"int8", OCLINIT_DTYPE_I8},
                 {"uint64", OCLINIT_DTYPE_U64},         {"uint32", OCLINIT_DTYPE_U32},
                 {"uint16", OCLINIT_DTYPE_U16},         {"uint8", OCLINIT_DTYPE_U8},
                 {"bool", OCLINIT_DTYPE_BOOL},          {"float8_e4m3fn", OCLINIT_DTYPE_F8_E4M3},
                 {"float8_e5m2", OCLINIT_DTYPE_F8_E5M2}};
    for (size_t i = 0; json_is_string(value) && i < OI_COUNT(names); i++) {
        if (strcmp(json_string_value(value), names[i].name) == 0) {
            *dtype = names[i].dtype;
            return OCLINIT_SUCCESS;
        }
    }
    return expected(r, key, "a torch dtype such as \"float32\", \"float16\" or \"bfloat16\"", value);
}

/* A product of config values that a dimension is made of, e.g. num_attention_heads x head_dim. */
static oclinit_status product(const reader *r, const char *what, int64_t a, int64_t b, int64_t *out) {
    if (__builtin_mul_overflow(a, b, out))
        return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "%s: %s = %" PRId64 " x %" PRId64 " overflows", r->path, what, a,
                       b);
    return OCLINIT_SUCCESS;
}

static oclinit_shape vector(int64_t length) {
    oclinit_shape shape;
    memset(&shape, 0, sizeof shape);
    shape.rank = 1;
    shape.dims[0] = length;
    return shape;
}

static oclinit_scheme normal(double std) {
    oclinit_scheme scheme = oclinit_scheme_default(OCLINIT_SCHEME_NORMAL);
    scheme.mean = 0;
    scheme.std = std;
    return scheme;
}

/* The tensor prefix + module + suffix, e.g. "model.layers.3." "mlp.up_proj" ".weight". */
static oclinit_status param(const reader *r, const char *prefix, const char *module, const char *suffix,
                            oclinit_shape shape, oclinit_scheme scheme, int64_t zero_row) {
    char name[160]; /* the longest name is under 60 bytes */
    int length = snprintf(name, sizeof name, "%s%s%s", prefix, module, suffix);
    if (length < 0 || (size_t)length >= sizeof name)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: tensor %s%s%s: name too long", r->path, prefix, module,
                       suffix);
    return oi_model_add(r->model, r->path, name, &shape, &scheme, zero_row);
}

/* nn.Linear(in, out, bias): weight (out, in) N(0, std), bias (out) zeros. */
static oclinit_status linear(const reader *r, const char *prefix, const char *module, int64_t in, int64_t out,
                             bool bias, double std) {
    oclinit_status status = param(r, prefix, module, ".weight", oclinit_shape_matrix(out, in), normal(std), -1);
    if (status == OCLINIT_SUCCESS && bias)
        status = param(r, prefix, module, ".bias", vector(out), oclinit_scheme_default(OCLINIT_SCHEME_ZEROS), -1);
    return status;
}

/* GPT-2's Conv1D(out, in): weight (in, out) N(0, std), bias (out) zeros. */
static oclinit_status conv1d(const reader *r, const char *prefix, const char *module, int64_t in, int64_t out,
                             double std) {
    oclinit_status status = param(r, prefix, module, ".weight", oclinit_shape_matrix(in, out), normal(std), -1);
    if (status == OCLINIT_SUCCESS)
        status = param(r, prefix, module, ".bias", vector(out), oclinit_scheme_default(OCLINIT_SCHEME_ZEROS), -1);
    return status;
}

/* A norm's weight of ones and, for LayerNorm, its bias of zeros. */
static oclinit_status norm(const reader *r, const char *prefix, const char *module, int64_t size, bool bias) {
    oclinit_status status =
        param(r, prefix, module, ".weight", vector(size), oclinit_scheme_default(OCLINIT_SCHEME_ONES), -1);
    if (status == OCLINIT_SUCCESS && bias)
        status = param(r, prefix, module, ".bias", vector(size), oclinit_scheme_default(OCLINIT_SCHEME_ZEROS), -1);
    return status;
}

/* At most OI_MODEL_MAX_TENSORS, checked before any is made: per_layer tensors in each of layers, plus others. */
static oclinit_status check_layers(const reader *r, const char *key, int64_t layers, int64_t per_layer) {
    if (layers > (int64_t)(OI_MODEL_MAX_TENSORS / (size_t)per_layer))
        return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "%s: %s: %" PRId64 " layers make more than %zu tensors", r->path,
                       key, layers, OI_MODEL_MAX_TENSORS);
    return OCLINIT_SUCCESS;
}

static oclinit_status llama_family(const reader *r) {
    oclinit_status status = OCLINIT_SUCCESS;
    int64_t vocab, hidden, intermediate, layers, heads, key_value_heads, head_dim, q_size, kv_size, pad_row;
    bool attention_bias = false, mlp_bias = false, tied = false;
    double std;
    OI_CHECK(get_count(r, "vocab_size", -1, -1, &vocab));
    OI_CHECK(get_count(r, "hidden_size", -1, -1, &hidden));
    OI_CHECK(get_count(r, "intermediate_size", -1, -1, &intermediate));
    OI_CHECK(get_count(r, "num_hidden_layers", -1, -1, &layers));
    OI_CHECK(get_count(r, "num_attention_heads", -1, -1, &heads));
    int64_t default_kv = families[r->family].key_value_heads ? families[r->family].key_value_heads : heads;
    OI_CHECK(get_count(r, "num_key_value_heads", default_kv, heads, &key_value_heads));
    /* transformers divides with //: a hidden_size that is not a multiple of the heads still loads. transformers 4.45's
     * qwen2 ignored a head_dim key; later versions read it, as llama and mistral do. */
    OI_CHECK(get_count(r, "head_dim", hidden / heads, hidden / heads, &head_dim));
    if (head_dim < 1)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: head_dim: hidden_size / num_attention_heads = %" PRId64 " / %" PRId64
                       " is 0 (give head_dim)",
                       r->path, hidden, heads);
    if (heads % key_value_heads != 0)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: num_attention_heads (%" PRId64 ") must be a multiple of num_key_value_heads (%" PRId64 ")",
                       r->path, heads, key_value_heads);
    OI_CHECK(product(r, "num_attention_heads x head_dim", heads, head_dim, &q_size));
    OI_CHECK(product(r, "num_key_value_heads x head_dim", key_value_heads, head_dim, &kv_size));
    if (r->family == LLAMA) {
        OI_CHECK(get_flag(r, "attention_bias", false, &attention_bias));
        OI_CHECK(get_flag(r, "mlp_bias", false, &mlp_bias));
    }
    bool qkv_bias = attention_bias || r->family == QWEN2;
    OI_CHECK(get_flag(r, "tie_word_embeddings", families[r->family].tied, &tied));
    OI_CHECK(get_range(r, &std));
    OI_CHECK(get_padding_row(r, vocab, &pad_row));
    OI_CHECK(check_layers(r, "num_hidden_layers", layers, 16));

    OI_CHECK(param(r, "model.", "embed_tokens", ".weight", oclinit_shape_matrix(vocab, hidden), normal(std), pad_row));
    for (int64_t l = 0; l < layers; l++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "model.layers.%" PRId64 ".", l);
        OI_CHECK(linear(r, prefix, "self_attn.q_proj", hidden, q_size, qkv_bias, std));
        OI_CHECK(linear(r, prefix, "self_attn.k_proj", hidden, kv_size, qkv_bias, std));
        OI_CHECK(linear(r, prefix, "self_attn.v_proj", hidden, kv_size, qkv_bias, std));
        OI_CHECK(linear(r, prefix, "self_attn.o_proj", q_size, hidden, attention_bias, std));
        OI_CHECK(linear(r, prefix, "mlp.gate_proj", hidden, intermediate, mlp_bias, std));
        OI_CHECK(linear(r, prefix, "mlp.up_proj", hidden, intermediate, mlp_bias, std));
        OI_CHECK(linear(r, prefix, "mlp.down_proj", intermediate, hidden, mlp_bias, std));
        OI_CHECK(norm(r, prefix, "input_layernorm", hidden, false));
        OI_CHECK(norm(r, prefix, "post_attention_layernorm", hidden, false));
    }
    OI_CHECK(norm(r, "model.", "norm", hidden, false));
    if (!tied) OI_CHECK(linear(r, "", "lm_head", hidden, vocab, false, std));
cleanup:
    return status;
}

static oclinit_status gpt2(const reader *r) {
    oclinit_status status = OCLINIT_SUCCESS;
    int64_t vocab, embed, layers, heads, positions, inner, embed2, embed3, embed4;
    bool cross = false, tied = true;
    double std;
    OI_CHECK(get_count(r, "vocab_size", -1, -1, &vocab));
    OI_CHECK(get_count(r, "n_embd", -1, -1, &embed));
    OI_CHECK(get_count(r, "n_layer", -1, -1, &layers));
    OI_CHECK(get_count(r, "n_head", -1, -1, &heads));
    OI_CHECK(get_count(r, "n_positions", -1, -1, &positions));
    if (embed % heads != 0) /* GPT2Attention raises ValueError */
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: n_embd (%" PRId64 ") must be a multiple of n_head (%" PRId64 ")", r->path, embed, heads);
    OI_CHECK(product(r, "4 x n_embd", 4, embed, &embed4));
    OI_CHECK(product(r, "3 x n_embd", 3, embed, &embed3));
    embed2 = 2 * embed; /* below 3 x n_embd */
    OI_CHECK(get_count(r, "n_inner", embed4, embed4, &inner));
    OI_CHECK(get_flag(r, "add_cross_attention", false, &cross));
    OI_CHECK(get_flag(r, "tie_word_embeddings", families[GPT2].tied, &tied));
    OI_CHECK(get_range(r, &std));
    OI_CHECK(check_layers(r, "n_layer", layers, 22));
    double projection_std = std / sqrt(2.0 * (double)layers);

    OI_CHECK(param(r, "transformer.", "wte", ".weight", oclinit_shape_matrix(vocab, embed), normal(std), -1));
    OI_CHECK(param(r, "transformer.", "wpe", ".weight", oclinit_shape_matrix(positions, embed), normal(std), -1));
    for (int64_t l = 0; l < layers; l++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "transformer.h.%" PRId64 ".", l);
        OI_CHECK(norm(r, prefix, "ln_1", embed, true));
        OI_CHECK(conv1d(r, prefix, "attn.c_attn", embed, embed3, std));
        OI_CHECK(conv1d(r, prefix, "attn.c_proj", embed, embed, projection_std));
        OI_CHECK(norm(r, prefix, "ln_2", embed, true));
        if (cross) {
            OI_CHECK(conv1d(r, prefix, "crossattention.c_attn", embed, embed2, std));
            OI_CHECK(conv1d(r, prefix, "crossattention.q_attn", embed, embed, std));
            OI_CHECK(conv1d(r, prefix, "crossattention.c_proj", embed, embed, projection_std));
            OI_CHECK(norm(r, prefix, "ln_cross_attn", embed, true));
        }
        OI_CHECK(conv1d(r, prefix, "mlp.c_fc", embed, inner, std));
        OI_CHECK(conv1d(r, prefix, "mlp.c_proj", inner, embed, projection_std));
    }
    OI_CHECK(norm(r, "transformer.", "ln_f", embed, true));
    if (!tied) OI_CHECK(linear(r, "", "lm_head", embed, vocab, false, std));
cleanup:
    return status;
}

oclinit_status oi_model_from_hf(const char *path, const json_t *config, oclinit_model_t model) {
    reader r = {.path = path, .config = config, .model = model};
    char got[96];
    if (!json_is_object(config)) {
        oi_json_describe(config, got, sizeof got);
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: expected a JSON object (a config.json), got %s", path, got);
    }
    const json_t *type = json_object_get(config, "model_type");
    if (!type)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: model_type: missing (oclinit supports llama, mistral, qwen2 and gpt2)", path);
    if (!json_is_string(type)) return expected(&r, "model_type", "a string", type);
    size_t f = 0;
    while (f < OI_COUNT(families) && strcmp(families[f].model_type, json_string_value(type)) != 0) f++;
    if (f == OI_COUNT(families)) {
        oi_json_describe(type, got, sizeof got);
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED,
                       "%s: model_type: %s is not supported (supported: llama, mistral, qwen2, gpt2)", path, got);
    }
    r.family = (family)f;
    r.required = r.family == GPT2 ? "vocab_size, n_embd, n_layer, n_head and n_positions"
                                  : "vocab_size, hidden_size, intermediate_size, num_hidden_layers and "
                                    "num_attention_heads";
    /* The tensors are those of the causal language model; another head (a classifier, ...) has others. */
    const json_t *architectures = json_object_get(config, "architectures");
    if (architectures && !json_is_null(architectures)) {
        size_t i;
        const json_t *one;
        if (!json_is_array(architectures)) return expected(&r, "architectures", "a list of class names", architectures);
        json_array_foreach(architectures, i, one) {
            if (json_is_string(one) && strcmp(json_string_value(one), families[f].architecture) == 0) continue;
            oi_json_describe(one, got, sizeof got);
            return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "%s: architectures[%zu]: %s is not supported (for %s: %s)",
                           path, i, got, families[f].model_type, families[f].architecture);
        }
    }
    const json_t *quantization = json_object_get(config, "quantization_config");
    if (quantization && !json_is_null(quantization)) /* null is no quantization to transformers */
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED,
                       "%s: quantization_config: quantized models are not supported (their tensors differ)", path);
    oclinit_status status = get_dtype(&r, &model->dtype);
    if (status != OCLINIT_SUCCESS) return status;
    return r.family == GPT2 ? gpt2(&r) : llama_family(&r);
}
