/* Whole models: the tensors of Hugging Face configs (names, shapes, schemes, tied or not), oclinit's spec (rules,
 * default, options), the name -> stream rule, and every refusal with its message. tests/hf_names_test.py checks the
 * same lists against transformers itself. */
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "helpers.h"

static char directory[] = "/tmp/oclinit-test-model-XXXXXX";
static char path[sizeof directory + 32];

/* text into directory/name; returns the path. */
static const char *write_json(const char *name, const char *text) {
    snprintf(path, sizeof path, "%s/%s", directory, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static oclinit_model_t config(const char *text) {
    oclinit_model_t model = NULL;
    assert_ok(oclinit_model_load_config(write_json("config.json", text), &model));
    return model;
}

static oclinit_model_t spec(const char *text) {
    oclinit_model_t model = NULL;
    assert_ok(oclinit_model_load_spec(write_json("spec.json", text), &model));
    return model;
}

/* Loading fails with status and a detail holding each of the NULL-terminated parts. */
static void refused(bool is_spec, const char *text, oclinit_status expected, ...) {
    oclinit_model_t model = (oclinit_model_t)(uintptr_t)1;
    const char *file = write_json(is_spec ? "spec.json" : "config.json", text);
    oclinit_status status = is_spec ? oclinit_model_load_spec(file, &model) : oclinit_model_load_config(file, &model);
    const char *detail = oclinit_error_get_detail();
    if (status != expected) print_error("status %d for %s\n  detail: %s\n", status, text, detail);
    assert_int_equal(status, expected);
    assert_null(model);
    va_list parts;
    va_start(parts, expected);
    for (const char *part = va_arg(parts, const char *); part; part = va_arg(parts, const char *)) {
        if (!strstr(detail, part)) print_error("detail \"%s\" lacks \"%s\"\n", detail, part);
        assert_non_null(strstr(detail, part));
    }
    va_end(parts);
}
#define CONFIG_REFUSED(text, status, ...) refused(false, text, status, __VA_ARGS__, NULL)
#define SPEC_REFUSED(text, status, ...) refused(true, text, status, __VA_ARGS__, NULL)

static const oclinit_model_tensor *find(oclinit_model_t model, const char *name) {
    for (size_t i = 0; i < oclinit_model_get_count(model); i++) {
        const oclinit_model_tensor *t = oclinit_model_get_tensor(model, i);
        if (strcmp(t->name, name) == 0) return t;
    }
    print_error("no tensor %s\n", name);
    fail();
    return NULL;
}

/* name has that shape (rank = the number of dims given, up to 3) and scheme, and a normal scheme that std. */
static void expect(oclinit_model_t model, const char *name, oclinit_scheme_kind kind, double std, int rank, int64_t d0,
                   int64_t d1) {
    const oclinit_model_tensor *t = find(model, name);
    if (t->shape.rank != rank || t->shape.dims[0] != d0 || (rank > 1 && t->shape.dims[1] != d1))
        print_error("%s: rank %d (%lld, %lld), expected %d (%lld, %lld)\n", name, t->shape.rank,
                    (long long)t->shape.dims[0], (long long)t->shape.dims[1], rank, (long long)d0, (long long)d1);
    assert_int_equal(t->shape.rank, rank);
    assert_int_equal(t->shape.dims[0], d0);
    if (rank > 1) assert_int_equal(t->shape.dims[1], d1);
    assert_int_equal(t->scheme.kind, kind);
    if (kind == OCLINIT_SCHEME_NORMAL) {
        assert_true(t->scheme.mean == 0);
        assert_true(fabs(t->scheme.std - std) <= 1e-15 * std);
    }
    assert_true(t->stream == oclinit_tensor_stream(name));
}

static int setup(void **state) {
    (void)state;
    return mkdtemp(directory) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char file[sizeof path];
    snprintf(file, sizeof file, "%s/config.json", directory);
    unlink(file);
    snprintf(file, sizeof file, "%s/spec.json", directory);
    unlink(file);
    return rmdir(directory);
}

static void streams_are_fnv1a_of_names(void **state) {
    (void)state;
    /* The published FNV-1a 64 test vectors (Fowler, Noll, Vo) and one tensor name. */
    assert_true(oclinit_tensor_stream("") == 0xcbf29ce484222325ull);
    assert_true(oclinit_tensor_stream("a") == 0xaf63dc4c8601ec8cull);
    assert_true(oclinit_tensor_stream("foobar") == 0x85944171f73967e8ull);
    assert_true(oclinit_tensor_stream("model.embed_tokens.weight") == 0xa88fd795d5c6d156ull);
    assert_true(oclinit_tensor_stream(NULL) == 0);
}

#define LLAMA                                                                                                          \
    "\"vocab_size\": 128, \"hidden_size\": 64, \"intermediate_size\": 96, \"num_hidden_layers\": 2, "                  \
    "\"num_attention_heads\": 4"

static void llama_untied(void **state) {
    (void)state;
    oclinit_model_t m = config("{\"model_type\": \"llama\", \"architectures\": [\"LlamaForCausalLM\"], " LLAMA
                               ", \"num_key_value_heads\": 2, \"torch_dtype\": \"bfloat16\", \"pad_token_id\": 0, "
                               "\"initializer_range\": 0.05, \"rope_scaling\": null}");
    /* embed, 2 x (7 linears, 2 norms), norm, lm_head */
    assert_int_equal(oclinit_model_get_count(m), 1 + 2 * 9 + 2);
    assert_int_equal(oclinit_model_get_dtype(m), OCLINIT_DTYPE_BF16);
    assert_true(oclinit_model_get_seed(m) == 0);
    static const char *const order[] = {
        "model.embed_tokens.weight",
        "model.layers.0.self_attn.q_proj.weight",
        "model.layers.0.self_attn.k_proj.weight",
        "model.layers.0.self_attn.v_proj.weight",
        "model.layers.0.self_attn.o_proj.weight",
        "model.layers.0.mlp.gate_proj.weight",
        "model.layers.0.mlp.up_proj.weight",
        "model.layers.0.mlp.down_proj.weight",
        "model.layers.0.input_layernorm.weight",
        "model.layers.0.post_attention_layernorm.weight",
        "model.layers.1.self_attn.q_proj.weight",
    };
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        assert_string_equal(oclinit_model_get_tensor(m, i)->name, order[i]);
    assert_string_equal(oclinit_model_get_tensor(m, 19)->name, "model.norm.weight");
    assert_string_equal(oclinit_model_get_tensor(m, 20)->name, "lm_head.weight");
    assert_null(oclinit_model_get_tensor(m, 21));
    expect(m, "model.embed_tokens.weight", OCLINIT_SCHEME_NORMAL, 0.05, 2, 128, 64);
    assert_int_equal(find(m, "model.embed_tokens.weight")->zero_row, 0);
    expect(m, "model.layers.1.self_attn.q_proj.weight", OCLINIT_SCHEME_NORMAL, 0.05, 2, 64, 64);
    expect(m, "model.layers.1.self_attn.k_proj.weight", OCLINIT_SCHEME_NORMAL, 0.05, 2, 32, 64); /* 2 x 16 */
    expect(m, "model.layers.1.mlp.down_proj.weight", OCLINIT_SCHEME_NORMAL, 0.05, 2, 64, 96);
    expect(m, "model.layers.1.post_attention_layernorm.weight", OCLINIT_SCHEME_ONES, 0, 1, 64, 0);
    expect(m, "lm_head.weight", OCLINIT_SCHEME_NORMAL, 0.05, 2, 128, 64);
    assert_int_equal(find(m, "lm_head.weight")->zero_row, -1);
    oclinit_model_free(m);
}

static void llama_tied_with_biases(void **state) {
    (void)state;
    /* Older configs lack num_key_value_heads (then one per head), initializer_range (0.02) and torch_dtype (f32). */
    oclinit_model_t m = config("{\"model_type\": \"llama\", " LLAMA ", \"tie_word_embeddings\": true, "
                               "\"attention_bias\": true, \"mlp_bias\": true, \"head_dim\": 32, \"pad_token_id\": -1}");
    assert_int_equal(oclinit_model_get_count(m), 1 + 2 * 16 + 1);
    assert_int_equal(oclinit_model_get_dtype(m), OCLINIT_DTYPE_F32);
    expect(m, "model.embed_tokens.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 128, 64);
    assert_int_equal(find(m, "model.embed_tokens.weight")->zero_row, 127);
    expect(m, "model.layers.0.self_attn.q_proj.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 128, 64); /* 4 x 32 */
    expect(m, "model.layers.0.self_attn.q_proj.bias", OCLINIT_SCHEME_ZEROS, 0, 1, 128, 0);
    expect(m, "model.layers.0.self_attn.k_proj.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 128, 64);
    expect(m, "model.layers.0.self_attn.o_proj.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 64, 128);
    expect(m, "model.layers.0.self_attn.o_proj.bias", OCLINIT_SCHEME_ZEROS, 0, 1, 64, 0);
    expect(m, "model.layers.1.mlp.up_proj.bias", OCLINIT_SCHEME_ZEROS, 0, 1, 96, 0);
    assert_string_equal(oclinit_model_get_tensor(m, 2)->name, "model.layers.0.self_attn.q_proj.bias");
    assert_string_equal(oclinit_model_get_tensor(m, 33)->name, "model.norm.weight");
    oclinit_model_free(m);
}

static void qwen2_and_mistral(void **state) {
    (void)state;
    oclinit_model_t m =
        config("{\"model_type\": \"qwen2\", \"vocab_size\": 150, \"hidden_size\": 48, "
               "\"intermediate_size\": 112, \"num_hidden_layers\": 2, \"num_attention_heads\": 6, "
               "\"num_key_value_heads\": 2, \"tie_word_embeddings\": true, \"torch_dtype\": \"float16\"}");
    assert_int_equal(oclinit_model_get_count(m), 1 + 2 * 12 + 1); /* q, k, v biases; tied: no lm_head */
    assert_int_equal(oclinit_model_get_dtype(m), OCLINIT_DTYPE_F16);
    expect(m, "model.layers.1.self_attn.k_proj.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 16, 48);
    expect(m, "model.layers.1.self_attn.k_proj.bias", OCLINIT_SCHEME_ZEROS, 0, 1, 16, 0);
    expect(m, "model.layers.1.self_attn.v_proj.bias", OCLINIT_SCHEME_ZEROS, 0, 1, 16, 0);
    assert_string_equal(oclinit_model_get_tensor(m, 7)->name, "model.layers.0.self_attn.o_proj.weight");
    assert_string_equal(oclinit_model_get_tensor(m, 8)->name, "model.layers.0.mlp.gate_proj.weight");
    assert_int_equal(find(m, "model.embed_tokens.weight")->zero_row, -1);
    oclinit_model_free(m);
    /* Qwen2Config's num_key_value_heads defaults to 32, MistralConfig's to 8 (null: one per head). */
    m = config("{\"model_type\": \"qwen2\", \"vocab_size\": 10, \"hidden_size\": 64, \"intermediate_size\": 8, "
               "\"num_hidden_layers\": 1, \"num_attention_heads\": 32}");
    expect(m, "model.layers.0.self_attn.k_proj.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 64, 64);
    expect(m, "lm_head.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 10, 64);
    oclinit_model_free(m);
    m = config("{\"model_type\": \"mistral\", \"vocab_size\": 100, \"hidden_size\": 64, \"intermediate_size\": 80, "
               "\"num_hidden_layers\": 3, \"num_attention_heads\": 16, \"head_dim\": 8, \"pad_token_id\": 2}");
    assert_int_equal(oclinit_model_get_count(m), 1 + 3 * 9 + 2);
    expect(m, "model.layers.2.self_attn.q_proj.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 128, 64);
    expect(m, "model.layers.2.self_attn.k_proj.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 64, 64); /* 8 x 8 */
    assert_int_equal(find(m, "model.embed_tokens.weight")->zero_row, 2);
    oclinit_model_free(m);
    m = config("{\"model_type\": \"mistral\", \"vocab_size\": 100, \"hidden_size\": 64, \"intermediate_size\": 80, "
               "\"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"num_key_value_heads\": null}");
    expect(m, "model.layers.0.self_attn.k_proj.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 64, 64);
    oclinit_model_free(m);
}

static void gpt2_conv1d_and_scaled_projections(void **state) {
    (void)state;
    oclinit_model_t m = config("{\"model_type\": \"gpt2\", \"vocab_size\": 120, \"n_embd\": 64, \"n_layer\": 8, "
                               "\"n_head\": 4, \"n_positions\": 40, \"n_inner\": null, \"initializer_range\": 0.05}");
    assert_int_equal(oclinit_model_get_count(m), 2 + 8 * 12 + 2); /* tied by default */
    static const char *const order[] = {
        "transformer.wte.weight",
        "transformer.wpe.weight",
        "transformer.h.0.ln_1.weight",
        "transformer.h.0.ln_1.bias",
        "transformer.h.0.attn.c_attn.weight",
        "transformer.h.0.attn.c_attn.bias",
        "transformer.h.0.attn.c_proj.weight",
        "transformer.h.0.attn.c_proj.bias",
        "transformer.h.0.ln_2.weight",
        "transformer.h.0.ln_2.bias",
        "transformer.h.0.mlp.c_fc.weight",
        "transformer.h.0.mlp.c_fc.bias",
        "transformer.h.0.mlp.c_proj.weight",
        "transformer.h.0.mlp.c_proj.bias",
        "transformer.h.1.ln_1.weight",
    };
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        assert_string_equal(oclinit_model_get_tensor(m, i)->name, order[i]);
    assert_string_equal(oclinit_model_get_tensor(m, 99)->name, "transformer.ln_f.bias");
    const double projection = 0.05 / sqrt(16.0);
    expect(m, "transformer.wpe.weight", OCLINIT_SCHEME_NORMAL, 0.05, 2, 40, 64);
    expect(m, "transformer.h.7.attn.c_attn.weight", OCLINIT_SCHEME_NORMAL, 0.05, 2, 64, 192); /* (in, out) */
    expect(m, "transformer.h.7.attn.c_attn.bias", OCLINIT_SCHEME_ZEROS, 0, 1, 192, 0);
    expect(m, "transformer.h.7.attn.c_proj.weight", OCLINIT_SCHEME_NORMAL, projection, 2, 64, 64);
    expect(m, "transformer.h.7.mlp.c_fc.weight", OCLINIT_SCHEME_NORMAL, 0.05, 2, 64, 256);
    expect(m, "transformer.h.7.mlp.c_proj.weight", OCLINIT_SCHEME_NORMAL, projection, 2, 256, 64);
    expect(m, "transformer.h.7.ln_2.weight", OCLINIT_SCHEME_ONES, 0, 1, 64, 0);
    expect(m, "transformer.ln_f.bias", OCLINIT_SCHEME_ZEROS, 0, 1, 64, 0);
    oclinit_model_free(m);
    /* The generic names of GPT2Config's attribute_map, cross-attention, untied; pad_token_id is not GPT-2's padding. */
    m = config("{\"model_type\": \"gpt2\", \"vocab_size\": 120, \"hidden_size\": 48, \"num_hidden_layers\": 2, "
               "\"n_head\": 4, \"max_position_embeddings\": 30, \"n_inner\": 100, \"add_cross_attention\": true, "
               "\"tie_word_embeddings\": false, \"pad_token_id\": 1}");
    assert_int_equal(oclinit_model_get_count(m), 2 + 2 * 20 + 2 + 1);
    assert_string_equal(oclinit_model_get_tensor(m, 10)->name, "transformer.h.0.crossattention.c_attn.weight");
    expect(m, "transformer.h.1.crossattention.c_attn.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 48, 96);
    expect(m, "transformer.h.1.crossattention.q_attn.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 48, 48);
    expect(m, "transformer.h.1.crossattention.c_proj.weight", OCLINIT_SCHEME_NORMAL, 0.01, 2, 48, 48);
    expect(m, "transformer.h.1.ln_cross_attn.bias", OCLINIT_SCHEME_ZEROS, 0, 1, 48, 0);
    expect(m, "transformer.h.1.mlp.c_fc.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 48, 100);
    expect(m, "lm_head.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 120, 48);
    assert_int_equal(find(m, "transformer.wte.weight")->zero_row, -1);
    oclinit_model_free(m);
}

static void config_refusals(void **state) {
    (void)state;
    const oclinit_status bad = OCLINIT_ERROR_INVALID_ARGUMENT;
    CONFIG_REFUSED("{\"model_type\": \"bert\", \"vocab_size\": 3}", OCLINIT_ERROR_NOT_SUPPORTED,
                   "config.json: model_type: \"bert\" is not supported (supported: llama, mistral, qwen2, gpt2)");
    CONFIG_REFUSED("{\"vocab_size\": 3}", bad, "config.json: model_type: missing");
    CONFIG_REFUSED("{\"model_type\": \"llama\", \"vocab_size\": 128, \"hidden_size\": 64, \"num_hidden_layers\": 2, "
                   "\"num_attention_heads\": 4}",
                   bad, "config.json: intermediate_size: missing (a llama config needs vocab_size, hidden_size");
    CONFIG_REFUSED("{\"model_type\": \"gpt2\", \"vocab_size\": 1, \"n_embd\": 4, \"n_layer\": 1, \"n_head\": 1}", bad,
                   "n_positions: missing (a gpt2 config needs vocab_size, n_embd, n_layer, n_head and n_positions)");
    CONFIG_REFUSED(
        "{\"model_type\": \"llama\", " LLAMA ", \"architectures\": [\"LlamaForSequenceClassification\"]}",
        OCLINIT_ERROR_NOT_SUPPORTED,
        "architectures[0]: \"LlamaForSequenceClassification\" is not supported (for llama: LlamaForCausalLM)");
    CONFIG_REFUSED(
        "{\"model_type\": \"llama\", \"vocab_size\": 128, \"hidden_size\": \"64\", \"intermediate_size\": 96, "
        "\"num_hidden_layers\": 2, \"num_attention_heads\": 4}",
        bad, "config.json: hidden_size: expected a positive integer, got \"64\"");
    CONFIG_REFUSED("{\"model_type\": \"llama\", " LLAMA ", \"num_key_value_heads\": 0}", bad,
                   "num_key_value_heads: expected a positive integer, got 0");
    CONFIG_REFUSED("{\"model_type\": \"llama\", " LLAMA ", \"num_key_value_heads\": 3}", bad,
                   "num_attention_heads (4) must be a multiple of num_key_value_heads (3)");
    CONFIG_REFUSED("{\"model_type\": \"llama\", " LLAMA ", \"tie_word_embeddings\": 1}", bad,
                   "tie_word_embeddings: expected true or false, got 1");
    CONFIG_REFUSED("{\"model_type\": \"llama\", " LLAMA ", \"pad_token_id\": 128}", bad,
                   "pad_token_id: 128 is not a row of the embedding (vocab_size 128)");
    CONFIG_REFUSED("{\"model_type\": \"llama\", " LLAMA ", \"torch_dtype\": \"complex64\"}", bad,
                   "torch_dtype: expected a torch dtype such as \"float32\", \"float16\" or \"bfloat16\", got "
                   "\"complex64\"");
    CONFIG_REFUSED("{\"model_type\": \"llama\", " LLAMA ", \"initializer_range\": -1}", bad,
                   "initializer_range: expected a number > 0, got -1");
    CONFIG_REFUSED("{\"model_type\": \"llama\", " LLAMA ", \"quantization_config\": {\"bits\": 4}}",
                   OCLINIT_ERROR_NOT_SUPPORTED, "quantization_config: quantized models are not supported");
    CONFIG_REFUSED("{\"model_type\": \"llama\", \"vocab_size\": 128, \"hidden_size\": 2, \"intermediate_size\": 96, "
                   "\"num_hidden_layers\": 2, \"num_attention_heads\": 4}",
                   bad, "head_dim: hidden_size / num_attention_heads = 2 / 4 is 0");
    CONFIG_REFUSED("{\"model_type\": \"gpt2\", \"vocab_size\": 1, \"n_embd\": 6, \"n_layer\": 1, \"n_head\": 4, "
                   "\"n_positions\": 2}",
                   bad, "n_embd (6) must be a multiple of n_head (4)");
    CONFIG_REFUSED("{\"model_type\": \"gpt2\", \"vocab_size\": 1, \"n_embd\": 8, \"hidden_size\": 16, \"n_layer\": 1, "
                   "\"n_head\": 4, \"n_positions\": 2}",
                   bad, "n_embd and hidden_size (its other name) disagree");
    /* Too large: one tensor's elements (named), a product of two keys, the number of layers. */
    CONFIG_REFUSED("{\"model_type\": \"llama\", \"vocab_size\": 4398046511104, \"hidden_size\": 4398046511104, "
                   "\"intermediate_size\": 96, \"num_hidden_layers\": 2, \"num_attention_heads\": 4}",
                   OCLINIT_ERROR_SIZE_OVERFLOW, "config.json: tensor model.embed_tokens.weight: shape",
                   "more than 2^61 elements");
    CONFIG_REFUSED("{\"model_type\": \"llama\", " LLAMA ", \"head_dim\": 4611686018427387904}",
                   OCLINIT_ERROR_SIZE_OVERFLOW, "num_attention_heads x head_dim = 4 x 4611686018427387904 overflows");
    CONFIG_REFUSED("{\"model_type\": \"llama\", \"vocab_size\": 128, \"hidden_size\": 64, \"intermediate_size\": 96, "
                   "\"num_hidden_layers\": 100000000, \"num_attention_heads\": 4}",
                   OCLINIT_ERROR_SIZE_OVERFLOW, "num_hidden_layers: 100000000 layers make more than 1048576 tensors");
    CONFIG_REFUSED("{\"model_type\": \"llama\", " LLAMA ", \"hidden_size\": 32}", bad,
                   "config.json:1:", "duplicate object key");
    CONFIG_REFUSED("{\"model_type\": \"llama\",\n \"vocab_size\": 128,,}", bad, "config.json:2:");
    /* jansson names no key for an integer beyond 2^63 - 1: the message does. */
    CONFIG_REFUSED("{\"model_type\": \"llama\", \"vocab_size\": 99999999999999999999}", bad, "config.json:1:",
                   ": vocab_size: too big integer near '99999999999999999999' (integers go from -2^63 to 2^63 - 1)");
    CONFIG_REFUSED("[1, 2]", bad, "config.json: expected a JSON object (a config.json), got a list");
    oclinit_model_t model = NULL;
    assert_int_equal(oclinit_model_load_config("/nonexistent/config.json", &model), OCLINIT_ERROR_IO);
    assert_non_null(strstr(oclinit_error_get_detail(), "/nonexistent/config.json"));
    assert_int_equal(oclinit_model_load_config(NULL, &model), bad);
    assert_int_equal(oclinit_model_load_spec(directory, NULL), bad);
    assert_int_equal(oclinit_model_get_count(NULL), 0);
    assert_null(oclinit_model_get_tensor(NULL, 0));
    assert_int_equal(oclinit_model_get_dtype(NULL), OCLINIT_DTYPE_F32);
    assert_true(oclinit_model_get_seed(NULL) == 0);
    oclinit_model_free(NULL);
}

/* What a config may say that oclinit takes: a null quantization_config (none, to transformers), and a torch_dtype
 * oclinit does not write, kept for the caller (oclinit model refuses it unless --dtype names another). */
static void config_dtype_and_null_quantization(void **state) {
    (void)state;
    oclinit_model_t m = config("{\"model_type\": \"llama\", " LLAMA ", \"quantization_config\": null}");
    assert_int_equal(oclinit_model_get_dtype(m), OCLINIT_DTYPE_F32);
    oclinit_model_free(m);
    m = config("{\"model_type\": \"llama\", " LLAMA ", \"torch_dtype\": \"float64\"}");
    assert_int_equal(oclinit_model_get_dtype(m), OCLINIT_DTYPE_F64);
    oclinit_model_free(m);
    m = config("{\"model_type\": \"gpt2\", \"vocab_size\": 1, \"n_embd\": 4, \"n_layer\": 1, \"n_head\": 1, "
               "\"n_positions\": 2, \"dtype\": \"bfloat16\"}");
    assert_int_equal(oclinit_model_get_dtype(m), OCLINIT_DTYPE_BF16);
    oclinit_model_free(m);
}

static void spec_rules_and_default(void **state) {
    (void)state;
    oclinit_model_t m = spec("{\"seed\": 42, \"dtype\": \"bf16\", \"tensors\": ["
                             "{\"name\": \"embed.weight\", \"shape\": [100, 16], \"scheme\": \"normal\", "
                             "\"std\": 0.02, \"zero_row\": 0},"
                             "{\"name\": \"layers.0.attn.weight\", \"shape\": [16, 16]},"
                             "{\"name\": \"layers.0.attn.bias\", \"shape\": [16]},"
                             "{\"name\": \"layers.0.norm.weight\", \"shape\": [16]},"
                             "{\"name\": \"layers.0.conv.weight\", \"shape\": [8, 4, 3, 3], \"scheme\": \"he-normal\", "
                             "\"mode\": \"fan_out\", \"nonlinearity\": \"leaky_relu\", \"negative_slope\": 0.1},"
                             "{\"name\": \"head.weight\", \"shape\": [2, 16]}],"
                             "\"rules\": [{\"match\": \"*norm.weight\", \"scheme\": \"ones\"},"
                             "{\"match\": \"*.bias\", \"scheme\": \"zeros\"},"
                             "{\"match\": \"*attn.*\", \"scheme\": \"orthogonal\", \"gain\": 2}],"
                             "\"default\": {\"scheme\": \"xavier-uniform\", \"gain\": 0.5}}");
    assert_int_equal(oclinit_model_get_count(m), 6);
    assert_true(oclinit_model_get_seed(m) == 42);
    assert_int_equal(oclinit_model_get_dtype(m), OCLINIT_DTYPE_BF16);
    expect(m, "embed.weight", OCLINIT_SCHEME_NORMAL, 0.02, 2, 100, 16);
    assert_int_equal(find(m, "embed.weight")->zero_row, 0);
    expect(m, "layers.0.attn.weight", OCLINIT_SCHEME_ORTHOGONAL, 0, 2, 16, 16);
    assert_true(find(m, "layers.0.attn.weight")->scheme.gain == 2);
    expect(m, "layers.0.attn.bias", OCLINIT_SCHEME_ZEROS, 0, 1, 16, 0); /* the first rule that matches */
    expect(m, "layers.0.norm.weight", OCLINIT_SCHEME_ONES, 0, 1, 16, 0);
    const oclinit_model_tensor *conv = find(m, "layers.0.conv.weight");
    assert_int_equal(conv->scheme.kind, OCLINIT_SCHEME_KAIMING_NORMAL);
    assert_int_equal(conv->shape.rank, 4);
    assert_int_equal(conv->scheme.mode, OCLINIT_FAN_OUT);
    assert_int_equal(conv->scheme.nonlinearity, OCLINIT_NONLINEARITY_LEAKY_RELU);
    assert_true(conv->scheme.negative_slope == 0.1);
    expect(m, "head.weight", OCLINIT_SCHEME_XAVIER_UNIFORM, 0, 2, 2, 16);
    assert_true(find(m, "head.weight")->scheme.gain == 0.5);
    assert_int_equal(find(m, "head.weight")->zero_row, -1);
    oclinit_model_free(m);
    /* Without seed, dtype, rules and default; every option of the CLI. */
    m = spec("{\"tensors\": [{\"name\": \"w\", \"shape\": [4, 6], \"scheme\": \"variance-scaling\", \"scale\": 2, "
             "\"mode\": \"fan_avg\", \"distribution\": \"uniform\", \"convention\": \"keras\", \"fan-in\": 10, "
             "\"fan_out\": 20}, {\"name\": \"s\", \"shape\": [8, 8], \"scheme\": \"sparse\", \"sparsity\": 0.5, "
             "\"std\": 0.1}, {\"name\": \"d\", \"shape\": [4, 2, 3], \"scheme\": \"dirac\", \"groups\": 2}, "
             "{\"name\": \"c\", \"shape\": [3], \"scheme\": \"constant\", \"value\": -1.5}, {\"name\": \"t\", "
             "\"shape\": [3], \"scheme\": \"trunc-normal\", \"mean\": 1, \"std\": 2, \"a\": -3, \"b\": 4}]}");
    assert_true(oclinit_model_get_seed(m) == 0);
    assert_int_equal(oclinit_model_get_dtype(m), OCLINIT_DTYPE_F32);
    const oclinit_model_tensor *w = find(m, "w");
    assert_true(w->scheme.scale == 2 && w->scheme.fan_in == 10 && w->scheme.fan_out == 20);
    assert_int_equal(w->scheme.mode, OCLINIT_FAN_AVG);
    assert_int_equal(w->scheme.distribution, OCLINIT_DISTRIBUTION_UNIFORM);
    assert_int_equal(w->scheme.convention, OCLINIT_CONVENTION_KERAS);
    assert_true(find(m, "s")->scheme.sparsity == 0.5 && find(m, "s")->scheme.std == 0.1);
    assert_int_equal(find(m, "d")->scheme.groups, 2);
    assert_true(find(m, "c")->scheme.value == -1.5);
    const oclinit_model_tensor *t = find(m, "t");
    assert_true(t->scheme.mean == 1 && t->scheme.std == 2 && t->scheme.a == -3 && t->scheme.b == 4);
    oclinit_model_free(m);
    /* A seed beyond JSON's integers as a decimal string; bracket globs, with ']' and an escaped '[' as members. */
    m = spec("{\"seed\": \"18446744073709551615\", \"tensors\": [{\"name\": \"a.weight\", \"shape\": [2]}, "
             "{\"name\": \"b]\", \"shape\": [2]}, {\"name\": \"c[\", \"shape\": [2]}], \"rules\": [{\"match\": "
             "\"[!b].weight\", \"scheme\": \"ones\"}, {\"match\": \"?[]]\", \"scheme\": \"zeros\"}, {\"match\": "
             "\"c[\\\\[]\", \"scheme\": \"normal\"}]}");
    assert_true(oclinit_model_get_seed(m) == UINT64_MAX);
    assert_int_equal(find(m, "a.weight")->scheme.kind, OCLINIT_SCHEME_ONES);
    assert_int_equal(find(m, "b]")->scheme.kind, OCLINIT_SCHEME_ZEROS);
    assert_int_equal(find(m, "c[")->scheme.kind, OCLINIT_SCHEME_NORMAL);
    oclinit_model_free(m);
}

/* rule (glob, how many names it matches, how many tensors took its scheme), as the loader counted. */
static void expect_rule(oclinit_model_t model, size_t index, const char *match, size_t matched, size_t applied) {
    const oi_model_rule *rule = oi_model_get_rule(model, index);
    assert_non_null(rule);
    if (strcmp(rule->match, match) != 0 || rule->matched != matched || rule->applied != applied)
        print_error("rules[%zu]: \"%s\" matched %zu, applied %zu; expected \"%s\", %zu, %zu\n", index, rule->match,
                    rule->matched, rule->applied, match, matched, applied);
    assert_string_equal(rule->match, match);
    assert_int_equal(rule->matched, matched);
    assert_int_equal(rule->applied, applied);
}

static void spec_rule_counts(void **state) {
    (void)state;
    /* A name a rule matches counts whether or not the tensor took the rule's scheme (its own, an earlier rule's). */
    oclinit_model_t m = spec("{\"tensors\": [{\"name\": \"a.weight\", \"shape\": [2, 2], \"scheme\": \"zeros\"}, "
                             "{\"name\": \"a.bias\", \"shape\": [2]}, {\"name\": \"b.bias\", \"shape\": [2]}, "
                             "{\"name\": \"norm.weight\", \"shape\": [2]}, {\"name\": \"head\", \"shape\": [2]}], "
                             "\"rules\": [{\"match\": \"*.bias\", \"scheme\": \"zeros\"}, {\"match\": \"b.*\", "
                             "\"scheme\": \"ones\"}, {\"match\": \"*.weight\", \"scheme\": \"ones\"}, {\"match\": "
                             "\"z[!a]*\", \"scheme\": \"ones\"}], \"default\": {\"scheme\": \"normal\"}}");
    assert_int_equal(oi_model_rule_count(m), 4);
    expect_rule(m, 0, "*.bias", 2, 2);
    expect_rule(m, 1, "b.*", 1, 0);      /* b.bias took rules[0] */
    expect_rule(m, 2, "*.weight", 2, 1); /* a.weight has its own scheme */
    expect_rule(m, 3, "z[!a]*", 0, 0);   /* what `oclinit model` warns of */
    assert_int_equal(find(m, "b.bias")->scheme.kind, OCLINIT_SCHEME_ZEROS);
    assert_int_equal(find(m, "norm.weight")->scheme.kind, OCLINIT_SCHEME_ONES);
    assert_int_equal(find(m, "head")->scheme.kind, OCLINIT_SCHEME_NORMAL);
    assert_null(oi_model_get_rule(m, 4));
    assert_non_null(strstr(oclinit_error_get_detail(), "index 4 is not below the model's 4 rules"));
    /* The globs are the model's own: the file may change or go. */
    write_json("spec.json", "{}");
    expect_rule(m, 0, "*.bias", 2, 2);
    oclinit_model_free(m);
    /* No rules: a spec without them, a config, NULL. */
    m = spec("{\"tensors\": [{\"name\": \"x\", \"shape\": [4], \"scheme\": \"ones\"}], \"rules\": []}");
    assert_int_equal(oi_model_rule_count(m), 0);
    assert_null(oi_model_get_rule(m, 0));
    oclinit_model_free(m);
    m = config("{\"model_type\": \"llama\", " LLAMA "}");
    assert_int_equal(oi_model_rule_count(m), 0);
    assert_null(oi_model_get_rule(m, 0));
    oclinit_model_free(m);
    assert_int_equal(oi_model_rule_count(NULL), 0);
    assert_null(oi_model_get_rule(NULL, 0));
}

static void spec_refusals(void **state) {
    (void)state;
    const oclinit_status bad = OCLINIT_ERROR_INVALID_ARGUMENT;
#define T(x) "{\"tensors\": [{\"name\": \"a\", \"shape\": [2, 2], \"scheme\": \"zeros\"}, " x "]}"
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [2, -3], \"scheme\": \"ones\"}"), bad,
                 "spec.json: tensors[1].shape[1]: expected a positive integer, got -3");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [2, 1.5], \"scheme\": \"ones\"}"), bad,
                 "tensors[1].shape[1]: expected a positive integer, got 1.5");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [], \"scheme\": \"ones\"}"), bad,
                 "tensors[1].shape: expected a list of 1 to 8 dimensions");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [1,1,1,1,1,1,1,1,1], \"scheme\": \"ones\"}"), bad,
                 "tensors[1].shape: expected a list of 1 to 8 dimensions");
    SPEC_REFUSED(T("{\"name\": \"b\", \"scheme\": \"ones\"}"), bad, "spec.json: tensors[1].shape: missing");
    SPEC_REFUSED(T("{\"shape\": [2]}"), bad, "spec.json: tensors[1].name: missing");
    SPEC_REFUSED(T("{\"name\": \"\", \"shape\": [2]}"), bad, "tensors[1].name: expected a non-empty string, got \"\"");
    SPEC_REFUSED(T("{\"name\": \"__metadata__\", \"shape\": [2], \"scheme\": \"ones\"}"), bad,
                 "tensors[1].name: is reserved by safetensors");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3], \"scheme\": \"ones\"}, {\"name\": \"a\", \"shape\": [3], "
                   "\"scheme\": \"ones\"}"),
                 bad, "is the name of tensors[0] already");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3], \"scheme\": \"hee-normal\"}"), bad,
                 "spec.json: tensors[1].scheme: ", "hee-normal");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3], \"scheme\": \"normal\", \"stdd\": 1}"), bad,
                 "spec.json: tensors[1].stdd: unknown key (known: name, shape, zero_row, scheme, value, mean, std");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3], \"scheme\": \"xavier-normal\", \"std\": 1}"), bad,
                 "tensors[1].std: does not apply to scheme xavier-normal");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3], \"std\": 1}"), bad, "tensors[1].std: an option without a scheme");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3], \"scheme\": \"normal\", \"std\": \"big\"}"), bad,
                 "tensors[1].std: expected a number, got \"big\"");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3, 3], \"scheme\": \"he-normal\", \"mode\": \"fan_sideways\"}"), bad,
                 "tensors[1].mode: ", "fan_sideways");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3, 3], \"scheme\": \"he-normal\", \"negative-slope\": 1, "
                   "\"negative_slope\": 2}"),
                 bad, "given twice");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3], \"scheme\": \"constant\"}"), bad,
                 "tensors[1]: scheme constant needs \"value\"");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3, 3], \"scheme\": \"sparse\"}"), bad,
                 "tensors[1]: scheme sparse needs \"sparsity\"");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3], \"scheme\": \"orthogonal\"}"), bad,
                 "spec.json: tensors[1]: tensor b: ");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3, 2], \"scheme\": \"ones\", \"zero_row\": 3}"), bad,
                 "tensor b: zero_row 3 is not below 3");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3], \"scheme\": \"ones\", \"zero_row\": 0}"), bad,
                 "spec.json: tensors[1].zero_row: needs a tensor of rank 2 or more");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3], \"scheme\": \"ones\", \"zero_row\": -1}"), bad,
                 "tensors[1].zero_row: expected an integer >= 0, got -1");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [3]}"), bad,
                 "tensors[1]: tensor b has no scheme, no rule matches its name and the spec has no default");
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [2097152, 2097152, 2097152], \"scheme\": \"ones\"}"),
                 OCLINIT_ERROR_SIZE_OVERFLOW,
                 "tensors[1]: tensor b: shape (2097152, 2097152, 2097152) has more than 2^61 elements");
    /* 2^60 elements each: two fit, three do not. */
    SPEC_REFUSED(T("{\"name\": \"b\", \"shape\": [1073741824, 1073741824], \"scheme\": \"ones\"}, "
                   "{\"name\": \"c\", \"shape\": [1073741824, 1073741824], \"scheme\": \"ones\"}"),
                 OCLINIT_ERROR_SIZE_OVERFLOW, "tensors[2]: tensor c: the model would have more than 2^61 elements");
    SPEC_REFUSED(T("3"), bad, "spec.json: tensors[1]: expected an object, got 3");
#undef T
    /* A rule's or the default's scheme that does not fit a tensor names the tensor and where its scheme came from. */
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x.bias\", \"shape\": [4]}], \"rules\": [{\"match\": \"*.bias\", "
                 "\"scheme\": \"xavier-normal\"}]}",
                 bad, "spec.json: tensors[0] (scheme from rules[0]): tensor x.bias: ");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"default\": {\"scheme\": \"eye\"}}", bad,
                 "spec.json: tensors[0] (scheme from default): tensor x: ");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"rules\": [{\"scheme\": \"ones\"}]}", bad,
                 "spec.json: rules[0].match: missing");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"rules\": [{\"match\": \"x\"}]}", bad,
                 "spec.json: rules[0].scheme: missing");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"rules\": {\"match\": \"x\"}}", bad,
                 "spec.json: rules: expected a list, got an object");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"default\": {\"std\": 1}}", bad,
                 "spec.json: default.std: an option without a scheme");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"default\": {}}", bad,
                 "spec.json: default.scheme: missing");
    SPEC_REFUSED("{\"tensors\": []}", bad, "spec.json: tensors: expected a non-empty list");
    SPEC_REFUSED("{\"seed\": 1}", bad, "spec.json: tensors: missing");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"seed\": -1}", bad,
                 "spec.json: seed: expected an integer >= 0, or one up to 2^64 - 1 as a decimal string, got -1");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"seed\": \"18446744073709551616\"}", bad,
                 "spec.json: seed: expected an integer >= 0, or one up to 2^64 - 1 as a decimal string, got "
                 "\"18446744073709551616\"");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"seed\": \"-1\"}", bad, "spec.json: seed: ");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"seed\": \"0x10\"}", bad, "spec.json: seed: ");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"seed\": \" 1\"}", bad, "spec.json: seed: ");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"seed\": 9223372036854775808}", bad,
                 "spec.json:1:", ": seed: too big integer near '9223372036854775808'",
                 "give a larger seed as a decimal string");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4, 1e3]}, {\"name\": \"y\", \"shape\": [4, "
                 "-9223372036854775809]}]}",
                 bad, ": tensors[1].shape[1]: too big negative integer");
    /* A glob fnmatch would take in a way nobody means. */
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"a.weight\", \"shape\": [8, 4]}], \"rules\": [{\"match\": \"*.bias\", "
                 "\"scheme\": \"zeros\"}, {\"match\": \"a[.weight\", \"scheme\": \"zeros\"}], "
                 "\"default\": {\"scheme\": \"normal\"}}",
                 bad, "spec.json: rules[1].match: unterminated '[' in \"a[.weight\"");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"rules\": [{\"match\": \"x[]\", "
                 "\"scheme\": \"ones\"}]}",
                 bad, "spec.json: rules[0].match: unterminated '[' in \"x[]\"");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"rules\": [{\"match\": \"x\\\\\", "
                 "\"scheme\": \"ones\"}]}",
                 bad, "spec.json: rules[0].match: a final '\\' escapes nothing in \"x\\\"");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"dtype\": \"int8\"}", bad,
                 "spec.json: dtype: expected \"f32\", \"f16\" or \"bf16\", got \"int8\"");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"shape\": [4]}], \"sede\": 1}", bad,
                 "spec.json: sede: unknown key (known: seed, dtype, tensors, rules, default)");
    SPEC_REFUSED("{\"tensors\": [{\"name\": \"x\", \"name\": \"y\", \"shape\": [4]}]}", bad,
                 "spec.json:1:", "duplicate object key");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(streams_are_fnv1a_of_names),
        cmocka_unit_test(llama_untied),
        cmocka_unit_test(llama_tied_with_biases),
        cmocka_unit_test(qwen2_and_mistral),
        cmocka_unit_test(gpt2_conv1d_and_scaled_projections),
        cmocka_unit_test(config_refusals),
        cmocka_unit_test(config_dtype_and_null_quantization),
        cmocka_unit_test(spec_rules_and_default),
        cmocka_unit_test(spec_rule_counts),
        cmocka_unit_test(spec_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
