#define _GNU_SOURCE /* sync_file_range, O_DIRECT */
/* The writer thread and its slots: the caller makes data straight into a slot (oi_slots_place), hands it over
 * (oi_slots_hand) and goes on making the next while the thread writes the slots handed before, so the disk stays busy
 * while the device or the host C path samples. The thread writes with O_DIRECT where the file system allows it: the
 * disk then reads the data where it was made, with no copy into the page cache, which on few cores takes a core from
 * the sampling and whose cost varies several times from run to run.
 *
 * Chunks that continue one another in a file are made one after the other into the open slot, which goes to the
 * thread when the next chunk does not continue it or fit, and its chunks are all made (oi_chunker asks for chunk
 * k + 2's place before it hands over k). So the thread writes whole slots, not tensors: the norms and small
 * projections of a model do not each take a slot, and the chunks made ahead of the disk are always a slot or more. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/core.h"

typedef enum slot_state { SLOT_FREE, SLOT_OPEN, SLOT_HANDED } slot_state;
struct oi_slots {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool running;
    void *slot[OI_SLOTS]; /* aligned for O_DIRECT; its data starts at its offset's place in a page (slot_data) */
    size_t capacity;      /* bytes of data a slot holds: at least the largest chunk */
    slot_state state[OI_SLOTS];
    size_t bytes[OI_SLOTS];      /* placed in it so far */
    int pending[OI_SLOTS];       /* chunks placed in it and not yet handed over */
    oi_slot_target to[OI_SLOTS]; /* where its first byte goes */
    int open, place, drain;      /* the open slot (-1: none), the next to open, and the next to write */
    bool stop;
    oclinit_status status; /* the first write's failure; later chunks are dropped */
    char detail[1024];     /* its message: the thread's own, which the main thread records again */
};

static oclinit_status pwrite_fully(int fd, const char *p, size_t size, uint64_t offset, const char *path) {
    while (size > 0) {
        ssize_t written = pwrite(fd, p, size, (off_t)offset);
        if (written < 0 && errno == EINTR) continue;
        if (written < 0) return oi_output_write_error(path, errno);
        p += written;
        offset += (uint64_t)written;
        size -= (size_t)written;
    }
    return OCLINIT_SUCCESS;
}

/* Through the page cache. With early, the disk starts on these bytes now rather than at the fsync, while the next
 * chunk is made (a hint, whose errors the fsync reports); not for the partial pages at the ends of an O_DIRECT
 * range, whose neighbour's next write into the same page would wait for that writeback. */
static oclinit_status write_cached(const oi_slot_target *to, const char *data, size_t size, uint64_t offset,
                                   bool early) {
    oclinit_status status = pwrite_fully(to->fd, data, size, offset, to->path);
    if (status == OCLINIT_SUCCESS && size > 0 && early)
        sync_file_range(to->fd, (off_t)offset, (off_t)size, SYNC_FILE_RANGE_WRITE);
    return status;
}

/* The whole pages of the range go with O_DIRECT, the partial pages at its ends through the cache: a page is only ever
 * written one way, and a neighbouring chunk or rank writes the rest of a partial page. EINVAL (an alignment the file
 * system wants larger) sends the pages through the cache too. */
static oclinit_status write_at(const oi_slot_target *to, const void *data, size_t size) {
    const char *p = data;
    uint64_t begin = to->offset, end = begin + size;
    uint64_t first = (begin + OI_DIRECT_ALIGN - 1) / OI_DIRECT_ALIGN * OI_DIRECT_ALIGN,
             last = end / OI_DIRECT_ALIGN * OI_DIRECT_ALIGN;
    if (to->direct < 0 || first >= last) return write_cached(to, p, size, begin, true);
    oclinit_status status = write_cached(to, p, first - begin, begin, false);
    for (uint64_t at = first; status == OCLINIT_SUCCESS && at < last;) {
        size_t n = last - at < OI_DIRECT_PIECE ? (size_t)(last - at) : OI_DIRECT_PIECE;
        ssize_t written = pwrite(to->direct, p + (at - begin), n, (off_t)at);
        if (written < 0 && errno == EINTR) continue;
        if (written < 0 && errno != EINVAL) {
            status = oi_output_write_error(to->path, errno);
        } else if (written < 0 || written % OI_DIRECT_ALIGN) { /* refused, or a short write that ends inside a page */
            at += written > 0 ? (uint64_t)written : 0;
            status = write_cached(to, p + (at - begin), last - at, at, true);
            at = last;
        } else {
            at += (uint64_t)written;
        }
    }
    if (status == OCLINIT_SUCCESS) status = write_cached(to, p + (last - begin), end - last, last, false);
    return status;
}

/* Where a chunk bound for that file offset starts in a slot: at the same place in a page, so its whole pages are
 * aligned in memory as O_DIRECT wants. */
static void *slot_data(void *slot, uint64_t offset) {
    return (char *)slot + offset % OI_DIRECT_ALIGN;
}

static void *thread_main(void *arg) {
    oi_slots *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->state[w->drain] != SLOT_HANDED && !w->stop) pthread_cond_wait(&w->changed, &w->lock);
        if (w->state[w->drain] != SLOT_HANDED) break; /* stopped with nothing left */
        int slot = w->drain;
        oclinit_status status = w->status; /* after a failure, what is handed over is dropped */
        pthread_mutex_unlock(&w->lock);
        if (status == OCLINIT_SUCCESS)
            status = write_at(&w->to[slot], slot_data(w->slot[slot], w->to[slot].offset), w->bytes[slot]);
        pthread_mutex_lock(&w->lock);
        if (w->status == OCLINIT_SUCCESS && status != OCLINIT_SUCCESS)
            snprintf(w->detail, sizeof w->detail, "%s", oclinit_error_get_detail());
        if (w->status == OCLINIT_SUCCESS) w->status = status;
        w->state[slot] = SLOT_FREE;
        w->drain = (slot + 1) % OI_SLOTS;
        pthread_cond_broadcast(&w->changed);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* The open slot is complete: it goes to the thread once its chunks are all made. Called with the lock held. */
static void close_open_slot(oi_slots *w) {
    int slot = w->open;
    if (slot < 0) return;
    w->open = -1;
    if (w->pending[slot] == 0) {
        w->state[slot] = SLOT_HANDED;
        pthread_cond_broadcast(&w->changed);
    }
}

/* Where to make a chunk of that many bytes, bound for to: after the open slot's data where it continues it and fits,
 * else at the start of the next slot, once the thread has written what that slot held. */
void *oi_slots_place(oi_slots *w, oi_slot_target to, size_t bytes) {
    pthread_mutex_lock(&w->lock);
    int slot = w->open;
    if (slot >= 0 && (to.fd != w->to[slot].fd || to.offset != w->to[slot].offset + w->bytes[slot] ||
                      bytes > w->capacity - w->bytes[slot]))
        close_open_slot(w);
    if (w->open < 0) {
        while (w->state[w->place] != SLOT_FREE) pthread_cond_wait(&w->changed, &w->lock);
        slot = w->open = w->place;
        w->place = (slot + 1) % OI_SLOTS;
        w->state[slot] = SLOT_OPEN;
        w->to[slot] = to;
        w->bytes[slot] = 0;
    }
    void *at = (char *)slot_data(w->slot[slot], w->to[slot].offset) + w->bytes[slot];
    w->bytes[slot] += bytes;
    w->pending[slot]++;
    pthread_mutex_unlock(&w->lock);
    return at;
}

/* A chunk placed at data is made; returns the first failure of the writes so far. */
oclinit_status oi_slots_hand(oi_slots *w, const void *data) {
    pthread_mutex_lock(&w->lock);
    int slot = 0;
    while (slot < OI_SLOTS - 1 && !((const char *)data >= (const char *)w->slot[slot] &&
                                    (const char *)data < (const char *)w->slot[slot] + w->capacity + OI_DIRECT_ALIGN))
        slot++;
    if (--w->pending[slot] == 0 && slot != w->open) {
        w->state[slot] = SLOT_HANDED;
        pthread_cond_broadcast(&w->changed);
    }
    oclinit_status status = w->status;
    pthread_mutex_unlock(&w->lock);
    return status == OCLINIT_SUCCESS ? status : oi_fail(status, "%s", w->detail);
}

/* Waits until everything handed over is written (or dropped after a failure). */
void oi_slots_wait(oi_slots *w) {
    pthread_mutex_lock(&w->lock);
    for (int k = 0; k < OI_SLOTS; k++)
        while (w->state[k] == SLOT_HANDED) pthread_cond_wait(&w->changed, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

/* Waits, then returns the first failure of the writes, with its message. */
oclinit_status oi_slots_drain(oi_slots *w) {
    pthread_mutex_lock(&w->lock);
    close_open_slot(w);
    pthread_mutex_unlock(&w->lock);
    oi_slots_wait(w);
    pthread_mutex_lock(&w->lock);
    oclinit_status status = w->status;
    pthread_mutex_unlock(&w->lock);
    return status == OCLINIT_SUCCESS ? status : oi_fail(status, "%s", w->detail);
}

oclinit_status oi_slots_start(size_t slot_bytes, oi_slots **slots) {
    oclinit_status status = OCLINIT_SUCCESS;
    oi_slots *w = calloc(1, sizeof *w);
    if (!w) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "the writer's slots");
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->changed, NULL);
    w->open = -1;
    w->capacity = slot_bytes;
    for (int k = 0; k < OI_SLOTS; k++)
        if (!(w->slot[k] = oi_output_direct_memory(slot_bytes + OI_DIRECT_ALIGN))) {
            status =
                oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%d chunks of %zu bytes to write from", OI_SLOTS, slot_bytes);
            goto cleanup;
        }
    /* A small stack: it only writes, and under ulimit -v the default 8 MiB could leave OpenMP none for its threads. */
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, (size_t)256 << 10);
    w->running = pthread_create(&w->thread, &attributes, thread_main, w) == 0;
    pthread_attr_destroy(&attributes);
    if (!w->running) status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "cannot start the writer thread");
cleanup:
    if (status != OCLINIT_SUCCESS) oi_slots_free(w), w = NULL;
    *slots = w;
    return status;
}

void *oi_slots_memory(const oi_slots *w, int k, size_t *bytes) {
    *bytes = w->capacity + OI_DIRECT_ALIGN;
    return w->slot[k];
}

void oi_slots_stop(oi_slots *w) {
    if (!w || !w->running) return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    if (w->status == OCLINIT_SUCCESS) w->status = OCLINIT_ERROR_CANCELLED; /* what is still queued is dropped */
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->running = false;
}

void oi_slots_free(oi_slots *w) {
    if (!w) return;
    oi_slots_stop(w);
    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->lock);
    for (int k = 0; k < OI_SLOTS; k++) free(w->slot[k]);
    free(w);
}

oi_slot_target oi_slot_target_open(int fd, const char *file, const char *path) {
    flock(fd, LOCK_EX | LOCK_NB);
    return (oi_slot_target){fd, open(file, O_WRONLY | O_CLOEXEC | O_DIRECT), 0, path};
}

oclinit_status oi_slots_close(oi_slots *w, oi_slot_target *to, oclinit_status status) {
    if (status == OCLINIT_SUCCESS) status = oi_slots_drain(w);
    if (status == OCLINIT_SUCCESS && fsync(to->fd) != 0) status = oi_output_write_error(to->path, errno);
    if (status != OCLINIT_SUCCESS) { /* the file goes: what is queued for it is dropped, the write under way ends */
        pthread_mutex_lock(&w->lock);
        if (w->status == OCLINIT_SUCCESS) w->status = OCLINIT_ERROR_CANCELLED;
        pthread_mutex_unlock(&w->lock);
        oi_slots_wait(w); /* before its file is closed */
    }
    if (to->direct >= 0) close(to->direct); /* what it wrote, the fsync above made durable */
    if (to->fd >= 0 && close(to->fd) != 0 && status == OCLINIT_SUCCESS) status = oi_output_write_error(to->path, errno);
    to->fd = to->direct = -1;
    return status;
}
