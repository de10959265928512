/* Whole models (features/model): the registry of named tensors that model.c builds from oclinit's spec and hf.c from
 * a Hugging Face config.json. Internal to the folder. */
#ifndef OCLINIT_FEATURES_MODEL_H
#define OCLINIT_FEATURES_MODEL_H

#include <jansson.h>

#include "features/features.h"

/* A model holds at most this many tensors: far above any real one (Llama-3.1-405B has 1 137), and low enough that a
 * spec or config with an absurd count is refused at once rather than after filling memory (a few hundred MB at most).
 */
#define OI_MODEL_MAX_TENSORS ((size_t)1 << 20)

struct oclinit_model {
    oclinit_model_tensor *tensors; /* names malloc'ed, one each */
    size_t count, capacity;
    oi_model_rule *rules; /* a spec's, globs malloc'ed; NULL for a config */
    size_t rule_count;
    uint64_t elements; /* of all tensors, at most 2^61 (the limit of one tensor) */
    oclinit_dtype dtype;
    uint64_t seed;
};

oclinit_status oi_model_create(oclinit_model_t *model);

/* Appends a tensor (name copied) after checking its shape and resolving its scheme for that shape, so that a model
 * that loads can be written. A refusal names the tensor after where ("config.json: tensor
 * model.layers.0.mlp.up_proj.weight: ..."). zero_row: -1, or a row of the tensor's first dimension. */
oclinit_status oi_model_add(oclinit_model_t model, const char *where, const char *name, const oclinit_shape *shape,
                            const oclinit_scheme *scheme, int64_t zero_row);

/* A spec (is_spec) or a Hugging Face config.json from memory (what oclinit_model_load_spec and _config read; name
 * is for messages). */
oclinit_status oi_model_parse_json(const char *name, const char *data, size_t size, bool is_spec,
                                   oclinit_model_t *model);

/* The tensors of a Hugging Face config.json (hf.c), parsed from path; the model's dtype from its torch_dtype. */
oclinit_status oi_model_from_hf(const char *path, const json_t *config, oclinit_model_t model);

/* The JSON type of a value in messages: "a string", "null", "the number 2.5", ... */
void oi_json_describe(const json_t *value, char *text, size_t size);

#endif
