/* Small output files of the CLI (results, plots, predictions): formatted in memory, then written through core's
 * atomic output file (temporary name, fsync, rename), so they appear only when complete. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

bool write_file_atomically(const char *command, const char *path, bool (*write)(FILE *out, void *user), void *user) {
    char *data = NULL;
    size_t size = 0;
    FILE *memory = open_memstream(&data, &size);
    if (!memory) {
        fprintf(stderr, "oclinit %s: error: out of memory formatting %s\n", command, path);
        return false;
    }
    bool ok = write(memory, user);
    ok = fclose(memory) == 0 && ok;
    if (ok) {
        oclinit_status status = oi_output_write_bytes(path, data, size);
        if (status != OCLINIT_SUCCESS) report_failure(command, status);
        ok = status == OCLINIT_SUCCESS;
    }
    free(data);
    return ok;
}
