/* A whole model's first checkpoint, as Hugging Face lays it out: model.safetensors, or model-0000k-of-0000n.safetensors
 * shards (split as huggingface_hub's split_torch_state_dict_into_shards does) and model.safetensors.index.json, plus
 * config.json. Each tensor streams through oi_chunker, in the checkpoint's dtype, straight into the writer thread's
 * slots: while the device (or the host C path) makes the next chunks, the thread writes the slots filled before and
 * so keeps the disk busy; memory stays a few chunks whatever the model's size. The thread writes with
 * O_DIRECT where the file system allows it: the disk then reads the chunk where it was made, with no copy into the page
 * cache, which on few cores takes a core from the sampling and whose cost varies several times from run to run. Every
 * file is written under a temporary name and published only when all are complete, the index last; a failure or a
 * cancellation leaves nothing behind.
 *
 * Under mpirun (host/dist) the ranks share the work: the checkpoint's tensor data, all shards in file order, is cut
 * into one range per rank (oi_dist_range, at multiples of SPLIT_UNIT elements; an orthogonal tensor, one QR, goes
 * whole to the rank its first element falls to). Rank 0 makes the directory and every shard's temporary file with
 * its header; each rank then writes its ranges into those files at their offsets (pwrite), so the bytes are those of
 * one process. After every step the ranks share their outcome (oi_dist_status): a failure on any rank is every
 * rank's, and rank 0 removes the temporary files; on success rank 0 writes config.json and the index, and
 * publishes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dist/dist.h"
#include "features/features.h"

#define DEFAULT_SHARD_BYTES 5000000000ull /* transformers' and huggingface_hub's "5GB" */
#define SINGLE_FILE "model.safetensors"
#define INDEX_FILE "model.safetensors.index.json"
#define SHARD_PATTERN "model-*-of-*.safetensors"
/* The ranks' ranges start at multiples of this many elements (16 KiB of f32), so that two ranks rarely write into
 * the same page of a file. */
#define SPLIT_UNIT 4096
typedef struct planned {
    const oclinit_model_tensor *tensor;
    oclinit_distribution distribution;
    uint64_t elements, bytes;
    uint64_t offset;     /* of its data in its shard's file, after the header */
    uint64_t begin, end; /* the elements this rank writes */
} planned;

typedef struct shard {
    size_t first, count; /* its tensors: order[first .. first + count) */
    uint64_t bytes;
    char name[64];
    char *path;
    oi_output *out;        /* rank 0's: the temporary file, from its creation until it is published */
    const char *temporary; /* its name, on every rank */
    uint64_t header_bytes;
    uint64_t mine; /* bytes this rank writes into it */
} shard;

typedef struct checkpoint {
    oclinit_runtime_t runtime;
    oclinit_checkpoint_options options;
    size_t dtype_size;
    size_t tensor_count, shard_count;
    planned *tensors;
    size_t *order;
    shard *shards;
    oi_slots *slots;            /* the writer thread's (core/slots.c) */
    uint64_t done, total, mine; /* bytes: written by this rank, of the checkpoint, this rank's share */
    const char *directory;
    char *names; /* the shards' temporary names, as rank 0 sent them */
} checkpoint;

/* huggingface_hub's split_torch_state_dict_into_shards: tensors in order fill a shard until the next would tip it
 * over the limit; a tensor larger than the limit gets a shard of its own, placed before the one being filled. */
static oclinit_status plan_shards(checkpoint *c) {
    size_t n = c->tensor_count, shards = 0, placed = 0, open_count = 0;
    uint64_t open_bytes = 0, limit = c->options.max_shard_bytes;
    c->order = malloc((n ? n : 1) * sizeof *c->order);
    c->shards = calloc(n ? n : 1, sizeof *c->shards);
    size_t *open = malloc((n ? n : 1) * sizeof *open);
    oclinit_status status = OCLINIT_SUCCESS;
    if (!c->order || !c->shards || !open) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "planning the checkpoint's shards");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t bytes = c->tensors[i].bytes;
        if (bytes > limit) {
            c->order[placed] = i;
            c->shards[shards++] = (shard){placed++, 1, bytes, "", NULL, NULL, NULL, 0, 0};
            continue;
        }
        if (open_count > 0 && open_bytes + bytes > limit) {
            memcpy(c->order + placed, open, open_count * sizeof *open);
            c->shards[shards++] = (shard){placed, open_count, open_bytes, "", NULL, NULL, NULL, 0, 0};
            placed += open_count;
            open_count = 0, open_bytes = 0;
        }
        open[open_count++] = i;
        open_bytes += bytes;
    }
    if (open_count > 0) {
        memcpy(c->order + placed, open, open_count * sizeof *open);
        c->shards[shards++] = (shard){placed, open_count, open_bytes, "", NULL, NULL, NULL, 0, 0};
    }
    c->shard_count = shards;
    for (size_t k = 0; k < shards; k++) {
        if (shards == 1)
            snprintf(c->shards[k].name, sizeof c->shards[k].name, SINGLE_FILE);
        else
            snprintf(c->shards[k].name, sizeof c->shards[k].name, "model-%05zu-of-%05zu.safetensors", k + 1, shards);
    }
cleanup:
    free(open);
    return status;
}

static char *join_path(const char *directory, const char *name) {
    size_t size = strlen(directory) + strlen(name) + 2;
    char *path = malloc(size);
    if (path) snprintf(path, size, "%s/%s", directory, name);
    return path;
}

static bool is_checkpoint_file(const char *name) {
    return strcmp(name, SINGLE_FILE) == 0 || strcmp(name, INDEX_FILE) == 0 || fnmatch(SHARD_PATTERN, name, 0) == 0;
}

static bool is_written_here(const char *name, const void *unused) {
    (void)unused;
    return is_checkpoint_file(name) || strcmp(name, "config.json") == 0;
}

/* The directory, made when missing (*made says so) and locked (*lock: flock on it, which closing releases), so that a
 * second writer is refused instead of mixing its files with this one's; then the temporary files that killed writers
 * left there, whatever the layout they were for. One that already holds a checkpoint is refused unless force. */
static oclinit_status prepare_directory(const char *directory, bool force, bool *made, int *lock) {
    struct stat st;
    *made = false;
    if (stat(directory, &st) != 0) {
        if (errno != ENOENT)
            return oi_fail(OCLINIT_ERROR_IO, "cannot use %s as the checkpoint's directory: %s", directory,
                           strerror(errno));
        if (lstat(directory, &st) == 0)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s is a symbolic link to nothing, not a directory",
                           directory);
        if (mkdir(directory, 0777) != 0)
            return oi_fail(OCLINIT_ERROR_IO, "cannot create the directory %s: %s", directory, strerror(errno));
        *made = true;
        oi_output_made_directory(directory); /* so that a fatal signal removes it with the temporary files */
    } else if (!S_ISDIR(st.st_mode)) {
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s exists and is not a directory", directory);
    }
    *lock = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*lock < 0) return oi_fail(OCLINIT_ERROR_IO, "cannot open the directory %s: %s", directory, strerror(errno));
    if (flock(*lock, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        if (*made) oi_output_made_directory(NULL), *made = false; /* the other writer's now */
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "another process is writing a checkpoint into %s; wait for it to end, or choose another "
                       "directory",
                       directory);
    }
    oi_output_remove_stale(directory, is_written_here, NULL);
    if (*made || force) return OCLINIT_SUCCESS;
    DIR *dir = opendir(directory);
    if (!dir) return oi_fail(OCLINIT_ERROR_IO, "cannot read the directory %s: %s", directory, strerror(errno));
    oclinit_status status = OCLINIT_SUCCESS;
    struct dirent *entry;
    while (status == OCLINIT_SUCCESS && (entry = readdir(dir)) != NULL)
        if (is_checkpoint_file(entry->d_name))
            status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                             "%s already holds a checkpoint (%s); choose another directory, or --force to replace it",
                             directory, entry->d_name);
    closedir(dir);
    return status;
}

/* After a forced write: the files of an earlier checkpoint that the new one does not have (other shard counts, an
 * index where there is now one file, ...), so that loaders cannot mix the two. */
static void remove_stale_files(const checkpoint *c) {
    DIR *dir = opendir(c->directory);
    if (!dir) return;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        bool current = c->shard_count > 1 && strcmp(entry->d_name, INDEX_FILE) == 0;
        for (size_t k = 0; k < c->shard_count && !current; k++) current = strcmp(entry->d_name, c->shards[k].name) == 0;
        if (current || !is_checkpoint_file(entry->d_name)) continue;
        char *path = join_path(c->directory, entry->d_name);
        if (path) unlink(path);
        free(path);
    }
    closedir(dir);
}

/* FNV-1a 64 over the text of everything that decides the checkpoint's bytes: recorded in every shard's metadata. */
static uint64_t plan_hash(const checkpoint *c) {
    uint64_t hash = 0xcbf29ce484222325ull;
    char text[512];
    for (size_t i = 0; i < c->tensor_count; i++) {
        const planned *p = &c->tensors[i];
        char shape[OCLINIT_MAX_RANK * 24], drawn[200];
        oclinit_shape_format(&p->distribution.shape, shape, sizeof shape);
        oclinit_distribution_describe(&p->distribution, drawn, sizeof drawn);
        int length = snprintf(text, sizeof text, "%s %s %s %" PRIu64 " %" PRId64 " %s\n", p->tensor->name, shape, drawn,
                              p->tensor->stream, p->tensor->zero_row, oclinit_dtype_str(c->options.dtype));
        for (int k = 0; k < length && k < (int)sizeof text; k++)
            hash = (hash ^ (unsigned char)text[k]) * 0x100000001b3ull;
    }
    return hash;
}

typedef struct tensor_writer {
    checkpoint *c;
    oi_slot_target to; /* the tensor's first element in this rank's file */
    const planned *p;
    uint64_t zero_begin, zero_end; /* elements of the zeroed row, if any */
} tensor_writer;

/* oi_chunker makes each chunk straight into a writer slot, in the checkpoint's dtype. */
static void *place_chunk(void *user, uint64_t first, size_t count) {
    const tensor_writer *t = user;
    oi_slot_target to = t->to;
    to.offset += first * t->c->dtype_size;
    return oi_slots_place(t->c->slots, to, count * t->c->dtype_size);
}

static oclinit_status write_chunk(void *user, uint64_t first, const void *data, size_t count) {
    oclinit_status status = OCLINIT_SUCCESS;
    tensor_writer *t = user;
    checkpoint *c = t->c;
    char *slot = (char *)data; /* place_chunk's: the writer's, ours to change until handed over */
    uint64_t begin = t->zero_begin > first ? t->zero_begin : first;
    uint64_t end = t->zero_end < first + count ? t->zero_end : first + count;
    if (begin < end) memset(slot + (begin - first) * c->dtype_size, 0, (end - begin) * c->dtype_size);
    OI_CHECK(oi_slots_hand(c->slots, data));
    c->done += count * c->dtype_size;
    /* This rank's share, scaled to the checkpoint: the ranks' shares are equal and go at about the same pace. */
    oclinit_progress progress = {.done = (uint64_t)((double)c->done / (double)c->mine * (double)c->total),
                                 .total = c->total};
    if (c->options.progress && c->options.progress(c->options.user, &progress) != 0)
        return oi_fail(OCLINIT_ERROR_CANCELLED, "writing the checkpoint in %s was cancelled; nothing was written",
                       c->directory);
cleanup:
    return status;
}

/* This rank's part of every tensor: its range of the checkpoint's data in file order, cut as oi_dist_range cuts. */
static void plan_ranges(checkpoint *c) {
    uint64_t elements = c->total / c->dtype_size, lo, hi, at = 0;
    oi_dist_range(elements, SPLIT_UNIT, oi_dist_rank(), oi_dist_size(), &lo, &hi);
    for (size_t k = 0; k < c->shard_count; k++) {
        shard *s = &c->shards[k];
        uint64_t offset = 0;
        for (size_t i = 0; i < s->count; i++) {
            planned *p = &c->tensors[c->order[s->first + i]];
            p->offset = offset;
            offset += p->bytes;
            if (p->distribution.kind == OCLINIT_DISTRIBUTION_ORTHOGONAL) {
                bool whole = at >= lo && at < hi;
                p->begin = 0, p->end = whole ? p->elements : 0;
            } else {
                p->begin = lo > at ? lo - at : 0;
                p->end = hi < at + p->elements ? (hi > at ? hi - at : 0) : p->elements;
                if (p->begin > p->end) p->begin = p->end;
            }
            s->mine += (p->end - p->begin) * c->dtype_size;
            at += p->elements;
        }
        c->mine += s->mine;
    }
}

/* A shard's safetensors header: the same bytes on every rank, whose size places every tensor in the file. */
static oclinit_status shard_header(const checkpoint *c, const shard *s, const char *const *metadata,
                                   size_t metadata_pairs, char **header, size_t *header_size) {
    oclinit_status status = OCLINIT_SUCCESS;
    oi_safetensors_entry *entries = calloc(s->count, sizeof *entries);
    if (!entries) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "a shard's header");
    for (size_t k = 0; k < s->count; k++) {
        const planned *p = &c->tensors[c->order[s->first + k]];
        entries[k] = (oi_safetensors_entry){p->tensor->name, c->options.dtype, p->distribution.shape.rank,
                                            p->distribution.shape.dims};
    }
    status = oi_safetensors_header(entries, s->count, metadata, metadata_pairs, header, header_size);
    free(entries);
    return status;
}

/* Rank 0: the shard's temporary file with its header; the tensors' bytes come later, from every rank. */
static oclinit_status create_shard(shard *s, const char *header, size_t header_size) {
    oclinit_status status = OCLINIT_SUCCESS;
    s->out = calloc(1, sizeof *s->out);
    if (!s->out) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "a file name");
    s->out->fd = -1;
    OI_CHECK(oi_output_open(s->path, s->out));
    OI_CHECK(oi_output_reserve(s->out, header_size + s->bytes));
    OI_CHECK(oi_output_write(s->out, header, header_size));
    OI_CHECK(oi_output_finish(s->out)); /* closed, under its temporary name until published */
    s->temporary = s->out->temporary;
cleanup:
    return status;
}

/* Every rank: its bytes of the shard, into the file rank 0 created. */
static oclinit_status write_shard(checkpoint *c, shard *s, oi_chunker *chunker) {
    oclinit_status status = OCLINIT_SUCCESS;
    if (s->mine == 0) return OCLINIT_SUCCESS;
    int fd = oi_dist_test_fail() ? -1 : open(s->temporary, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return oi_fail(OCLINIT_ERROR_IO, "cannot open %s%s: %s", s->temporary,
                       oi_dist_rank() > 0 ? ", which rank 0 made (is the directory on a file system every rank sees?)"
                                          : "",
                       oi_dist_test_fail() ? "failing on purpose (OCLINIT_TEST_FAIL_RANK)" : strerror(errno));
    oi_slot_target file = oi_slot_target_open(fd, s->temporary, s->path);
    for (size_t k = 0; k < s->count; k++) {
        const planned *p = &c->tensors[c->order[s->first + k]];
        if (p->begin == p->end) continue;
        tensor_writer w = {c, {fd, file.direct, s->header_bytes + p->offset, s->path}, p, 0, 0};
        if (p->tensor->zero_row >= 0) {
            uint64_t row = p->elements / (uint64_t)p->distribution.shape.dims[0];
            w.zero_begin = (uint64_t)p->tensor->zero_row * row;
            w.zero_end = w.zero_begin + row;
        }
        OI_CHECK(oi_chunker_run_range(chunker, &p->distribution, c->options.seed, p->tensor->stream, p->begin, p->end,
                                      place_chunk, write_chunk, &w));
    }
cleanup:
    return oi_slots_close(c->slots, &file, status);
}

/* model.safetensors.index.json as transformers writes it: metadata.total_size and weight_map, keys sorted. */
static oclinit_status index_text(const checkpoint *c, char **text) {
    json_t *root = json_object(), *metadata = json_object(), *map = json_object();
    oclinit_status status = OCLINIT_SUCCESS;
    if (!root || !metadata || !map || json_object_set_new(metadata, "total_size", json_integer((json_int_t)c->total)) ||
        json_object_set(root, "metadata", metadata) || json_object_set(root, "weight_map", map)) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "the checkpoint's index");
        goto cleanup;
    }
    for (size_t k = 0; k < c->shard_count; k++)
        for (size_t i = 0; i < c->shards[k].count; i++)
            if (json_object_set_new(map, c->tensors[c->order[c->shards[k].first + i]].tensor->name,
                                    json_string(c->shards[k].name))) {
                status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "the checkpoint's index");
                goto cleanup;
            }
    *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!*text) status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "the checkpoint's index");
cleanup:
    json_decref(map);
    json_decref(metadata);
    json_decref(root);
    return status;
}

/* Sets the config's torch_dtype (or dtype, as transformers >= 4.56 writes it) to the dtype written, so that
 * from_pretrained(torch_dtype="auto") loads the tensors as they are. Only a config that names another (none counts
 * as float32) is written again, through jansson: keys in their order, numbers as jansson prints them; was then says
 * what it named ("" otherwise). */
static oclinit_status set_config_dtype(oclinit_dtype dtype, char **data, size_t *size, char *was, size_t was_size) {
    oclinit_status status = OCLINIT_SUCCESS;
    const char *wanted = dtype == OCLINIT_DTYPE_BF16 ? "bfloat16" : dtype == OCLINIT_DTYPE_F16 ? "float16" : "float32";
    char *text = NULL;
    was[0] = '\0';
    json_t *root = json_loadb(*data, *size, 0, NULL); /* parsed before, when the model was read from it */
    if (!json_is_object(root)) goto cleanup;
    const char *key = json_object_get(root, "torch_dtype") || !json_object_get(root, "dtype") ? "torch_dtype" : "dtype";
    const char *named = json_string_value(json_object_get(root, key));
    if (strcmp(named ? named : "float32", wanted) == 0) goto cleanup;
    if (named)
        snprintf(was, was_size, "\"%s\": \"%s\"", key, named);
    else
        snprintf(was, was_size, "no %s (float32)", key);
    if (json_object_set_new(root, key, json_string(wanted)) != 0) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "setting config.json's %s", key);
        goto cleanup;
    }
    /* The fewest digits that give every number back (1e-05, not 1.0000000000000001e-5). */
    for (int digits = 15; digits <= 17; digits++) {
        free(text);
        text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(digits));
        json_t *again = text ? json_loads(text, 0, NULL) : NULL;
        bool same = json_equal(root, again);
        json_decref(again);
        if (same) break;
    }
    size_t length = text ? strlen(text) : 0;
    char *grown = text ? realloc(text, length + 2) : NULL;
    if (!grown) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "writing config.json's %s", key);
        goto cleanup;
    }
    text = NULL;
    memcpy(grown + length, "\n", 2);
    free(*data);
    *data = grown;
    *size = length + 1;
cleanup:
    free(text);
    json_decref(root);
    return status;
}

/* config.json beside the weights, with the dtype written (set_config_dtype): copied unless the directory's already
 * holds the same bytes; a different one is replaced only with force. When the directory's is the very file read, it
 * is an input and stays as it is, unless it names another dtype: loaded with torch_dtype="auto", the tensors would
 * become that, so it is refused, and with force its dtype rewritten. */
static oclinit_status prepare_config(const char *config_path, const char *target, bool force, oclinit_dtype dtype,
                                     char **data, size_t *size) {
    oclinit_status status = OCLINIT_SUCCESS;
    char *existing = NULL;
    size_t existing_size = 0;
    char was[96];
    struct stat from, to;
    *data = NULL;
    bool read_from_target =
        stat(config_path, &from) == 0 && stat(target, &to) == 0 && from.st_dev == to.st_dev && from.st_ino == to.st_ino;
    OI_CHECK(oi_read_file(config_path, data, size));
    OI_CHECK(set_config_dtype(dtype, data, size, was, sizeof was));
    if (read_from_target && was[0] && !force) {
        status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                         "%s is the config read and has %s, but the tensors are written in %s, which "
                         "from_pretrained(torch_dtype=\"auto\") would not load as written; --force sets it to the "
                         "dtype written (or give the --dtype it names, or a config outside the output directory)",
                         target, was, oclinit_dtype_str(dtype));
    } else if (read_from_target && !was[0]) {
        free(*data);
        *data = NULL;
    } else if (!read_from_target && stat(target, &to) == 0) {
        if (oi_read_file(target, &existing, &existing_size) == OCLINIT_SUCCESS && existing_size == *size &&
            memcmp(existing, *data, *size) == 0) {
            free(*data);
            *data = NULL;
        } else if (!force) {
            status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s exists and differs from %s; --force replaces it",
                             target, config_path);
        }
    }
cleanup:
    free(existing);
    return status;
}

/* Every tensor resolved and sized, and the shards planned, before anything is touched. */
static oclinit_status plan_tensors(checkpoint *c, oclinit_model_t model, uint64_t *most) {
    c->tensor_count = oclinit_model_get_count(model);
    c->tensors = calloc(c->tensor_count ? c->tensor_count : 1, sizeof *c->tensors);
    if (!c->tensors) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "planning the checkpoint");
    for (size_t i = 0; i < c->tensor_count; i++) {
        planned *p = &c->tensors[i];
        p->tensor = oclinit_model_get_tensor(model, i);
        oclinit_status status = oclinit_scheme_resolve_shape(&p->tensor->scheme, &p->tensor->shape, &p->distribution);
        if (status != OCLINIT_SUCCESS)
            return oi_fail(status, "tensor %s: %s", p->tensor->name, oclinit_error_get_detail());
        oclinit_shape_get_elements(&p->tensor->shape, &p->elements);
        if (p->elements > UINT64_MAX / c->dtype_size / 2 || c->total > UINT64_MAX / 2)
            return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "tensor %s: the checkpoint's size overflows", p->tensor->name);
        p->bytes = p->elements * c->dtype_size;
        c->total += p->bytes;
        if (p->elements > *most) *most = p->elements;
    }
    return plan_shards(c);
}

/* Each shard's path and header size, and this rank's part of each tensor. */
static oclinit_status plan_files(checkpoint *c, const char *const *metadata, size_t metadata_pairs) {
    for (size_t k = 0; k < c->shard_count; k++) {
        shard *s = &c->shards[k];
        char *header = NULL;
        size_t header_size = 0;
        s->path = join_path(c->directory, s->name);
        if (!s->path) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "a file name");
        oclinit_status status = shard_header(c, s, metadata, metadata_pairs, &header, &header_size);
        free(header);
        if (status != OCLINIT_SUCCESS) return status;
        s->header_bytes = header_size;
    }
    plan_ranges(c);
    return OCLINIT_SUCCESS;
}

/* Collective: what decides the files' bytes and names is the same on every rank (the device, the chunk size and the
 * progress display may differ). */
static oclinit_status agree(const checkpoint *c, const char *plan, const char *config_path) {
    char seed[24], shard_bytes[24];
    snprintf(seed, sizeof seed, "%" PRIu64, c->options.seed);
    snprintf(shard_bytes, sizeof shard_bytes, "%" PRIu64, c->options.max_shard_bytes);
    const oi_dist_value values[] = {
        {"the seed", seed},
        {"the dtype", oclinit_dtype_str(c->options.dtype)},
        {"the largest shard's size in bytes", shard_bytes},
        {"the checkpoint's directory", c->directory},
        {"the config.json copied beside it", config_path ? config_path : "(none)"},
        {"replacing a checkpoint (force)", c->options.force ? "yes" : "no"},
        {"the tensors (the hash of their names, shapes and schemes)", plan},
    };
    return oi_dist_agree(values, OI_COUNT(values));
}

/* Rank 0: the directory, config.json's bytes and every shard's temporary file with its header. */
static oclinit_status create_files(checkpoint *c, const char *config_path, const char *config_target,
                                   const char *const *metadata, size_t metadata_pairs, bool *made, int *lock,
                                   char **config_data, size_t *config_size) {
    oclinit_status status = OCLINIT_SUCCESS;
    OI_CHECK(prepare_directory(c->directory, c->options.force, made, lock));
    if (config_path)
        OI_CHECK(
            prepare_config(config_path, config_target, c->options.force, c->options.dtype, config_data, config_size));
    for (size_t k = 0; k < c->shard_count; k++) {
        char *header = NULL;
        size_t header_size = 0;
        status = shard_header(c, &c->shards[k], metadata, metadata_pairs, &header, &header_size);
        if (status == OCLINIT_SUCCESS) status = create_shard(&c->shards[k], header, header_size);
        free(header);
        if (status != OCLINIT_SUCCESS) goto cleanup;
    }
cleanup:
    return status;
}

/* Collective: the temporary names rank 0 made, to every rank. */
static oclinit_status share_names(checkpoint *c) {
    oclinit_status status = OCLINIT_SUCCESS;
    if (!oi_dist_active()) return OCLINIT_SUCCESS;
    uint64_t length = 0;
    for (size_t k = 0; oi_dist_rank() == 0 && k < c->shard_count; k++) length += strlen(c->shards[k].temporary) + 1;
    OI_CHECK(oi_dist_broadcast(&length, sizeof length, 0));
    c->names = malloc(length ? length : 1);
    status = c->names ? OCLINIT_SUCCESS : oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "the shards' file names");
    OI_CHECK(oi_dist_status(status));
    char *at = c->names;
    for (size_t k = 0; oi_dist_rank() == 0 && k < c->shard_count; k++) at = stpcpy(at, c->shards[k].temporary) + 1;
    OI_CHECK(oi_dist_broadcast(c->names, length, 0));
    at = c->names;
    for (size_t k = 0; k < c->shard_count; k++, at += strlen(at) + 1) c->shards[k].temporary = at;
cleanup:
    return status;
}

/* Rank 0, once every rank has written its part: config.json and the index, then every file published together, the
 * index last, so that a loader never finds an index whose shards are missing. */
static oclinit_status publish(checkpoint *c, const char *config_target, const char *config_data, size_t config_size,
                              oi_output *config_out, oi_output *index_out, bool *published) {
    oclinit_status status = OCLINIT_SUCCESS;
    char *index = NULL, *index_path = NULL;
    if (config_data) {
        OI_CHECK(oi_output_open(config_target, config_out));
        OI_CHECK(oi_output_write(config_out, config_data, config_size));
        OI_CHECK(oi_output_finish(config_out));
    }
    if (c->shard_count > 1) {
        index_path = join_path(c->directory, INDEX_FILE);
        if (!index_path) {
            status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "a file name");
            goto cleanup;
        }
        OI_CHECK(index_text(c, &index));
        OI_CHECK(oi_output_open(index_path, index_out));
        OI_CHECK(oi_output_write(index_out, index, strlen(index)));
        OI_CHECK(oi_output_write(index_out, "\n", 1));
        OI_CHECK(oi_output_finish(index_out));
    }
    *published = true;
    /* Replacing a sharded checkpoint: its index goes first, so that a stop among the renames below leaves a directory
     * that does not load, rather than an old index over a mix of old and new shards of the same names. */
    if (c->options.force && index_path) unlink(index_path);
    for (size_t k = 0; k < c->shard_count; k++) OI_CHECK(oi_output_publish(c->shards[k].out));
    if (config_data) OI_CHECK(oi_output_publish(config_out));
    if (index_path) OI_CHECK(oi_output_publish(index_out));
    if (c->options.force) remove_stale_files(c);
cleanup:
    free(index);
    free(index_path);
    return status;
}

oclinit_status oclinit_model_write(oclinit_runtime_t runtime, oclinit_model_t model, const char *directory,
                                   const char *config_path, const oclinit_checkpoint_options *options) {
    oclinit_status status = OCLINIT_SUCCESS;
    checkpoint c;
    oi_chunker *chunker = NULL;
    oi_output config_out = {.fd = -1}, index_out = {.fd = -1};
    char *config_target = NULL, *config_data = NULL;
    size_t config_size = 0;
    bool made = false, published = false, first = oi_dist_rank() == 0;
    int lock = -1;
    uint64_t most = 1;

    memset(&c, 0, sizeof c);
    OI_REQUIRE(model, "model");
    OI_REQUIRE(directory, "directory");
    c.runtime = runtime;
    c.directory = directory;
    if (options) c.options = *options;
    if (c.options.dtype != OCLINIT_DTYPE_F32 && c.options.dtype != OCLINIT_DTYPE_F16 &&
        c.options.dtype != OCLINIT_DTYPE_BF16)
        status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "a checkpoint is written in f32, f16 or bf16, not %s",
                         oclinit_dtype_str(c.options.dtype));
    if (c.options.max_shard_bytes == 0) c.options.max_shard_bytes = DEFAULT_SHARD_BYTES;
    c.dtype_size = oclinit_dtype_size(c.options.dtype);

    /* Each step ends with the ranks' outcomes shared, so that every rank goes on, or stops, together. */
    char seed[24], version[24], hash[24] = "";
    snprintf(seed, sizeof seed, "%" PRIu64, c.options.seed);
    snprintf(version, sizeof version, "%d.%d.%d", OCLINIT_VERSION_MAJOR, OCLINIT_VERSION_MINOR, OCLINIT_VERSION_PATCH);
    /* transformers' from_pretrained refuses safetensors files whose metadata has no "format". */
    const char *metadata[] = {"format", "pt", "oclinit_version", version, "oclinit_seed", seed, "oclinit_plan", hash};
    if (status == OCLINIT_SUCCESS) status = plan_tensors(&c, model, &most);
    if (status == OCLINIT_SUCCESS) {
        snprintf(hash, sizeof hash, "%016" PRIx64, plan_hash(&c));
        status = plan_files(&c, metadata, 4);
    }
    if (status == OCLINIT_SUCCESS && first && config_path) {
        config_target = join_path(directory, "config.json");
        if (!config_target) status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "a file name");
    }
    OI_CHECK(oi_dist_status(status));
    OI_CHECK(agree(&c, hash, config_path));

    /* Buffers before files: a device that cannot hold a chunk fails with nothing written. */
    status = oi_chunker_create(runtime, c.options.dtype, c.options.chunk_bytes, most, &chunker);
    if (status == OCLINIT_SUCCESS) status = oi_chunker_start_slots(chunker, &c.slots);
    OI_CHECK(oi_dist_status(status));

    if (first)
        status = create_files(&c, config_path, config_target, metadata, 4, &made, &lock, &config_data, &config_size);
    OI_CHECK(oi_dist_status(status));
    OI_CHECK(share_names(&c));

    for (size_t k = 0; k < c.shard_count && status == OCLINIT_SUCCESS; k++)
        status = write_shard(&c, &c.shards[k], chunker);
    OI_CHECK(oi_dist_status(status));

    if (first) status = publish(&c, config_target, config_data, config_size, &config_out, &index_out, &published);
    status = oi_dist_status(status);
cleanup:
    oi_slots_stop(c.slots);   /* before the files it may still be writing go */
    oi_chunker_free(chunker); /* before the slots its buffers lie over */
    oi_slots_free(c.slots);
    for (size_t k = 0; c.shards && k < c.shard_count; k++) {
        if (c.shards[k].out) oi_output_abort(c.shards[k].out);
        free(c.shards[k].out);
        free(c.shards[k].path);
    }
    oi_output_abort(&config_out);
    oi_output_abort(&index_out);
    if (made) oi_output_made_directory(NULL);
    if (status != OCLINIT_SUCCESS && made && !published) rmdir(directory);
    if (lock >= 0) close(lock);
    free(c.names);
    free(config_data);
    free(config_target);
    free(c.shards);
    free(c.order);
    free(c.tensors);
    return status;
}
