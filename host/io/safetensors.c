/* The safetensors format (github.com/huggingface/safetensors): an 8-byte little-endian header length N, N bytes
 * of a UTF-8 JSON object {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
 * then the tensors' bytes, little-endian and C-ordered, at offsets counted from the end of the header.
 * The reader checks what safetensors' Rust crate checks (tensor.rs, Metadata::validate): sorted by offset, the
 * tensors tile the data exactly, from 0 to the end of the file, each as long as its shape and dtype say. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"

struct oclinit_safetensors {
    char *path;
    int fd;           /* -1 for a header parsed from memory */
    json_t *header;   /* owns the names */
    json_t *metadata; /* "__metadata__" in header, or NULL */
    size_t count;
    oclinit_tensor_info *tensors; /* by offset */
};

/* ---- Writing ------------------------------------------------------------------------------------------------ */

/* object[key] = value, taking value; a NULL value is one that json_string refused. */
static oclinit_status set_new(json_t *object, const char *key, json_t *value, const char *what) {
    if (value && json_object_set_new(object, key, value) == 0) return OCLINIT_SUCCESS; /* it frees value on failure */
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "safetensors header: %s is not valid UTF-8", what);
}

/* {"dtype": ..., "shape": [...], "data_offsets": [begin, begin + bytes]} for e, after checking its sizes. */
static oclinit_status entry_json(const oi_safetensors_entry *e, const char *what, uint64_t begin, json_t **entry,
                                 uint64_t *bytes) {
    *bytes = oclinit_dtype_size(e->dtype);
    *entry = NULL;
    if (e->rank < 0 || e->rank > OCLINIT_MAX_RANK || !*bytes)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "safetensors header: %s has rank %d or dtype %d", what, e->rank,
                       (int)e->dtype);
    for (int d = 0; d < e->rank; d++) {
        if (e->dims[d] < 0)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "safetensors header: %s: dimension %d is %lld", what, d,
                           (long long)e->dims[d]);
        if (e->dims[d] && *bytes > (UINT64_MAX >> 1) / (uint64_t)e->dims[d])
            return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "safetensors header: %s is more than 2^63 bytes", what);
        *bytes *= (uint64_t)e->dims[d];
    }
    if (*bytes > (UINT64_MAX >> 1) - begin)
        return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW,
                       "safetensors header: the tensors up to %s are more than 2^63 "
                       "bytes",
                       what);
    json_t *shape = json_array();
    bool built = shape != NULL;
    for (int d = 0; built && d < e->rank; d++) built = json_array_append_new(shape, json_integer(e->dims[d])) == 0;
    if (built)
        *entry = json_pack("{s:s, s:o, s:[I, I]}", "dtype", oclinit_dtype_str(e->dtype), "shape", shape, "data_offsets",
                           (json_int_t)begin, (json_int_t)(begin + *bytes));
    else
        json_decref(shape);
    return *entry ? OCLINIT_SUCCESS : oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "building the safetensors header");
}

oclinit_status oi_safetensors_header(const oi_safetensors_entry *entries, size_t count, const char *const *metadata,
                                     size_t metadata_pairs, char **header, size_t *size) {
    oclinit_status status = OCLINIT_SUCCESS;
    json_t *root = json_object(), *meta = NULL;
    char *text = NULL, what[160];
    uint64_t offset = 0;
    *header = NULL;
    if (!root) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "building the safetensors header");
    if (metadata_pairs) {
        meta = json_object();
        if (!meta || json_object_set_new(root, "__metadata__", meta) != 0) {
            status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "building the safetensors header");
            goto cleanup;
        }
        for (size_t i = 0; i < metadata_pairs; i++) {
            snprintf(what, sizeof what, "the metadata key \"%.100s\" or its value", metadata[2 * i]);
            if (json_object_get(meta, metadata[2 * i])) {
                status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                                 "safetensors header: the metadata key \"%.100s\" is given twice", metadata[2 * i]);
                goto cleanup;
            }
            OI_CHECK(set_new(meta, metadata[2 * i], json_string(metadata[2 * i + 1]), what));
        }
    }
    for (size_t i = 0; i < count; i++) {
        const oi_safetensors_entry *e = &entries[i];
        snprintf(what, sizeof what, "the tensor name \"%.100s\"", e->name);
        if (strcmp(e->name, "__metadata__") == 0 || json_object_get(root, e->name)) {
            status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "safetensors header: %s is %s", what,
                             strcmp(e->name, "__metadata__") == 0 ? "reserved" : "given twice");
            goto cleanup;
        }
        json_t *entry;
        uint64_t bytes;
        OI_CHECK(entry_json(e, what, offset, &entry, &bytes));
        OI_CHECK(set_new(root, e->name, entry, what));
        offset += bytes;
    }
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "writing the safetensors header");
        goto cleanup;
    }
    size_t length = strlen(text), padded = (length + 7) / 8 * 8;
    *header = malloc(8 + padded);
    if (!*header) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "writing the safetensors header");
        goto cleanup;
    }
    for (int b = 0; b < 8; b++) (*header)[b] = (char)((uint64_t)padded >> (8 * b));
    memcpy(*header + 8, text, length);
    memset(*header + 8 + length, ' ', padded - length);
    *size = 8 + padded;
cleanup:
    free(text);
    json_decref(root);
    return status;
}

/* ---- Reading ------------------------------------------------------------------------------------------------ */

static oclinit_status malformed(const char *name, const char *format, const char *key, const char *detail) {
    char printable[128];
    oi_printable(key, strlen(key), printable, sizeof printable);
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: not a valid safetensors file: %s \"%s\" %s", name, format,
                   printable, detail);
}

/* A JSON integer >= 0 (jansson's integers are long long: larger ones fail to parse). */
static bool get_count(const json_t *value, uint64_t *out) {
    if (!json_is_integer(value) || json_integer_value(value) < 0) return false;
    *out = (uint64_t)json_integer_value(value);
    return true;
}

static void format_shape(const oclinit_tensor_info *t, char *text, size_t size) {
    size_t used = (size_t)snprintf(text, size, "(");
    for (int d = 0; d < t->rank && used < size; d++)
        used += (size_t)snprintf(text + used, size - used, "%s%lld", d ? ", " : "", (long long)t->dims[d]);
    if (used < size) snprintf(text + used, size - used, "%s)", t->rank == 1 ? "," : "");
}

/* One tensor's entry into t, with begin and end relative to the data. */
static oclinit_status parse_entry(const char *name, const char *key, json_t *entry, oclinit_tensor_info *t,
                                  uint64_t *begin, uint64_t *end) {
    if (!json_is_object(entry)) return malformed(name, "the entry of tensor", key, "is not a JSON object");
    json_t *dtype = json_object_get(entry, "dtype"), *shape = json_object_get(entry, "shape"),
           *offsets = json_object_get(entry, "data_offsets");
    if (!json_is_string(dtype)) return malformed(name, "tensor", key, "has no \"dtype\" string");
    if (!oi_dtype_from_safetensors(json_string_value(dtype), &t->dtype)) {
        char detail[160], printable[32];
        oi_printable(json_string_value(dtype), json_string_length(dtype), printable, sizeof printable);
        snprintf(detail, sizeof detail,
                 "has dtype \"%s\", not one of F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, "
                 "F8_E4M3, F8_E5M2",
                 printable);
        return malformed(name, "tensor", key, detail);
    }
    if (!json_is_array(shape)) return malformed(name, "tensor", key, "has no \"shape\" list");
    if (json_array_size(shape) > OCLINIT_MAX_RANK) {
        char printable[128];
        oi_printable(key, strlen(key), printable, sizeof printable);
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "%s: tensor \"%s\" has %zu dimensions; oclinit reads at most %d",
                       name, printable, json_array_size(shape), OCLINIT_MAX_RANK);
    }
    t->rank = (int)json_array_size(shape);
    t->elements = 1;
    bool overflow = false;
    for (int d = 0; d < t->rank; d++) {
        uint64_t n;
        if (!get_count(json_array_get(shape, (size_t)d), &n))
            return malformed(name, "tensor", key, "has a shape entry that is not an integer >= 0");
        t->dims[d] = (int64_t)n;
        if (n && t->elements > UINT64_MAX / n) overflow = true;
        if (!overflow) t->elements *= n;
    }
    size_t item = oclinit_dtype_size(t->dtype);
    if (overflow || t->elements > UINT64_MAX / item)
        return malformed(name, "tensor", key, "has more elements than 2^64 bytes could hold");
    t->bytes = t->elements * item;
    if (!json_is_array(offsets) || json_array_size(offsets) != 2 || !get_count(json_array_get(offsets, 0), begin) ||
        !get_count(json_array_get(offsets, 1), end))
        return malformed(name, "tensor", key, "has no \"data_offsets\" [begin, end] of integers >= 0");
    if (*end < *begin) return malformed(name, "tensor", key, "has data_offsets that end before they begin");
    if (*end - *begin != t->bytes) {
        char detail[256], shape_text[128];
        format_shape(t, shape_text, sizeof shape_text);
        snprintf(detail, sizeof detail, "has data_offsets [%llu, %llu] of %llu bytes, but %s %s needs %llu",
                 (unsigned long long)*begin, (unsigned long long)*end, (unsigned long long)(*end - *begin),
                 json_string_value(dtype), shape_text, (unsigned long long)t->bytes);
        return malformed(name, "tensor", key, detail);
    }
    return OCLINIT_SUCCESS;
}

typedef struct span {
    uint64_t begin, end;
    size_t order; /* in the header, so that equal offsets (empty tensors) keep the header's order */
} span;

static int by_offset(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

oclinit_status oi_safetensors_parse(const char *name, const unsigned char *data, size_t size, uint64_t file_size,
                                    oclinit_safetensors_t *file) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_safetensors_t f = NULL;
    oclinit_tensor_info *unsorted = NULL;
    span *spans = NULL;
    *file = NULL;
    if (file_size < 8 || size < 8)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: not a safetensors file: %llu bytes, fewer than the 8 of the header's length", name,
                       (unsigned long long)file_size);
    uint64_t n = 0;
    for (int b = 7; b >= 0; b--) n = n << 8 | data[b];
    if (n > OI_SAFETENSORS_HEADER_MAX)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: not a valid safetensors file: its header length is %llu bytes, more than safetensors' "
                       "limit of 100 MB (%u bytes)",
                       name, (unsigned long long)n, OI_SAFETENSORS_HEADER_MAX);
    if (n > file_size - 8 || n > size - 8)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "%s: not a valid safetensors file: its header length is %llu bytes, but only %llu follow", name,
                       (unsigned long long)n, (unsigned long long)(file_size - 8));
    uint64_t data_size = file_size - 8 - n;

    f = calloc(1, sizeof *f);
    if (!f) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "reading %s", name);
    f->fd = -1;
    json_error_t error;
    /* Duplicate keys are refused: which of two entries a reader takes is not defined, so no reader should guess. */
    f->header = json_loadb((const char *)data + 8, (size_t)n, JSON_REJECT_DUPLICATES, &error);
    if (!f->header) {
        status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                         "%s: not a valid safetensors file: its header is not valid UTF-8 JSON: %s (at byte %d of "
                         "the header)",
                         name, error.text, error.position);
        goto cleanup;
    }
    if (!json_is_object(f->header)) {
        status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                         "%s: not a valid safetensors file: its header is a JSON value but not an object", name);
        goto cleanup;
    }
    size_t keys = json_object_size(f->header);
    unsorted = calloc(keys ? keys : 1, sizeof *unsorted);
    spans = calloc(keys ? keys : 1, sizeof *spans);
    f->tensors = calloc(keys ? keys : 1, sizeof *f->tensors);
    if (!unsorted || !spans || !f->tensors) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "reading %s: %zu header entries", name, keys);
        goto cleanup;
    }
    const char *key;
    json_t *value;
    json_object_foreach(f->header, key, value) {
        if (strcmp(key, "__metadata__") == 0) {
            if (json_is_null(value)) continue; /* serde reads null as no metadata, as does the crate */
            if (!json_is_object(value)) {
                status = malformed(name, "the header's", key, "is not a JSON object of strings");
                goto cleanup;
            }
            const char *meta_key;
            json_t *meta_value;
            json_object_foreach(value, meta_key, meta_value) {
                if (!json_is_string(meta_value)) {
                    status = malformed(name, "__metadata__'s value of", meta_key, "is not a string");
                    goto cleanup;
                }
            }
            f->metadata = value;
            continue;
        }
        oclinit_tensor_info *t = &unsorted[f->count];
        t->name = key;
        OI_CHECK(parse_entry(name, key, value, t, &spans[f->count].begin, &spans[f->count].end));
        spans[f->count].order = f->count;
        f->count++;
    }
    qsort(spans, f->count, sizeof *spans, by_offset);
    uint64_t expected = 0;
    for (size_t i = 0; i < f->count; i++) {
        const span *s = &spans[i];
        if (s->begin != expected) {
            char detail[256], previous[104];
            if (s->begin < expected) {
                const char *other = unsorted[spans[i - 1].order].name;
                oi_printable(other, strlen(other), previous, sizeof previous);
                snprintf(detail, sizeof detail,
                         "overlaps tensor \"%s\" (its data starts at byte %llu, before "
                         "byte %llu where that one's ends)",
                         previous, (unsigned long long)s->begin, (unsigned long long)expected);
            } else
                snprintf(detail, sizeof detail,
                         "starts at byte %llu of the data, leaving a hole of %llu bytes "
                         "before it that is no tensor's",
                         (unsigned long long)s->begin, (unsigned long long)(s->begin - expected));
            status = malformed(name, "tensor", unsorted[s->order].name, detail);
            goto cleanup;
        }
        if (s->end > data_size) {
            char detail[160];
            snprintf(detail, sizeof detail,
                     "ends at byte %llu of the data, beyond the file's end (the data has %llu "
                     "bytes)",
                     (unsigned long long)s->end, (unsigned long long)data_size);
            status = malformed(name, "tensor", unsorted[s->order].name, detail);
            goto cleanup;
        }
        expected = s->end;
        f->tensors[i] = unsorted[s->order];
        f->tensors[i].offset = 8 + n + s->begin;
    }
    if (expected != data_size) {
        status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                         "%s: not a valid safetensors file: %llu bytes follow the last tensor's data, which no tensor "
                         "holds",
                         name, (unsigned long long)(data_size - expected));
        goto cleanup;
    }
    f->path = strdup(name);
    if (!f->path) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "reading %s", name);
        goto cleanup;
    }
    *file = f;
    f = NULL;
cleanup:
    free(unsorted);
    free(spans);
    oclinit_safetensors_free(f);
    return status;
}

oclinit_status oi_read_at(int fd, const char *path, void *buffer, size_t size, uint64_t offset) {
    for (size_t done = 0; done < size;) {
        ssize_t got = pread(fd, (char *)buffer + done, size - done, (off_t)(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            return oi_fail(OCLINIT_ERROR_IO, "reading %s: %s", path,
                           got < 0 ? strerror(errno) : "the file is shorter than when it was opened");
        done += (size_t)got;
    }
    return OCLINIT_SUCCESS;
}

oclinit_status oclinit_safetensors_open(const char *path, oclinit_safetensors_t *file) {
    OI_REQUIRE(path, "path");
    OI_REQUIRE(file, "file");
    oclinit_status status = OCLINIT_SUCCESS;
    unsigned char *head = NULL;
    struct stat st;
    *file = NULL;
    /* O_NONBLOCK: opening a FIFO would otherwise wait for a writer; regular files ignore it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return oi_fail(OCLINIT_ERROR_IO, "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s is not a regular file", path);
        goto cleanup;
    }
    uint64_t file_size = (uint64_t)st.st_size;
    unsigned char length[8];
    size_t size = 8;
    if (file_size >= 8) {
        OI_CHECK(oi_read_at(fd, path, length, 8, 0));
        uint64_t n = 0;
        for (int b = 7; b >= 0; b--) n = n << 8 | length[b];
        /* A lying length is refused by the parser from these 8 bytes, before anything is allocated for it. */
        if (n <= OI_SAFETENSORS_HEADER_MAX && n <= file_size - 8) size = 8 + (size_t)n;
    }
    head = malloc(size);
    if (!head) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "reading the header of %s (%zu bytes)", path, size);
        goto cleanup;
    }
    if (file_size >= 8) OI_CHECK(oi_read_at(fd, path, head, size, 0));
    OI_CHECK(oi_safetensors_parse(path, head, file_size >= 8 ? size : 0, file_size, file));
    (*file)->fd = fd;
    fd = -1;
cleanup:
    free(head);
    if (fd >= 0) close(fd);
    return status;
}

size_t oclinit_safetensors_get_count(oclinit_safetensors_t file) {
    OI_REQUIRE_OR(file, "file", 0);
    return file->count;
}

const oclinit_tensor_info *oclinit_safetensors_get_info(oclinit_safetensors_t file, size_t index) {
    OI_REQUIRE_OR(file, "file", NULL);
    if (index >= file->count) {
        oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: tensor %zu of %zu", __func__, index, file->count);
        return NULL;
    }
    return &file->tensors[index];
}

const char *oclinit_safetensors_get_metadata(oclinit_safetensors_t file, const char *key) {
    OI_REQUIRE_OR(file, "file", NULL);
    OI_REQUIRE_OR(key, "key", NULL);
    return file->metadata ? json_string_value(json_object_get(file->metadata, key)) : NULL;
}

oclinit_status oclinit_safetensors_read(oclinit_safetensors_t file, size_t index, uint64_t first, uint64_t count,
                                        float *out) {
    OI_REQUIRE(file, "file");
    OI_REQUIRE(out, "out");
    if (index >= file->count)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: tensor %zu of %zu", __func__, index, file->count);
    const oclinit_tensor_info *t = &file->tensors[index];
    if (first > t->elements || count > t->elements - first)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: elements %llu to %llu of tensor \"%s\", which has %llu",
                       __func__, (unsigned long long)first, (unsigned long long)(first + count), t->name,
                       (unsigned long long)t->elements);
    if (!oi_dtype_is_float(t->dtype))
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED,
                       "%s: tensor \"%s\" is %s: only F32, F16, BF16 and F64 tensors are "
                       "read as float32",
                       file->path, t->name, oclinit_dtype_str(t->dtype));
    if (file->fd < 0) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: a header without its file", file->path);
    size_t item = oclinit_dtype_size(t->dtype);
    uint64_t offset = t->offset + first * item;
    if (t->dtype == OCLINIT_DTYPE_F32) { /* straight into out: float32 is little-endian here, as in the file */
        size_t bytes;
        if (!oi_size_mul((size_t)count, sizeof(float), &bytes) || count > SIZE_MAX)
            return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "%s: %llu elements", __func__, (unsigned long long)count);
        return oi_read_at(file->fd, file->path, out, bytes, offset);
    }
    /* Other float dtypes through a fixed buffer, so reading takes no memory beyond out. */
    enum { BUFFER_BYTES = 1 << 16 };
    uint64_t buffer[BUFFER_BYTES / sizeof(uint64_t)]; /* aligned for every dtype */
    size_t per_read = BUFFER_BYTES / item;
    for (uint64_t done = 0; done < count;) {
        size_t n = count - done < per_read ? (size_t)(count - done) : per_read;
        oclinit_status status = oi_read_at(file->fd, file->path, buffer, n * item, offset + done * item);
        if (status != OCLINIT_SUCCESS) return status;
        oi_dtype_to_float(t->dtype, buffer, n, out + done);
        done += n;
    }
    return OCLINIT_SUCCESS;
}

void oclinit_safetensors_free(oclinit_safetensors_t file) {
    if (!file) return;
    if (file->fd >= 0) close(file->fd);
    free(file->tensors);
    json_decref(file->header);
    free(file->path);
    free(file);
}
