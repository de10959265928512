/* Every file under tests/corpus (malformed inputs, model files whole, cut and bit-flipped, and what fuzzing found)
 * through every reader of the fuzz target, the table reader with every set of read options: each must be read or
 * refused with a message, never crash or leak. */
#include <dirent.h>
#include <stdio.h>

#include "helpers.h"

enum { FUZZ_READ_OPTIONS = 48 };
void fuzz_readers(const uint8_t *data, size_t size, unsigned options);

static void corpus_is_handled(void **state) {
    (void)state;
    DIR *dir = opendir(OCLINIT_CORPUS_DIR);
    assert_non_null(dir);
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", OCLINIT_CORPUS_DIR, e->d_name);
        char *data;
        size_t size;
        assert_ok(oi_read_file(path, &data, &size));
        for (unsigned options = 0; options < FUZZ_READ_OPTIONS; options++)
            fuzz_readers((const uint8_t *)data, size, options);
        free(data);
        files++;
    }
    closedir(dir);
    printf("%zu corpus files read or refused without a crash\n", files);
    assert_true(files >= 10);
}

/* The model seeds are what their names say: the fuzzer starts from a model that loads, and from damaged copies
 * that each stop at a different check. */
static void model_seeds_load_or_are_refused_with_their_reason(void **state) {
    (void)state;
    static const struct {
        const char *file, *why; /* why: NULL when it loads */
    } seeds[] = {
        {"model_valid.bin", NULL},
        {"model_truncated_header.bin", "the file is truncated"},
        {"model_truncated_parameters.bin", "shorter than its header says"},
        {"model_lying_text_length.bin", "shorter than its header says"},
        {"model_bitflip_parameter.bin", "the checksum does not match"},
        {"model_huge_shape_checksum_fixed.bin", "the parameter count does not match the shapes"},
        {"model_nan_parameter_checksum_fixed.bin", "is nan"},
        {"model_bad_statistics_checksum_fixed.bin", "its normalization statistics are invalid"},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", OCLINIT_CORPUS_DIR, seeds[i].file);
        oclinit_network_t net = NULL;
        oclinit_normalizer_t normalizer = NULL;
        oclinit_status status = oclinit_network_load(NULL, path, &net, &normalizer);
        if (!seeds[i].why) {
            assert_ok(status);
            assert_int_equal(oclinit_network_get_shape(net).inputs, 2); /* circles, saved by `oclinit train` */
            assert_int_equal(oclinit_normalizer_get_features(normalizer), 2);
        } else if (status != OCLINIT_ERROR_BAD_MODEL || !strstr(oclinit_error_get_detail(), seeds[i].why)) {
            fail_msg("%s: status %d, detail \"%s\"; expected \"%s\"", seeds[i].file, (int)status,
                     oclinit_error_get_detail(), seeds[i].why);
        }
        oclinit_network_free(net);
        oclinit_normalizer_free(normalizer);
    }
}

/* The same for the safetensors seeds: written by Python's safetensors (torch) and by hand, each malformed one
 * refused by safetensors itself too, except the unknown dtype ("X9"). */
static void safetensors_seeds_load_or_are_refused_with_their_reason(void **state) {
    (void)state;
    static const struct {
        const char *file, *why; /* why: NULL when it loads */
    } seeds[] = {
        {"safetensors_valid_torch.safetensors", NULL},
        {"safetensors_valid_empty.safetensors", NULL},
        {"safetensors_truncated_length.safetensors", "fewer than the 8"},
        {"safetensors_lying_header_length.safetensors", "but only"},
        {"safetensors_duplicate_key.safetensors", "duplicate object key"},
        {"safetensors_overlap.safetensors", "tensor \"b\" overlaps tensor \"a\""},
        {"safetensors_hole.safetensors", "tensor \"b\" starts at byte 8 of the data, leaving a hole of 4 bytes"},
        {"safetensors_unknown_dtype.safetensors", "dtype \"X9\""},
        {"safetensors_wrong_byte_count.safetensors", "BF16 (3,) needs 6"},
        {"safetensors_trailing_bytes.safetensors", "2 bytes follow the last tensor"},
        {"safetensors_metadata_not_string.safetensors", "\"format\" is not a string"},
        {"safetensors_not_utf8.safetensors", "not valid UTF-8 JSON"},
        {"safetensors_negative_shape.safetensors", "not an integer >= 0"},
        {"safetensors_beyond_end.safetensors", "beyond the file's end"},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", OCLINIT_CORPUS_DIR, seeds[i].file);
        oclinit_safetensors_t file = NULL;
        oclinit_status status = oclinit_safetensors_open(path, &file);
        if (!seeds[i].why) {
            assert_ok(status);
        } else if (status != OCLINIT_ERROR_INVALID_ARGUMENT || !strstr(oclinit_error_get_detail(), seeds[i].why) ||
                   !strstr(oclinit_error_get_detail(), seeds[i].file)) {
            fail_msg("%s: status %d, detail \"%s\"; expected \"%s\"", seeds[i].file, (int)status,
                     oclinit_error_get_detail(), seeds[i].why);
        }
        oclinit_safetensors_free(file);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(corpus_is_handled),
                                       cmocka_unit_test(model_seeds_load_or_are_refused_with_their_reason),
                                       cmocka_unit_test(safetensors_seeds_load_or_are_refused_with_their_reason)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
