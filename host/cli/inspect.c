/* oclinit inspect: per-tensor statistics of a checkpoint (safetensors file, Hugging Face directory, .npy file),
 * and for weight matrices how their scale compares with Xavier's and He's. Reads on the host, in chunks. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "io/io.h"

/* A layer multiplies the scale of its input by about std x sqrt(fan_in); these factors off both Xavier's and He's
 * compound over depth (4 per layer is 4^10 ~ 10^6 after ten layers). */
#define EXPLODE_FACTOR 4.0
#define VANISH_FACTOR 4.0

static void usage(FILE *out) {
    fprintf(out,
            "Usage: oclinit inspect [--json] PATH\n"
            "\n"
            "Per tensor: name, dtype, shape, mean, std (population), min and max, read in chunks (memory does not\n"
            "grow with the checkpoint). PATH is\n"
            "  a .safetensors file (any writer's; its header is checked as safetensors itself checks it; its\n"
            "    __metadata__ is printed, one line per key),\n"
            "  a Hugging Face checkpoint directory: model.safetensors, or else model.safetensors.index.json and the\n"
            "    shards it names, in file order (every file must exist and hold every tensor the index places in it,\n"
            "    and no other); transformers' from_pretrained makes the same choice,\n"
            "  a model.safetensors.index.json file: its directory's shards, as above,\n"
            "  or a .npy file (any rank, float16/32/64 or integer, either byte order).\n"
            "Files are told apart by their content, not their name. Statistics are computed in double precision\n"
            "from the stored values (F64 exactly). Integer and boolean tensors are listed without statistics; NaN\n"
            "and infinite values are counted and left out of them.\n"
            "\n"
            "Weight matrices (rank >= 2, a float dtype, and no part of the name between dots containing \"embed\"\n"
            "or \"norm\", nor being \"wte\" or \"wpe\": embedding tables are looked up, not multiplied) also get\n"
            "  gain = std x sqrt(fan_in): about how much the layer scales its input's standard deviation,\n"
            "  beside what Xavier (sqrt(2 fan_in / (fan_in + fan_out))) and He (sqrt(2)) would give. Fans are\n"
            "  PyTorch's: fan_in = shape[1] x receptive field, fan_out = shape[0] x receptive field (GPT-2's Conv1D\n"
            "  stores (in, out): its fans come out swapped). Verdicts:\n"
            "    likely to explode  gain more than %g x the larger of Xavier's and He's\n"
            "    likely to vanish   gain less than 1/%g of the smaller\n"
            "    constant           std 0: every unit computes the same, and training cannot tell them apart\n"
            "  A factor of %g per layer compounds to about 10^6 over ten layers. LLM-style normal(0, 0.02) with\n"
            "  fan_in 1024 to 32768 gives 0.64 to 3.6 (not flagged); the article's N(0,1) x 0.01 and x 10 are.\n"
            "\n"
            "Options:\n"
            "  --json        a JSON array, one object per tensor (file, name, dtype, shape, count, nonfinite, mean,\n"
            "                std, min, max, for safetensors metadata (the file's __metadata__ object), and for\n"
            "                weight matrices fan_in, fan_out, gain, xavier, he, verdict)\n"
            "  -h, --help    this text\n"
            "\n"
            "Exit status: 0 read, 1 a read failed, 2 bad input (usage, a missing or malformed file or index).\n",
            EXPLODE_FACTOR, VANISH_FACTOR, EXPLODE_FACTOR);
}

/* One tensor to read: its bytes at offset in fd (a .npy file's or a safetensors file's), little-endian unless swap. */
typedef struct tensor {
    const char *file, *name;
    oclinit_dtype dtype;
    int rank;
    int64_t dims[OCLINIT_MAX_RANK];
    uint64_t elements;
    int fd;
    uint64_t offset;
    bool swap;
    json_t *metadata; /* the safetensors file's __metadata__ object; NULL for .npy */
} tensor;

typedef struct inspector {
    bool json;
    json_t *rows;      /* --json */
    double *buffer;    /* CHUNK values */
    size_t name_width; /* text */
} inspector;

enum { CHUNK = 1 << 20 };

/* Elements [first, first + count) of a float tensor as doubles: F64 as stored, the narrower dtypes exactly. */
static oclinit_status read_values(const tensor *t, uint64_t first, size_t count, double *out) {
    uint64_t raw[8192]; /* aligned for every dtype */
    float narrow[OI_COUNT(raw)];
    size_t item = oclinit_dtype_size(t->dtype), per = sizeof raw / item;
    if (per > OI_COUNT(narrow)) per = OI_COUNT(narrow);
    for (size_t done = 0; done < count;) {
        size_t n = count - done < per ? count - done : per, bytes = n * item;
        unsigned char *bytes_of = (unsigned char *)raw;
        oclinit_status status = oi_read_at(t->fd, t->file, raw, bytes, t->offset + (first + done) * item);
        if (status != OCLINIT_SUCCESS) return status;
        for (size_t i = 0; t->swap && i < n; i++) /* big-endian values */
            for (size_t b = 0; b < item / 2; b++) {
                unsigned char c = bytes_of[i * item + b];
                bytes_of[i * item + b] = bytes_of[i * item + item - 1 - b];
                bytes_of[i * item + item - 1 - b] = c;
            }
        if (t->dtype == OCLINIT_DTYPE_F64) { /* little-endian now, as the host is */
            memcpy(out + done, raw, bytes);
        } else {
            status = oi_dtype_to_float(t->dtype, raw, n, narrow);
            if (status != OCLINIT_SUCCESS) return status;
            for (size_t i = 0; i < n; i++) out[done + i] = narrow[i];
        }
        done += n;
    }
    return OCLINIT_SUCCESS;
}

/* Mean and the sum of squared deviations of finite values seen in chunks (Chan et al.'s merge), kept in units of
 * 2^scale, the power of two of the largest magnitude so far: F64's 1e300 squared overflows a double and 1e-300
 * squared underflows it, while the scaled values lie in (-1, 1). */
typedef struct moments {
    uint64_t count;
    int scale;
    double mean, m2, min, max, largest;
} moments;

static void moments_add(moments *m, const double *x, size_t n) {
    if (!n) return;
    if (!m->count) m->min = INFINITY, m->max = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < m->min) m->min = x[i];
        if (x[i] > m->max) m->max = x[i];
    }
    m->largest = fmax(m->largest, fmax(fabs(m->min), fabs(m->max)));
    int scale = 0;
    frexp(m->largest, &scale);
    /* The scale only grows, or leaves 0 while every value so far was zero: rescaling loses nothing that matters. */
    m->mean = ldexp(m->mean, m->scale - scale);
    m->m2 = ldexp(m->m2, 2 * (m->scale - scale));
    m->scale = scale;
    double sum = 0, m2 = 0;
    for (size_t i = 0; i < n; i++) sum += ldexp(x[i], -scale);
    double mean = sum / (double)n;
    for (size_t i = 0; i < n; i++) {
        double d = ldexp(x[i], -scale) - mean;
        m2 += d * d;
    }
    double total = (double)m->count + (double)n, delta = mean - m->mean;
    m->m2 += m2 + delta * delta * (double)m->count * (double)n / total;
    m->mean += delta * (double)n / total;
    m->count += n;
}

/* A weight matrix by the rule in usage(). */
static bool is_weight_matrix(const tensor *t) {
    if (t->rank < 2 || !oi_dtype_is_float(t->dtype)) return false;
    for (const char *part = t->name; part;) {
        const char *dot = strchr(part, '.');
        size_t length = dot ? (size_t)(dot - part) : strlen(part);
        char word[256];
        size_t n = length < sizeof word - 1 ? length : sizeof word - 1;
        for (size_t i = 0; i < n; i++) word[i] = (char)(part[i] >= 'A' && part[i] <= 'Z' ? part[i] + 32 : part[i]);
        word[n] = '\0';
        if (strstr(word, "embed") || strstr(word, "norm") || strcmp(word, "wte") == 0 || strcmp(word, "wpe") == 0)
            return false;
        part = dot ? dot + 1 : NULL;
    }
    return true;
}

static json_t *number(double x) {
    return isfinite(x) ? json_real(x) : json_null();
}

static void format_shape(const tensor *t, char *text, size_t size) {
    size_t used = (size_t)snprintf(text, size, "(");
    for (int d = 0; d < t->rank && used < size; d++)
        used += (size_t)snprintf(text + used, size - used, "%s%lld", d ? ", " : "", (long long)t->dims[d]);
    if (used < size) snprintf(text + used, size - used, "%s)", t->rank == 1 ? "," : "");
}

static oclinit_status inspect_tensor(inspector *in, const tensor *t) {
    moments running = {0};
    uint64_t nonfinite = 0;
    bool has_stats = oi_dtype_is_float(t->dtype);
    for (uint64_t first = 0; has_stats && first < t->elements;) {
        size_t n = t->elements - first < CHUNK ? (size_t)(t->elements - first) : CHUNK, kept = 0;
        oclinit_status status = read_values(t, first, n, in->buffer);
        if (status != OCLINIT_SUCCESS) return status;
        for (size_t i = 0; i < n; i++) { /* finite values only, moved to the front */
            double x = in->buffer[i];
            if (isfinite(x))
                in->buffer[kept++] = x;
            else
                nonfinite++;
        }
        moments_add(&running, in->buffer, kept);
        first += n;
    }
    oclinit_stats stats = {running.count, NAN, NAN, NAN, NAN};
    if (running.count) {
        stats.mean = ldexp(running.mean, running.scale);
        stats.std = ldexp(sqrt(running.m2 / (double)running.count), running.scale);
        stats.min = running.min;
        stats.max = running.max;
    }
    bool weight = is_weight_matrix(t) && running.count;
    int64_t fan_in = 0, fan_out = 0;
    double gain = NAN, xavier = NAN, he = sqrt(2.0);
    const char *verdict = "";
    if (weight) {
        oclinit_shape shape = {.rank = t->rank};
        memcpy(shape.dims, t->dims, sizeof shape.dims);
        weight = oclinit_shape_get_fans(&shape, OCLINIT_CONVENTION_PYTORCH, &fan_in, &fan_out) == OCLINIT_SUCCESS &&
                 fan_in > 0 && fan_out > 0;
    }
    if (weight) {
        gain = stats.std * sqrt((double)fan_in);
        xavier = sqrt(2.0 * (double)fan_in / (double)(fan_in + fan_out));
        verdict = stats.std == 0                             ? "constant"
                  : gain > EXPLODE_FACTOR * fmax(xavier, he) ? "likely to explode"
                  : gain < fmin(xavier, he) / VANISH_FACTOR  ? "likely to vanish"
                                                             : "ok";
    }
    char shape_text[160];
    format_shape(t, shape_text, sizeof shape_text);
    if (in->json) {
        json_t *dims = json_array();
        for (int d = 0; d < t->rank; d++) json_array_append_new(dims, json_integer(t->dims[d]));
        json_t *row = json_pack("{s:s, s:s, s:s, s:o, s:I}", "file", t->file, "name", t->name, "dtype",
                                oclinit_dtype_str(t->dtype), "shape", dims, "count", (json_int_t)t->elements);
        if (!row) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "the JSON output");
        if (has_stats) {
            json_object_set_new(row, "nonfinite", json_integer((json_int_t)nonfinite));
            json_object_set_new(row, "mean", number(stats.mean));
            json_object_set_new(row, "std", number(stats.std));
            json_object_set_new(row, "min", number(stats.min));
            json_object_set_new(row, "max", number(stats.max));
        }
        if (t->metadata) json_object_set(row, "metadata", t->metadata);
        if (weight) {
            json_object_set_new(row, "fan_in", json_integer(fan_in));
            json_object_set_new(row, "fan_out", json_integer(fan_out));
            json_object_set_new(row, "gain", number(gain));
            json_object_set_new(row, "xavier", number(xavier));
            json_object_set_new(row, "he", number(he));
            json_object_set_new(row, "verdict", json_string(verdict));
        }
        json_array_append_new(in->rows, row);
        return OCLINIT_SUCCESS;
    }
    char name[256]; /* a file's names may hold control bytes: never sent to the terminal as they are */
    oi_printable(t->name, strlen(t->name), name, sizeof name);
    printf("%-*s %-7s %-20s", (int)in->name_width, name, oclinit_dtype_str(t->dtype), shape_text);
    if (has_stats && running.count)
        printf(" %11.4g %11.4g %11.4g %11.4g", stats.mean, stats.std, stats.min, stats.max);
    else if (has_stats)
        printf(" %11s %11s %11s %11s", "-", "-", "-", "-");
    if (weight) printf("  %7.3f %7.3f %7.3f  %s", gain, xavier, he, verdict);
    if (nonfinite) printf("  (%llu NaN or infinite)", (unsigned long long)nonfinite);
    printf("\n");
    return OCLINIT_SUCCESS;
}

static void print_columns(const inspector *in) {
    if (in->json) return;
    printf("%-*s %-7s %-20s %11s %11s %11s %11s  %7s %7s %7s  %s\n", (int)in->name_width, "name", "dtype", "shape",
           "mean", "std", "min", "max", "gain", "xavier", "he", "verdict");
}

/* ---- .npy ---- */

/* The value of 'key': in a .npy header dict (numpy writes exactly descr, fortran_order and shape). */
static const char *npy_value(const char *header, const char *key) {
    char quoted[32];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    const char *p = strstr(header, quoted);
    if (!p) return NULL;
    p += strlen(quoted);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    for (p++; *p == ' ';) p++;
    return p;
}

static int inspect_npy(inspector *in, const char *path) {
    tensor t = {.file = path, .name = path, .fd = -1};
    char header[65536 + 16];
    int exit_code = EXIT_USAGE;
    t.fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (t.fd < 0 || fstat(t.fd, &st) != 0) {
        fprintf(stderr, "oclinit inspect: error: cannot open %s: %s\n", path, strerror(errno));
        exit_code = EXIT_FAILURE;
        goto cleanup;
    }
    ssize_t got = pread(t.fd, header, sizeof header - 1, 0);
    if (got < 10) goto malformed;
    header[got] = '\0';
    unsigned major = (unsigned char)header[6];
    size_t preamble = major == 1 ? 10 : 12;
    if (major < 1 || major > 3 || (size_t)got < preamble) goto malformed;
    size_t length = (size_t)(unsigned char)header[8] | (size_t)(unsigned char)header[9] << 8;
    if (major > 1) length |= (size_t)(unsigned char)header[10] << 16 | (size_t)(unsigned char)header[11] << 24;
    if (preamble + length > (size_t)got) goto malformed;
    header[preamble + length] = '\0';
    memmove(header, header + preamble, length + 1);
    const char *descr = npy_value(header, "descr"), *fortran = npy_value(header, "fortran_order"),
               *shape = npy_value(header, "shape");
    if (!descr || !fortran || !shape || *shape != '(') goto malformed;
    if (*descr == '[') { /* numpy writes a structured dtype's descr as a list of fields */
        fprintf(stderr,
                "oclinit inspect: error: %s: the .npy dtype is structured (a record of fields), which oclinit does not "
                "read: only plain float, integer and bool arrays\n",
                path);
        goto cleanup;
    }
    const char *end_quote = *descr == '\'' || *descr == '"' ? strchr(descr + 1, *descr) : NULL;
    if (!end_quote) goto malformed;
    static const struct {
        const char *code;
        oclinit_dtype dtype;
    } codes[] = {{"f2", OCLINIT_DTYPE_F16}, {"f4", OCLINIT_DTYPE_F32}, {"f8", OCLINIT_DTYPE_F64},
                 {"i1", OCLINIT_DTYPE_I8},  {"i2", OCLINIT_DTYPE_I16}, {"i4", OCLINIT_DTYPE_I32},
                 {"i8", OCLINIT_DTYPE_I64}, {"u1", OCLINIT_DTYPE_U8},  {"u2", OCLINIT_DTYPE_U16},
                 {"u4", OCLINIT_DTYPE_U32}, {"u8", OCLINIT_DTYPE_U64}, {"b1", OCLINIT_DTYPE_BOOL}};
    char order = descr[1];
    size_t c = 0;
    for (; c < OI_COUNT(codes); c++)
        if (end_quote - descr == 4 && strncmp(descr + 2, codes[c].code, 2) == 0) break;
    if (c == OI_COUNT(codes) || !strchr("<>|=", order)) {
        char printable[64];
        oi_printable(descr + 1, (size_t)(end_quote - descr - 1), printable, sizeof printable);
        fprintf(stderr,
                "oclinit inspect: error: %s: the .npy dtype '%s' is not one oclinit reads: only float16, float32, "
                "float64, integers and bool\n",
                path, printable);
        goto cleanup;
    }
    t.dtype = codes[c].dtype;
    t.swap = order == '>' && oclinit_dtype_size(t.dtype) > 1;
    t.elements = 1;
    const char *p = shape + 1;
    for (;;) {
        while (*p == ' ') p++;
        if (*p == ')') break;
        char *end;
        errno = 0;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || errno || t.rank == OCLINIT_MAX_RANK) goto malformed;
        if (d && t.elements > (UINT64_MAX >> 4) / (uint64_t)d) goto malformed;
        t.dims[t.rank++] = d;
        t.elements *= (uint64_t)d;
        for (p = end; *p == ' ';) p++;
        if (*p == ',')
            p++;
        else if (*p != ')')
            goto malformed;
    }
    t.offset = preamble + length;
    if ((uint64_t)st.st_size < t.offset ||
        ((uint64_t)st.st_size - t.offset) / oclinit_dtype_size(t.dtype) < t.elements) {
        fprintf(stderr, "oclinit inspect: error: %s: the .npy data is shorter than its shape says\n", path);
        goto cleanup;
    }
    in->name_width = strlen(path);
    if (!in->json) printf("%s: .npy, 1 tensor, %llu values\n", path, (unsigned long long)t.elements);
    print_columns(in);
    oclinit_status status = inspect_tensor(in, &t);
    if (status != OCLINIT_SUCCESS) {
        report_failure("inspect", status);
        exit_code = status == OCLINIT_ERROR_IO ? EXIT_FAILURE : EXIT_USAGE;
        goto cleanup;
    }
    exit_code = 0;
    goto cleanup;
malformed:
    fprintf(stderr, "oclinit inspect: error: %s: not a valid .npy file (its header is malformed or truncated)\n", path);
cleanup:
    if (t.fd >= 0) close(t.fd);
    return exit_code;
}

/* ---- safetensors and Hugging Face directories ---- */

static int open_failure(oclinit_status status) {
    report_failure("inspect", status);
    return status == OCLINIT_ERROR_IO || status == OCLINIT_ERROR_OUT_OF_HOST_MEMORY ? EXIT_FAILURE : EXIT_USAGE;
}

/* A safetensors file, its own descriptor for reading the data as stored, and its "__metadata__" (an object, empty
 * when there is none). */
typedef struct checkpoint_file {
    char *path;
    oclinit_safetensors_t file;
    int fd;
    json_t *metadata;
} checkpoint_file;

/* Opens c->path. oclinit_safetensors_open checks the header; it is parsed again here for "__metadata__", whose keys
 * the library gives by name only. */
static oclinit_status checkpoint_open(checkpoint_file *c) {
    oclinit_status status = OCLINIT_SUCCESS;
    char *header = NULL;
    json_t *root = NULL;
    OI_CHECK(oclinit_safetensors_open(c->path, &c->file));
    c->fd = open(c->path, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0) {
        status = oi_fail(OCLINIT_ERROR_IO, "cannot open %s: %s", c->path, strerror(errno));
        goto cleanup;
    }
    unsigned char length[8];
    OI_CHECK(oi_read_at(c->fd, c->path, length, sizeof length, 0));
    size_t n = 0;
    for (int b = 7; b >= 0; b--) n = n << 8 | length[b];
    header = malloc(n ? n : 1); /* n is at most 100 MB: the open above checked it */
    if (!header) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "reading the header of %s", c->path);
        goto cleanup;
    }
    OI_CHECK(oi_read_at(c->fd, c->path, header, n, 8));
    root = json_loadb(header, n, 0, NULL);
    json_t *metadata = json_object_get(root, "__metadata__");
    c->metadata = json_is_object(metadata) ? json_incref(metadata) : json_object();
    if (!root || !c->metadata)
        status = oi_fail(OCLINIT_ERROR_IO, "%s changed while it was read (its header no longer parses)", c->path);
cleanup:
    free(header);
    json_decref(root);
    return status;
}

static void checkpoint_close(checkpoint_file *c) {
    oclinit_safetensors_free(c->file);
    if (c->fd >= 0) close(c->fd);
    json_decref(c->metadata);
    free(c->path);
}

static void print_metadata(const json_t *metadata) {
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)metadata, key, value) {
        char key_text[64], value_text[104]; /* long values are cut, with "..." */
        oi_printable(key, strlen(key), key_text, sizeof key_text);
        oi_printable(json_string_value(value), json_string_length(value), value_text, sizeof value_text);
        printf("metadata %s: %s\n", key_text, value_text);
    }
}

static int inspect_files(inspector *in, const checkpoint_file *files, size_t count) {
    size_t tensors = 0;
    uint64_t parameters = 0;
    for (size_t f = 0; f < count; f++)
        for (size_t i = 0; i < oclinit_safetensors_get_count(files[f].file); i++) {
            const oclinit_tensor_info *info = oclinit_safetensors_get_info(files[f].file, i);
            size_t width = strlen(info->name);
            if (width > in->name_width) in->name_width = width < 60 ? width : 60;
            parameters += info->elements;
            tensors++;
        }
    if (!in->json)
        printf("%zu file%s, %zu tensor%s, %llu values\n", count, count == 1 ? "" : "s", tensors,
               tensors == 1 ? "" : "s", (unsigned long long)parameters);
    for (size_t f = 0; f < count; f++) {
        if (!in->json) {
            printf("\n%s\n", files[f].path);
            print_metadata(files[f].metadata);
        }
        print_columns(in);
        for (size_t i = 0; i < oclinit_safetensors_get_count(files[f].file); i++) {
            const oclinit_tensor_info *info = oclinit_safetensors_get_info(files[f].file, i);
            tensor t = {.file = files[f].path,
                        .name = info->name,
                        .dtype = info->dtype,
                        .rank = info->rank,
                        .elements = info->elements,
                        .fd = files[f].fd,
                        .offset = info->offset,
                        .metadata = files[f].metadata};
            memcpy(t.dims, info->dims, sizeof t.dims);
            oclinit_status status = inspect_tensor(in, &t);
            if (status != OCLINIT_SUCCESS) return open_failure(status);
        }
    }
    return 0;
}

static char *join(const char *directory, const char *name) {
    size_t size = strlen(directory) + strlen(name) + 2;
    char *path = malloc(size);
    if (path) snprintf(path, size, "%s/%s", directory, name);
    return path;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* model.safetensors.index.json: {"metadata": {...}, "weight_map": {tensor: shard file}}. */
static int inspect_index(inspector *in, const char *directory, const char *index_path) {
    int exit_code = EXIT_USAGE;
    json_error_t error;
    json_t *index = json_load_file(index_path, JSON_REJECT_DUPLICATES, &error);
    const char **shards = NULL;
    checkpoint_file *files = NULL;
    size_t count = 0, opened = 0;
    if (!index) {
        fprintf(stderr, "oclinit inspect: error: %s: %s (line %d)\n", index_path, error.text, error.line);
        return EXIT_USAGE;
    }
    json_t *map = json_object_get(index, "weight_map");
    if (!json_is_object(map) || json_object_size(map) == 0) {
        fprintf(stderr, "oclinit inspect: error: %s has no \"weight_map\" object of tensor names to files\n",
                index_path);
        goto cleanup;
    }
    size_t entries = json_object_size(map);
    shards = calloc(entries, sizeof *shards);
    files = calloc(entries, sizeof *files);
    if (!shards || !files) {
        fprintf(stderr, "oclinit inspect: error: out of host memory\n");
        exit_code = EXIT_FAILURE;
        goto cleanup;
    }
    const char *name;
    json_t *value;
    json_object_foreach(map, name, value) {
        const char *shard = json_string_value(value);
        if (!shard || !*shard || strchr(shard, '/') || strcmp(shard, "..") == 0 || strcmp(shard, ".") == 0) {
            fprintf(stderr, "oclinit inspect: error: %s: weight_map[\"%s\"] is not a file name in the directory\n",
                    index_path, name);
            goto cleanup;
        }
        size_t f = 0;
        while (f < count && strcmp(shards[f], shard) != 0) f++;
        if (f == count) shards[count++] = shard;
    }
    /* In file order (model-00001-... first), as transformers loads them: sorted(set(weight_map.values())). */
    qsort(shards, count, sizeof *shards, by_name);
    for (; opened < count; opened++) {
        checkpoint_file *c = &files[opened];
        c->fd = -1;
        c->path = join(directory, shards[opened]);
        if (!c->path) {
            fprintf(stderr, "oclinit inspect: error: out of host memory\n");
            exit_code = EXIT_FAILURE;
            opened++;
            goto cleanup;
        }
        oclinit_status status = checkpoint_open(c);
        if (status != OCLINIT_SUCCESS) {
            exit_code = open_failure(status);
            if (status == OCLINIT_ERROR_IO) exit_code = access(c->path, F_OK) != 0 ? EXIT_USAGE : EXIT_FAILURE;
            opened++;
            goto cleanup;
        }
    }
    /* Every tensor where the index says, and no tensor the index does not name. */
    uint64_t total = 0;
    for (size_t f = 0; f < count; f++) {
        for (size_t i = 0; i < oclinit_safetensors_get_count(files[f].file); i++) {
            const oclinit_tensor_info *info = oclinit_safetensors_get_info(files[f].file, i);
            const char *listed = json_string_value(json_object_get(map, info->name));
            total += info->bytes;
            if (!listed || strcmp(listed, shards[f]) != 0) {
                fprintf(stderr, "oclinit inspect: error: %s holds tensor \"%s\", which %s names %s%s\n", files[f].path,
                        info->name, index_path, listed ? "in " : "nowhere", listed ? listed : "");
                goto cleanup;
            }
        }
    }
    json_object_foreach(map, name, value) {
        size_t f = 0;
        while (strcmp(shards[f], json_string_value(value)) != 0) f++;
        bool found = false;
        for (size_t i = 0; i < oclinit_safetensors_get_count(files[f].file) && !found; i++)
            found = strcmp(oclinit_safetensors_get_info(files[f].file, i)->name, name) == 0;
        if (!found) {
            fprintf(stderr, "oclinit inspect: error: %s places tensor \"%s\" in %s, which does not hold it\n",
                    index_path, name, files[f].path);
            goto cleanup;
        }
    }
    json_t *size = json_object_get(json_object_get(index, "metadata"), "total_size");
    if (json_is_integer(size) && (uint64_t)json_integer_value(size) != total)
        fprintf(stderr, "oclinit inspect: warning: %s gives total_size %lld, but the tensors hold %llu bytes\n",
                index_path, (long long)json_integer_value(size), (unsigned long long)total);
    exit_code = inspect_files(in, files, count);
cleanup:
    for (size_t f = opened; f-- > 0;) checkpoint_close(&files[f]);
    free(files);
    free(shards);
    json_decref(index);
    return exit_code;
}

static int inspect_safetensors(inspector *in, const char *path) {
    checkpoint_file c = {.path = strdup(path), .fd = -1};
    if (!c.path) {
        fprintf(stderr, "oclinit inspect: error: out of host memory\n");
        return EXIT_FAILURE;
    }
    oclinit_status status = checkpoint_open(&c);
    int exit_code = status == OCLINIT_SUCCESS ? inspect_files(in, &c, 1) : open_failure(status);
    checkpoint_close(&c);
    return exit_code;
}

static int inspect_directory(inspector *in, const char *path) {
    char *index = join(path, "model.safetensors.index.json"), *single = join(path, "model.safetensors");
    int exit_code = EXIT_FAILURE;
    if (!index || !single)
        fprintf(stderr, "oclinit inspect: error: out of host memory\n");
    else if (access(single, F_OK) == 0) {
        if (access(index, F_OK) == 0)
            fprintf(stderr,
                    "oclinit inspect: warning: %s holds both model.safetensors and model.safetensors.index.json: "
                    "inspecting model.safetensors, which transformers' from_pretrained loads (pass the index file "
                    "to inspect the shards)\n",
                    path);
        exit_code = inspect_safetensors(in, single);
    } else if (access(index, F_OK) == 0)
        exit_code = inspect_index(in, path, index);
    else {
        fprintf(stderr, "oclinit inspect: error: %s holds neither model.safetensors nor model.safetensors.index.json\n",
                path);
        exit_code = EXIT_USAGE;
    }
    free(index);
    free(single);
    return exit_code;
}

/* The index JSON named by path, read with the shards of its directory. */
static int inspect_index_file(inspector *in, const char *path) {
    char directory[PATH_MAX];
    oi_path_split(path, directory, sizeof directory);
    return inspect_index(in, directory, path);
}

/* Which reader a file gets is decided by its first bytes; the name only words the message when none fits. */
static int inspect_path(inspector *in, const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "oclinit inspect: error: %s: %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    if (S_ISDIR(st.st_mode)) return inspect_directory(in, path);
    if (!S_ISREG(st.st_mode)) { /* a FIFO or a device would block or never end */
        fprintf(stderr, "oclinit inspect: error: %s is not a regular file, a directory or a checkpoint's directory\n",
                path);
        return EXIT_USAGE;
    }
    unsigned char head[8] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(head, 1, sizeof head, f) : 0;
    if (f) fclose(f);
    if (got >= 6 && memcmp(head, "\x93NUMPY", 6) == 0) return inspect_npy(in, path);
    uint64_t length = 0;
    for (int b = 7; b >= 0; b--) length = length << 8 | head[b];
    /* A safetensors file starts with its header's length, which text (an index's JSON) gives as absurdly large. */
    if (got == sizeof head && length <= (uint64_t)st.st_size - 8) return inspect_safetensors(in, path);
    size_t first = 0;
    while (first < got && (head[first] == ' ' || head[first] == '\t' || head[first] == '\r' || head[first] == '\n'))
        first++;
    if (first < got && head[first] == '{') return inspect_index_file(in, path);
    if (oi_name_ends_with(path, ".npy")) {
        fprintf(stderr, "oclinit inspect: error: %s: not a .npy file (it does not start with \\x93NUMPY)\n", path);
        return EXIT_USAGE;
    }
    return inspect_safetensors(in, path); /* its reader says what is wrong */
}

int command_inspect(int argc, char **argv) {
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    inspector in = {.name_width = 4};
    /* PATH is the one argument that is not an option: taken out before the options are parsed. */
    const char *path = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int rest_count = 0;
    if (!rest) return EXIT_FAILURE;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && !path && argv[i][0] != '-')
            path = argv[i];
        else
            rest[rest_count++] = argv[i];
    }
    options_reset();
    for (int id; (id = next_option("inspect", rest_count, rest, options)) != -1;) {
        if (id == 'h') {
            free(rest);
            usage(stdout);
            return 0;
        }
        if (id == 'j') {
            in.json = true;
            continue;
        }
        free(rest);
        return EXIT_USAGE;
    }
    free(rest);
    if (!path) {
        fprintf(stderr, "oclinit inspect: give a PATH: a .safetensors or .npy file, or a checkpoint directory (see "
                        "oclinit inspect --help)\n");
        return EXIT_USAGE;
    }
    in.buffer = malloc(CHUNK * sizeof(float));
    in.rows = json_array();
    if (!in.buffer || !in.rows) {
        fprintf(stderr, "oclinit inspect: error: out of host memory\n");
        free(in.buffer);
        json_decref(in.rows);
        return EXIT_FAILURE;
    }
    int exit_code = inspect_path(&in, path);
    if (exit_code == 0 && in.json) {
        if (json_dumpf(in.rows, stdout, JSON_INDENT(1)) != 0 || printf("\n") < 0) exit_code = EXIT_FAILURE;
    }
    if (fflush(stdout) != 0) exit_code = EXIT_FAILURE;
    free(in.buffer);
    json_decref(in.rows);
    return exit_code;
}
