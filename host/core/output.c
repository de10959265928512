/* Output files that appear only when complete: written under a temporary name beside the target, then
 * fsync'ed and renamed; on failure the temporary file is removed and whatever was at the target stays. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/core.h"

/* The temporary files that exist now, for oi_output_remove_temporaries() in a signal handler: a slot is set
 * before its file is created and cleared before its name is freed, so the handler only ever sees a complete
 * name, and lock-free atomics are safe to read there. */
enum { LIVE_TEMPORARIES = 4096 }; /* a sharded checkpoint publishes all its files together */
static _Atomic(char *) live[LIVE_TEMPORARIES];

static int claim_slot(char *name) {
    for (int i = 0; i < LIVE_TEMPORARIES; i++) {
        char *expected = NULL;
        if (atomic_compare_exchange_strong(&live[i], &expected, name)) return i;
    }
    return -1;
}

static void release_slot(const char *name) {
    for (int i = 0; i < LIVE_TEMPORARIES; i++) {
        char *expected = (char *)name;
        if (atomic_compare_exchange_strong(&live[i], &expected, NULL)) return;
    }
}

static _Atomic(const char *) made_directory;

void oi_output_made_directory(const char *directory) {
    atomic_store(&made_directory, directory);
}

void oi_output_remove_temporaries(void) {
    for (int i = 0; i < LIVE_TEMPORARIES; i++) {
        char *name = atomic_load(&live[i]);
        if (name) unlink(name);
    }
    const char *directory = atomic_load(&made_directory);
    if (directory) rmdir(directory); /* fails, harmlessly, unless the temporaries were all it held */
}

#define HUGE_PAGE ((size_t)2 << 20)

void *oi_output_direct_memory(size_t bytes) {
    size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : 4096;
    if (bytes > SIZE_MAX - align) return NULL;
    size_t size = (bytes + align - 1) / align * align;
    void *memory;
    if (posix_memalign(&memory, align, size) != 0) return NULL;
    if (align == HUGE_PAGE)
        madvise(memory, size, MADV_HUGEPAGE); /* a request: refused, the memory stays on small pages */
    return memory;
}

static void describe_size(double bytes, char *text, size_t size) {
    if (bytes < 1024)
        snprintf(text, size, "%.0f bytes", bytes);
    else if (bytes < 1048576.0)
        snprintf(text, size, "%.1f KiB", bytes / 1024);
    else if (bytes < 1073741824.0)
        snprintf(text, size, "%.1f MiB", bytes / 1048576.0);
    else
        snprintf(text, size, "%.2f GiB", bytes / 1073741824.0);
}

oclinit_status oi_output_check(const char *path) {
    struct stat st;
    if (!path || !*path) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "no output path");
    if (path[strlen(path) - 1] == '/')
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s names a directory; give a file name", path);
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return OCLINIT_SUCCESS;
        return oi_fail(OCLINIT_ERROR_IO, "cannot check %s: %s", path, strerror(errno));
    }
    if (S_ISREG(st.st_mode) && st.st_nlink == 1) return OCLINIT_SUCCESS;
    char what[PATH_MAX + 64];
    if (S_ISREG(st.st_mode)) {
        snprintf(what, sizeof what, "a file with %ju hard links (replacing it would break them)",
                 (uintmax_t)st.st_nlink);
    } else if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t length = readlink(path, target, sizeof target - 1);
        target[length > 0 ? length : 0] = '\0';
        snprintf(what, sizeof what, "a symbolic link (to %s)", target);
    } else {
        snprintf(what, sizeof what, "%s",
                 S_ISDIR(st.st_mode)    ? "a directory"
                 : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                 : S_ISCHR(st.st_mode)  ? "a character device"
                 : S_ISBLK(st.st_mode)  ? "a block device"
                 : S_ISSOCK(st.st_mode) ? "a socket"
                                        : "not a regular file");
    }
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                   "%s is %s; outputs must be regular files with one link, or new names: it is left untouched", path,
                   what);
}

/* "<base>.tmp-<pid>-<n>", what oi_output_open creates: the pid, with base copied out, or 0 for any other name. */
static pid_t temporary_owner(const char *name, char *base, size_t size) {
    const char *tmp = NULL;
    for (const char *at = strstr(name, ".tmp-"); at; at = strstr(at + 1, ".tmp-")) tmp = at;
    if (!tmp || tmp == name || (size_t)(tmp - name) >= size) return 0;
    const char *p = tmp + 5;
    if (!isdigit((unsigned char)*p)) return 0;
    char *end;
    errno = 0;
    unsigned long long pid = strtoull(p, &end, 10);
    if (errno || *end != '-' || !isdigit((unsigned char)end[1]) || pid == 0 || pid > INT_MAX) return 0;
    for (p = end + 1; isdigit((unsigned char)*p); p++) continue;
    if (*p) return 0;
    snprintf(base, size, "%.*s", (int)(tmp - name), name);
    return (pid_t)pid;
}

/* A large layer leaves hundreds of MB, and nothing else would remove them. A writer holds a lock on its temporary
 * file, so one whose pid only looks dead from here (another pid namespace, another host on a shared file system)
 * keeps it. */
void oi_output_remove_stale(const char *directory, bool (*belongs)(const char *base, const void *user),
                            const void *user) {
    DIR *dir = opendir(directory);
    if (!dir) return;
    struct dirent *entry;
    char base[NAME_MAX + 1];
    while ((entry = readdir(dir)) != NULL) {
        pid_t owner = temporary_owner(entry->d_name, base, sizeof base);
        struct stat st;
        if (!owner || !belongs(base, user) || kill(owner, 0) == 0 || errno != ESRCH ||
            fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        int fd = openat(dirfd(dir), entry->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) unlinkat(dirfd(dir), entry->d_name, 0);
        close(fd);
    }
    closedir(dir);
}

static bool same_name(const char *base, const void *name) {
    return strcmp(base, name) == 0;
}

const char *oi_path_split(const char *path, char *directory, size_t size) {
    const char *slash = strrchr(path, '/');
    snprintf(directory, size, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1, slash ? path : ".");
    return slash ? slash + 1 : path;
}

oclinit_status oi_output_write_error(const char *path, int error) {
    oclinit_status status =
        error == ENOSPC || error == EDQUOT || error == EFBIG ? OCLINIT_ERROR_NO_SPACE : OCLINIT_ERROR_IO;
    return oi_fail(status, "writing %s: %s", path, strerror(error));
}

/* A replaced file keeps its permissions, and its owner and group when root (who can set them) replaces it. */
static oclinit_status keep_attributes(const oi_output *out, const struct stat *existing) {
    if (geteuid() == 0 && fchown(out->fd, existing->st_uid, existing->st_gid) != 0)
        return oi_fail(OCLINIT_ERROR_IO, "cannot give %s the owner of %s: %s", out->temporary, out->path,
                       strerror(errno));
    if (fchmod(out->fd, existing->st_mode & 07777) != 0)
        return oi_fail(OCLINIT_ERROR_IO, "cannot give %s the permissions of %s: %s", out->temporary, out->path,
                       strerror(errno));
    return OCLINIT_SUCCESS;
}

oclinit_status oi_output_open(const char *path, oi_output *out) {
    out->fd = -1;
    out->path = path;
    out->temporary = NULL;
    out->buffered = 0;
    oclinit_status status = oi_output_check(path);
    if (status != OCLINIT_SUCCESS) return status;
    struct stat existing;
    bool replaces = stat(path, &existing) == 0;
    char directory[PATH_MAX];
    oi_output_remove_stale(directory, same_name, oi_path_split(path, directory, sizeof directory));
    size_t size = strlen(path) + 48;
    char *name = malloc(size);
    if (!name) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating a file name");
    /* "<path>.tmp-<pid>-<n>", created exclusively with the permissions (0666 less umask) of a new file; the
     * slot is taken first so that a signal arriving during the creation still finds the name. */
    int error = EEXIST;
    for (unsigned attempt = 0; attempt < 100 && error == EEXIST; attempt++) {
        snprintf(name, size, "%s.tmp-%ld-%u", path, (long)getpid(), attempt);
        if (claim_slot(name) < 0) {
            free(name);
            return oi_fail(OCLINIT_ERROR_IO, "cannot write %s: %d output files are open already", path,
                           LIVE_TEMPORARIES);
        }
        out->fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        error = out->fd >= 0 ? 0 : errno;
        if (error) release_slot(name);
    }
    if (error) {
        status = oi_fail(OCLINIT_ERROR_IO, "cannot create %s: %s", name, strerror(error));
        free(name);
        return status;
    }
    out->temporary = name;
    flock(out->fd, LOCK_EX | LOCK_NB); /* marks it as being written (oi_output_remove_stale) */
    if (replaces) status = keep_attributes(out, &existing);
    if (status != OCLINIT_SUCCESS) oi_output_abort(out);
    return status;
}

void oi_output_attach(int fd, const char *name, oi_output *out) {
    out->fd = fd;
    out->path = name;
    out->temporary = NULL;
    out->buffered = 0;
}

oclinit_status oi_output_reserve(oi_output *out, uint64_t bytes) {
    struct statvfs fs;
    if (!out->temporary || fstatvfs(out->fd, &fs) != 0) return OCLINIT_SUCCESS; /* unknown: the writes will tell */
    double available = (double)fs.f_bavail * (double)fs.f_frsize;
    if ((double)bytes > available) {
        char needed[32], free_text[32];
        describe_size((double)bytes, needed, sizeof needed);
        describe_size(available, free_text, sizeof free_text);
        return oi_fail(OCLINIT_ERROR_NO_SPACE, "%s needs %s but only %s are free there", out->path, needed, free_text);
    }
    return OCLINIT_SUCCESS;
}

static oclinit_status write_fully(oi_output *out, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        ssize_t written = write(out->fd, p, size);
        if (written < 0 && errno == EINTR) continue;
        if (written < 0) return oi_output_write_error(out->path, errno);
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
    if (!out->temporary) { /* a stream: nothing to sync, and the descriptor is not ours */
        out->fd = -1;
        return status;
    }
    if (status == OCLINIT_SUCCESS && fsync(out->fd) != 0) status = oi_output_write_error(out->path, errno);
    int fd = out->fd;
    out->fd = -1;
    if (close(fd) != 0 && status == OCLINIT_SUCCESS) status = oi_output_write_error(out->path, errno);
    if (status != OCLINIT_SUCCESS) oi_output_abort(out);
    return status;
}

oclinit_status oi_output_publish(oi_output *out) {
    if (!out->temporary) return OCLINIT_SUCCESS;
    /* Checked again: writing can take minutes, and rename would replace whatever appeared meanwhile. */
    oclinit_status status = oi_output_check(out->path);
    if (status == OCLINIT_SUCCESS && rename(out->temporary, out->path) != 0)
        status = oi_fail(OCLINIT_ERROR_IO, "cannot rename %s to %s: %s", out->temporary, out->path, strerror(errno));
    if (status != OCLINIT_SUCCESS) unlink(out->temporary);
    release_slot(out->temporary);
    free(out->temporary);
    out->temporary = NULL;
    return status;
}

oclinit_status oi_output_commit(oi_output *out) {
    oclinit_status status = oi_output_finish(out);
    return status == OCLINIT_SUCCESS ? oi_output_publish(out) : status;
}

void oi_output_abort(oi_output *out) {
    if (!out->temporary) return; /* nothing of ours is open (a stream's descriptor belongs to the caller) */
    if (out->fd >= 0) close(out->fd);
    out->fd = -1;
    unlink(out->temporary);
    release_slot(out->temporary);
    free(out->temporary);
    out->temporary = NULL;
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
