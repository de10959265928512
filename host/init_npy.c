/* Writing a layer to a .npy file in chunks: the device fills chunk c+1 while the host writes chunk c, the
 * file is complete under a temporary name before it is renamed into place, and nothing is left behind on
 * failure. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_CHUNK_BYTES ((size_t)64 << 20)

typedef struct running_stats {
    uint64_t count;
    double mean, m2, min, max;
} running_stats;

/* Chan et al.'s pairwise merge of a chunk's mean and sum of squared deviations: stable for any count. */
static void stats_add_chunk(running_stats *s, const float *x, size_t n) {
    double sum = 0, min = INFINITY, max = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
    }
    double mean = sum / (double)n, m2 = 0;
    for (size_t i = 0; i < n; i++) m2 += (x[i] - mean) * (x[i] - mean);
    double total = (double)s->count + (double)n, delta = mean - s->mean;
    s->m2 += m2 + delta * delta * (double)s->count * (double)n / total;
    s->mean += delta * (double)n / total;
    s->count += n;
    if (min < s->min) s->min = min;
    if (max > s->max) s->max = max;
}

static oclinit_status write_all(int fd, const char *path, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        ssize_t written = write(fd, p, size);
        if (written < 0 && errno == EINTR) continue;
        if (written < 0) {
            int error = errno;
            oclinit_status status =
                error == ENOSPC || error == EDQUOT || error == EFBIG ? OCLINIT_ERROR_NO_SPACE : OCLINIT_ERROR_IO;
            return oi_fail(status, "writing %s: %s", path, strerror(error));
        }
        p += written;
        size -= (size_t)written;
    }
    return OCLINIT_SUCCESS;
}

/* Creates "<path>.tmp-<pid>-<n>" exclusively, with the permissions (0666 less umask) of an ordinary new file. */
static oclinit_status create_temporary(const char *path, char **temporary, int *fd) {
    size_t size = strlen(path) + 48;
    char *name = malloc(size);
    if (!name) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating a file name");
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        snprintf(name, size, "%s.tmp-%ld-%u", path, (long)getpid(), attempt);
        *fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (*fd >= 0) {
            *temporary = name;
            return OCLINIT_SUCCESS;
        }
        if (errno != EEXIST) break;
    }
    oclinit_status status = oi_fail(OCLINIT_ERROR_IO, "cannot create %s: %s", name, strerror(errno));
    free(name);
    return status;
}

static oclinit_status check_free_space(int fd, const char *path, uint64_t bytes) {
    struct statvfs fs;
    if (fstatvfs(fd, &fs) != 0) return OCLINIT_SUCCESS; /* unknown: the writes will tell */
    double available = (double)fs.f_bavail * (double)fs.f_frsize;
    if ((double)bytes > available)
        return oi_fail(OCLINIT_ERROR_NO_SPACE, "%s needs %.2f GiB but only %.2f GiB are free there", path,
                       (double)bytes / 1073741824.0, available / 1073741824.0);
    return OCLINIT_SUCCESS;
}

oclinit_status oclinit_init_write_npy(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                      uint64_t seed, uint64_t stream, const char *path,
                                      const oclinit_write_options *options) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_write_options opts = {0};
    char header[OI_NPY_HEADER_MAX];
    char *temporary = NULL;
    int fd = -1;
    float *host[2] = {NULL, NULL};
    cl_mem device = NULL;
    cl_event ready[2] = {NULL, NULL};
    running_stats stats = {0, 0, 0, INFINITY, -INFINITY};
    bool on_device = runtime && runtime->device;

    if (options) opts = *options;
    if (!path || !*path) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "no output path");
    struct stat existing;
    if (stat(path, &existing) == 0 && S_ISDIR(existing.st_mode))
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s is a directory; give a file name", path);
    OI_CHECK(oi_distribution_check(distribution));
    uint64_t total = (uint64_t)distribution->rows * (uint64_t)distribution->columns;
    size_t header_size = oi_npy_header(header, distribution->rows, distribution->columns);
    /* Chunks hold whole Philox blocks (4 elements) so no block is computed twice. */
    uint64_t chunk = (opts.chunk_bytes ? opts.chunk_bytes : DEFAULT_CHUNK_BYTES) / sizeof(float) / 4 * 4;
    if (chunk == 0) chunk = 4;
    if (chunk > total) chunk = total;
    if (chunk > SIZE_MAX / sizeof(float))
        return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "a chunk of %llu elements is too large for this machine",
                       (unsigned long long)chunk);

    /* The device buffer first: if the device cannot hold a chunk, no file is touched. */
    if (on_device) OI_CHECK(oi_buffer_create(runtime, (size_t)chunk * sizeof(float), &device));
    OI_CHECK(create_temporary(path, &temporary, &fd));
    OI_CHECK(check_free_space(fd, path, header_size + total * sizeof(float)));
    for (int k = 0; k < (on_device ? 2 : 1); k++) {
        host[k] = malloc((size_t)chunk * sizeof(float));
        if (!host[k]) {
            status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate a chunk of %.1f MiB of host memory",
                             (double)chunk * sizeof(float) / 1048576.0);
            goto cleanup;
        }
    }
    OI_CHECK(write_all(fd, temporary, header, header_size));

    uint64_t chunks = (total + chunk - 1) / chunk;
    if (on_device) {
        OI_CHECK(oi_init_enqueue_fill(runtime, distribution, seed, stream, 0, chunk, device, 0));
        OI_CL_CHECK(clEnqueueReadBuffer(runtime->queue, device, CL_FALSE, 0, (size_t)chunk * sizeof(float), host[0], 0,
                                        NULL, &ready[0]));
        OI_CL_CHECK(clFlush(runtime->queue));
    }
    for (uint64_t c = 0; c < chunks; c++) {
        uint64_t first = c * chunk, n = total - first < chunk ? total - first : chunk;
        float *data = host[on_device ? c % 2 : 0];
        if (on_device) {
            OI_CL_CHECK(clWaitForEvents(1, &ready[c % 2]));
            clReleaseEvent(ready[c % 2]);
            ready[c % 2] = NULL;
            if (c + 1 < chunks) { /* the device makes the next chunk while this one is written */
                uint64_t next = first + n, next_n = total - next < chunk ? total - next : chunk;
                OI_CHECK(oi_init_enqueue_fill(runtime, distribution, seed, stream, next, next_n, device, 0));
                OI_CL_CHECK(clEnqueueReadBuffer(runtime->queue, device, CL_FALSE, 0, (size_t)next_n * sizeof(float),
                                                host[(c + 1) % 2], 0, NULL, &ready[(c + 1) % 2]));
                OI_CL_CHECK(clFlush(runtime->queue));
            }
        } else {
            oi_init_fill_host_twin(distribution, seed, stream, first, n, data);
        }
        OI_CHECK(write_all(fd, temporary, data, (size_t)n * sizeof(float)));
        if (opts.stats) stats_add_chunk(&stats, data, (size_t)n);
        if (opts.progress && opts.progress(opts.progress_user, first + n, total) != 0) {
            status = oi_fail(OCLINIT_ERROR_CANCELLED, "writing %s was cancelled; nothing was written", path);
            goto cleanup;
        }
    }

    if (fsync(fd) != 0) {
        status = oi_fail(errno == ENOSPC || errno == EDQUOT ? OCLINIT_ERROR_NO_SPACE : OCLINIT_ERROR_IO,
                         "writing %s: %s", temporary, strerror(errno));
        goto cleanup;
    }
    int closing = fd;
    fd = -1;
    if (close(closing) != 0) {
        status = oi_fail(OCLINIT_ERROR_IO, "writing %s: %s", temporary, strerror(errno));
        goto cleanup;
    }
    if (rename(temporary, path) != 0) {
        status = oi_fail(OCLINIT_ERROR_IO, "cannot rename %s to %s: %s", temporary, path, strerror(errno));
        goto cleanup;
    }
    free(temporary);
    temporary = NULL;
    if (opts.stats) {
        opts.stats->count = stats.count;
        opts.stats->mean = stats.mean;
        opts.stats->std = sqrt(stats.m2 / (double)stats.count);
        opts.stats->min = stats.min;
        opts.stats->max = stats.max;
    }
cleanup:
    if (runtime && runtime->queue) clFinish(runtime->queue); /* no command may still write into host[] */
    for (int k = 1; k >= 0; k--)
        if (ready[k]) clReleaseEvent(ready[k]);
    if (device) clReleaseMemObject(device);
    free(host[1]);
    free(host[0]);
    if (fd >= 0) close(fd);
    if (temporary) {
        unlink(temporary);
        free(temporary);
    }
    return status;
}
