/* Output files that appear only when complete: written under a temporary name beside the target, then
 * fsync'ed and renamed; on failure the temporary file is removed and whatever was at the target stays. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/core.h"

static oclinit_status write_error(const char *path, int error) {
    oclinit_status status =
        error == ENOSPC || error == EDQUOT || error == EFBIG ? OCLINIT_ERROR_NO_SPACE : OCLINIT_ERROR_IO;
    return oi_fail(status, "writing %s: %s", path, strerror(error));
}

oclinit_status oi_output_open(const char *path, oi_output *out) {
    struct stat existing;
    out->fd = -1;
    out->path = path;
    out->temporary = NULL;
    out->buffered = 0;
    if (!path || !*path) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "no output path");
    if (stat(path, &existing) == 0 && S_ISDIR(existing.st_mode))
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s is a directory; give a file name", path);
    size_t size = strlen(path) + 48;
    char *name = malloc(size);
    if (!name) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating a file name");
    /* "<path>.tmp-<pid>-<n>", created exclusively with the permissions (0666 less umask) of a new file. */
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        snprintf(name, size, "%s.tmp-%ld-%u", path, (long)getpid(), attempt);
        out->fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (out->fd >= 0) {
            out->temporary = name;
            return OCLINIT_SUCCESS;
        }
        if (errno != EEXIST) break;
    }
    oclinit_status status = oi_fail(OCLINIT_ERROR_IO, "cannot create %s: %s", name, strerror(errno));
    free(name);
    return status;
}

oclinit_status oi_output_reserve(oi_output *out, uint64_t bytes) {
    struct statvfs fs;
    if (fstatvfs(out->fd, &fs) != 0) return OCLINIT_SUCCESS; /* unknown: the writes will tell */
    double available = (double)fs.f_bavail * (double)fs.f_frsize;
    if ((double)bytes > available)
        return oi_fail(OCLINIT_ERROR_NO_SPACE, "%s needs %.2f GiB but only %.2f GiB are free there", out->path,
                       (double)bytes / 1073741824.0, available / 1073741824.0);
    return OCLINIT_SUCCESS;
}

static oclinit_status write_fully(oi_output *out, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        ssize_t written = write(out->fd, p, size);
        if (written < 0 && errno == EINTR) continue;
        if (written < 0) return write_error(out->temporary, errno);
        p += written;
        size -= (size_t)written;
    }
    return OCLINIT_SUCCESS;
}

static oclinit_status flush(oi_output *out) {
    size_t pending = out->buffered;
    out->buffered = 0;
    return write_fully(out, out->buffer, pending);
}

oclinit_status oi_output_write(oi_output *out, const void *data, size_t size) {
    if (out->buffered + size <= sizeof out->buffer) {
        memcpy(out->buffer + out->buffered, data, size);
        out->buffered += size;
        return OCLINIT_SUCCESS;
    }
    oclinit_status status = flush(out);
    if (status != OCLINIT_SUCCESS) return status;
    if (size <= sizeof out->buffer) return oi_output_write(out, data, size);
    return write_fully(out, data, size);
}

oclinit_status oi_output_finish(oi_output *out) {
    oclinit_status status = flush(out);
    if (status == OCLINIT_SUCCESS && fsync(out->fd) != 0) status = write_error(out->temporary, errno);
    int fd = out->fd;
    out->fd = -1;
    if (close(fd) != 0 && status == OCLINIT_SUCCESS) status = write_error(out->temporary, errno);
    if (status != OCLINIT_SUCCESS) oi_output_abort(out);
    return status;
}

oclinit_status oi_output_publish(oi_output *out) {
    oclinit_status status = OCLINIT_SUCCESS;
    if (rename(out->temporary, out->path) != 0) {
        status = oi_fail(OCLINIT_ERROR_IO, "cannot rename %s to %s: %s", out->temporary, out->path, strerror(errno));
        unlink(out->temporary);
    }
    free(out->temporary);
    out->temporary = NULL;
    return status;
}

oclinit_status oi_output_commit(oi_output *out) {
    oclinit_status status = oi_output_finish(out);
    return status == OCLINIT_SUCCESS ? oi_output_publish(out) : status;
}

void oi_output_abort(oi_output *out) {
    if (out->fd >= 0) close(out->fd);
    out->fd = -1;
    if (out->temporary) {
        unlink(out->temporary);
        free(out->temporary);
        out->temporary = NULL;
    }
}

typedef struct bytes {
    const void *data;
    size_t size;
} bytes;

static oclinit_status write_bytes(const void *object, oi_output *out) {
    const bytes *b = object;
    return oi_output_write(out, b->data, b->size);
}

oclinit_status oi_output_write_bytes(const char *path, const void *data, size_t size) {
    bytes b = {data, size};
    return oi_output_write_file(path, write_bytes, &b);
}

oclinit_status oi_output_write_file(const char *path, oi_writer write, const void *object) {
    oi_output *out = malloc(sizeof *out); /* 64 KiB of buffer: not on the stack */
    if (!out) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating an output file");
    oclinit_status status = oi_output_open(path, out);
    if (status == OCLINIT_SUCCESS) status = write(object, out);
    if (status == OCLINIT_SUCCESS) status = oi_output_commit(out);
    oi_output_abort(out);
    free(out);
    return status;
}
