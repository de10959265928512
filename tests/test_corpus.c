/* Every file under tests/corpus (malformed inputs and what fuzzing found) through every reader and option
 * set of the fuzz target: each must be read or refused with a message, never crash or leak. */
#include <dirent.h>
#include <stdio.h>

#include "helpers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
        /* As the fuzzer sees it (first byte chooses), and behind every choice byte. */
        LLVMFuzzerTestOneInput((const uint8_t *)data, size);
        uint8_t *with_choice = malloc(size + 1);
        memcpy(with_choice + 1, data, size);
        for (int choice = 0; choice < 256; choice += 5) {
            with_choice[0] = (uint8_t)choice;
            LLVMFuzzerTestOneInput(with_choice, size + 1);
        }
        free(with_choice);
        free(data);
        files++;
    }
    closedir(dir);
    printf("%zu corpus files read or refused without a crash\n", files);
    assert_true(files >= 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(corpus_is_handled)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
