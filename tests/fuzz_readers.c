/* libFuzzer target for the file readers: CSV and .npy tables (oi_table_parse), statistics files
 * (oi_normalizer_parse) and model files (oi_model_parse). Every input goes through all three, so that a seed of
 * any kind feeds its own reader as it is. The table's read options come from the input's last byte; a model is
 * read a second time with its checksum made right, since nearly every mutation would otherwise stop there.
 * Build and run (README.md, "Tests"):
 *   CC=clang cmake -S . -B build-fuzz -DOCLINIT_FUZZ=ON && cmake --build build-fuzz --target fuzz_readers
 *   build-fuzz/tests/fuzz_readers -max_total_time=600 tests/corpus */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "features/features.h"

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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_readers(data, size, size ? data[size - 1] : 0);
    return 0;
}
