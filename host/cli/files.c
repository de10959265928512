/* Small output files of the CLI (results, plots, predictions): written under a temporary name, renamed when
 * complete, removed on any failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

bool write_file_atomically(const char *command, const char *path, bool (*write)(FILE *out, void *user), void *user) {
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp-%ld", path, (long)getpid());
    FILE *out = fopen(temporary, "w");
    if (!out) {
        fprintf(stderr, "oclinit %s: error: cannot create %s: %s\n", command, temporary, strerror(errno));
        return false;
    }
    bool ok = write(out, user);
    int write_error = ferror(out) ? errno : 0;
    if (fclose(out) != 0 && !write_error) write_error = errno ? errno : EIO;
    if (ok && write_error)
        fprintf(stderr, "oclinit %s: error: writing %s: %s\n", command, temporary, strerror(write_error));
    if (ok && !write_error && rename(temporary, path) != 0) {
        fprintf(stderr, "oclinit %s: error: cannot rename %s to %s: %s\n", command, temporary, path, strerror(errno));
        write_error = errno;
    }
    if (!ok || write_error) {
        unlink(temporary);
        return false;
    }
    return true;
}
