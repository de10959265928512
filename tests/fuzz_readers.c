/* libFuzzer target for the file readers: CSV and .npy tables (oi_table_parse), statistics files
 * (oi_normalizer_parse), model files (oi_model_parse), safetensors headers (oi_safetensors_parse), and specs and
 * Hugging Face configs (oi_model_parse_json). Every input goes through all of them, so that a seed of any kind feeds
 * its own reader as it is. The table's read options come
 * from the input's last byte; a model is read a second time with its checksum made right, since nearly every
 * mutation would otherwise stop there, and a safetensors header with its length made the rest of the input.
 * Build and run (README.md, "Tests"):
 *   CC=clang cmake -S . -B build-fuzz -DOCLINIT_FUZZ=ON && cmake --build build-fuzz --target fuzz_readers
 *   build-fuzz/tests/fuzz_readers -max_total_time=600 tests/corpus */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "features/features.h"
#include "features/model/model.h"

enum { FUZZ_READ_OPTIONS = 48 };
void fuzz_readers(const uint8_t *data, size_t size, unsigned options);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The readers parse a NUL-terminated copy they may modify. */
static char *terminated_copy(const uint8_t *data, size_t size) {
    char *copy = malloc(size + 1);
    if (!copy) abort();
    if (size) memcpy(copy, data, size);
    copy[size] = '\0';
    return copy;
}

static void read_table(const uint8_t *data, size_t size, unsigned options) {
    static const char separators[4] = {0, ',', ';', '\t'};
    static const char *const labels[4] = {NULL, "1", "2", "b"};
    oclinit_read_options read = {.header = (oclinit_header)(options % 3),
                                 .separator = separators[(options / 3) % 4],
                                 .label = labels[(options / 12) % 4]};
    char *copy = terminated_copy(data, size);
    oclinit_table_t t = NULL;
    if (oi_table_parse("fuzz", copy, size, &read, &t) == OCLINIT_SUCCESS) {
        for (size_t f = 0; f < oclinit_table_get_features(t); f++) (void)oclinit_table_get_feature_name(t, f);
        oclinit_table_free(t);
    }
    free(copy);
}

static void read_statistics(const uint8_t *data, size_t size) {
    char *copy = terminated_copy(data, size);
    oclinit_normalizer_t n = NULL;
    if (oi_normalizer_parse("fuzz", copy, size, &n) == OCLINIT_SUCCESS) {
        for (size_t f = 0; f < oclinit_normalizer_get_features(n); f++) (void)oclinit_normalizer_is_constant(n, f);
        oclinit_normalizer_free(n);
    }
    free(copy);
}

static void read_model(const char *data, size_t size) {
    oclinit_network_t net = NULL;
    oclinit_normalizer_t n = NULL;
    if (oi_model_parse("fuzz", data, size, NULL, &net, &n) == OCLINIT_SUCCESS) {
        /* A model that loads predicts a probability, or refuses weights too large for float32: never a NaN. */
        float probability, *row = calloc(oclinit_network_get_shape(net).inputs, sizeof *row);
        oclinit_status status =
            row ? oclinit_network_predict(net, row, 1, &probability) : OCLINIT_ERROR_OUT_OF_HOST_MEMORY;
        if (status == OCLINIT_SUCCESS ? !(probability >= 0 && probability <= 1) : status != OCLINIT_ERROR_BAD_MODEL)
            abort();
        free(row);
        oclinit_network_free(net);
        oclinit_normalizer_free(n);
    }
}

static void read_safetensors(const uint8_t *data, size_t size) {
    oclinit_safetensors_t file = NULL;
    if (oi_safetensors_parse("fuzz", data, size, size, &file) == OCLINIT_SUCCESS) {
        /* What a header that parses promises: tensors in order, tiling the data after the header exactly. */
        uint64_t data_start = size, end = size;
        for (size_t i = 0; i < oclinit_safetensors_get_count(file); i++) {
            const oclinit_tensor_info *t = oclinit_safetensors_get_info(file, i);
            if (i == 0) data_start = end = t->offset;
            if (t->offset != end || t->bytes != t->elements * oclinit_dtype_size(t->dtype)) abort();
            end = t->offset + t->bytes;
        }
        if (end != size || data_start > size) abort();
        (void)oclinit_safetensors_get_metadata(file, "format");
        oclinit_safetensors_free(file);
    }
}

/* Specs and Hugging Face configs: a model that loads has every tensor resolvable for its shape. */
static void read_model_json(const uint8_t *data, size_t size, bool is_spec) {
    oclinit_model_t model = NULL;
    if (oi_model_parse_json("fuzz", (const char *)data, size, is_spec, &model) != OCLINIT_SUCCESS) return;
    for (size_t i = 0; i < oclinit_model_get_count(model); i++) {
        const oclinit_model_tensor *t = oclinit_model_get_tensor(model, i);
        oclinit_distribution d;
        if (oclinit_scheme_resolve_shape(&t->scheme, &t->shape, &d) != OCLINIT_SUCCESS) abort();
    }
    oclinit_model_free(model);
}

void fuzz_readers(const uint8_t *data, size_t size, unsigned options) {
    read_table(data, size, options % FUZZ_READ_OPTIONS);
    read_statistics(data, size);
    char *model = terminated_copy(data, size);
    read_model(model, size);
    if (size >= 4) { /* the CRC-32 of all before it, little-endian, as model.c writes it */
        uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)model, (uInt)(size - 4));
        for (int i = 0; i < 4; i++) model[size - 4 + i] = (char)(crc >> (8 * i));
        read_model(model, size);
    }
    free(model);
    read_safetensors(data, size);
    read_model_json(data, size, true);
    read_model_json(data, size, false);
    if (size >= 8) { /* the header length made the rest of the input, so that mutations reach the JSON checks */
        uint8_t *copy = malloc(size);
        if (!copy) abort();
        memcpy(copy, data, size);
        for (int i = 0; i < 8; i++) copy[i] = (uint8_t)((uint64_t)(size - 8) >> (8 * i));
        read_safetensors(copy, size);
        free(copy);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_readers(data, size, size ? data[size - 1] : 0);
    return 0;
}
