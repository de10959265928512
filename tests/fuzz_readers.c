/* libFuzzer target for the file readers: CSV and .npy tables (oi_table_parse) and statistics files
 * (oi_normalizer_parse). The first byte chooses the reader and the read options; the rest is the file.
 * Build and run (see README.md, "Tests"):
 *   CC=clang cmake -S . -B build-fuzz -DOCLINIT_FUZZ=ON && cmake --build build-fuzz --target fuzz_readers
 *   build-fuzz/tests/fuzz_readers -max_total_time=600 tests/corpus */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "features/features.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char separators[4] = {0, ',', ';', '\t'};
    static const char *const labels[4] = {NULL, "1", "2", "b"};
    if (size == 0) return 0;
    uint8_t choice = data[0];
    char *copy = malloc(size);
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = '\0';
    if (choice & 0x80) {
        oclinit_normalizer_t n = NULL;
        if (oi_normalizer_parse("fuzz", copy, size - 1, &n) == OCLINIT_SUCCESS) {
            for (size_t f = 0; f < oclinit_normalizer_get_features(n); f++) (void)oclinit_normalizer_is_constant(n, f);
            oclinit_normalizer_free(n);
        }
    } else {
        oclinit_read_options options = {.header = (oclinit_header)(choice % 3),
                                        .separator = separators[(choice >> 2) & 3],
                                        .label = labels[(choice >> 4) & 3]};
        oclinit_table_t t = NULL;
        if (oi_table_parse("fuzz", copy, size - 1, &options, &t) == OCLINIT_SUCCESS) {
            for (size_t f = 0; f < oclinit_table_get_features(t); f++) (void)oclinit_table_get_feature_name(t, f);
            oclinit_table_free(t);
        }
    }
    free(copy);
    return 0;
}
