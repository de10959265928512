/* safetensors (host/io/safetensors.c) and the 16-bit conversions (host/io/dtype.c, kernels/dtype.h): the writer's
 * header, reading it back, every refusal of the reader, float32 -> float16 / bfloat16 rounding against independent
 * references, and the device's rounding against the host's.
 * With `--write-conversions FILE` it writes inputs and their conversions to FILE for tests/inspect_test.py, which
 * compares them with numpy and ml_dtypes. */
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "helpers.h"

static char directory[] = "/tmp/oclinit-safetensors-XXXXXX";

static int make_directory(void **state) {
    (void)state;
    return mkdtemp(directory) ? 0 : -1;
}

static int remove_directory(void **state) {
    (void)state;
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", directory);
    return system(command) == 0 ? 0 : -1;
}

static void write_bytes(const char *path, const void *a, size_t a_size, const void *b, size_t b_size) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(a, 1, a_size, f), a_size);
    if (b_size) assert_int_equal(fwrite(b, 1, b_size, f), b_size);
    assert_int_equal(fclose(f), 0);
}

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- The writer ---- */

static void header_is_aligned_contiguous_and_has_metadata(void **state) {
    (void)state;
    const int64_t w[2] = {3, 5}, b[1] = {3};
    const oi_safetensors_entry entries[] = {{"layer.weight", OCLINIT_DTYPE_BF16, 2, w},
                                            {"layer.bias", OCLINIT_DTYPE_F32, 1, b},
                                            {"step", OCLINIT_DTYPE_I64, 0, NULL}};
    const char *metadata[] = {"format", "pt", "seed", "7"};
    char *header;
    size_t size;
    assert_ok(oi_safetensors_header(entries, 3, metadata, 2, &header, &size));
    assert_int_equal(size % 8, 0);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | (unsigned char)header[i];
    assert_int_equal(n, size - 8);
    const char *expected = "{\"__metadata__\":{\"format\":\"pt\",\"seed\":\"7\"},"
                           "\"layer.weight\":{\"dtype\":\"BF16\",\"shape\":[3,5],\"data_offsets\":[0,30]},"
                           "\"layer.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[30,42]},"
                           "\"step\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[42,50]}}";
    assert_memory_equal(header + 8, expected, strlen(expected));
    for (size_t i = 8 + strlen(expected); i < size; i++) assert_int_equal(header[i], ' ');

    /* Read back from a file with the data after it. */
    char path[256];
    snprintf(path, sizeof path, "%s/written.safetensors", directory);
    unsigned char data[50];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)i;
    uint16_t weight[15];
    float weight_f32[15], bias[3] = {1.5f, -2, 1e-3f};
    for (int i = 0; i < 15; i++) weight_f32[i] = (float)i * 0.25f - 1;
    oi_float_to_bf16(weight_f32, weight, 15);
    memcpy(data, weight, 30);
    memcpy(data + 30, bias, 12);
    write_bytes(path, header, size, data, sizeof data);
    free(header);

    oclinit_safetensors_t file;
    assert_ok(oclinit_safetensors_open(path, &file));
    assert_int_equal(oclinit_safetensors_get_count(file), 3);
    assert_string_equal(oclinit_safetensors_get_metadata(file, "format"), "pt");
    assert_string_equal(oclinit_safetensors_get_metadata(file, "seed"), "7");
    assert_null(oclinit_safetensors_get_metadata(file, "absent"));
    const oclinit_tensor_info *t = oclinit_safetensors_get_info(file, 0);
    assert_string_equal(t->name, "layer.weight");
    assert_int_equal(t->dtype, OCLINIT_DTYPE_BF16);
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->dims[0], 3);
    assert_int_equal(t->dims[1], 5);
    assert_int_equal(t->elements, 15);
    assert_int_equal(t->offset, size);
    assert_int_equal(t->bytes, 30);
    float out[15];
    assert_ok(oclinit_safetensors_read(file, 0, 0, 15, out));
    assert_memory_equal(out, weight_f32, sizeof out); /* multiples of 1/4 are exact in bf16 */
    assert_ok(oclinit_safetensors_read(file, 1, 1, 2, out));
    assert_true(out[0] == -2 && out[1] == 1e-3f);
    t = oclinit_safetensors_get_info(file, 2);
    assert_int_equal(t->rank, 0);
    assert_int_equal(t->elements, 1);
    assert_int_equal(oclinit_safetensors_read(file, 2, 0, 1, out), OCLINIT_ERROR_NOT_SUPPORTED);
    assert_int_equal(oclinit_safetensors_read(file, 1, 2, 2, out), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_null(oclinit_safetensors_get_info(file, 3));
    oclinit_safetensors_free(file);

    /* No tensors, no metadata: "{}" and six spaces, as safetensors writes it. */
    assert_ok(oi_safetensors_header(NULL, 0, NULL, 0, &header, &size));
    assert_int_equal(size, 16);
    assert_memory_equal(header, "\x08\0\0\0\0\0\0\0{}      ", 16);
    free(header);
}

static void writer_refuses_what_no_reader_could_take(void **state) {
    (void)state;
    const int64_t negative[1] = {-1}, huge[2] = {INT64_MAX, 4};
    char *header;
    size_t size;
    const oi_safetensors_entry twice[] = {{"a", OCLINIT_DTYPE_F32, 0, NULL}, {"a", OCLINIT_DTYPE_F32, 0, NULL}};
    assert_int_equal(oi_safetensors_header(twice, 2, NULL, 0, &header, &size), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "given twice"));
    const oi_safetensors_entry reserved[] = {{"__metadata__", OCLINIT_DTYPE_F32, 0, NULL}};
    assert_int_equal(oi_safetensors_header(reserved, 1, NULL, 0, &header, &size), OCLINIT_ERROR_INVALID_ARGUMENT);
    const oi_safetensors_entry bad_dim[] = {{"a", OCLINIT_DTYPE_F32, 1, negative}};
    assert_int_equal(oi_safetensors_header(bad_dim, 1, NULL, 0, &header, &size), OCLINIT_ERROR_INVALID_ARGUMENT);
    const oi_safetensors_entry too_big[] = {{"a", OCLINIT_DTYPE_F32, 2, huge}};
    assert_int_equal(oi_safetensors_header(too_big, 1, NULL, 0, &header, &size), OCLINIT_ERROR_SIZE_OVERFLOW);
    const oi_safetensors_entry not_utf8[] = {{"\xff", OCLINIT_DTYPE_F32, 0, NULL}};
    assert_int_equal(oi_safetensors_header(not_utf8, 1, NULL, 0, &header, &size), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "UTF-8"));
    const char *metadata[] = {"k", "\xc3"};
    assert_int_equal(oi_safetensors_header(NULL, 0, metadata, 1, &header, &size), OCLINIT_ERROR_INVALID_ARGUMENT);
}

/* ---- The reader's refusals ---- */

/* A file of the 8-byte length of json (or length when not 0), json, and data_size zero bytes. */
static oclinit_status open_made(const char *json, uint64_t length, size_t data_size, oclinit_safetensors_t *file) {
    char path[256];
    snprintf(path, sizeof path, "%s/made.safetensors", directory);
    size_t n = strlen(json);
    unsigned char *bytes = calloc(8 + n + data_size, 1);
    uint64_t written = length ? length : n;
    for (int b = 0; b < 8; b++) bytes[b] = (unsigned char)(written >> (8 * b));
    memcpy(bytes + 8, json, n);
    write_bytes(path, bytes, 8 + n + data_size, NULL, 0);
    free(bytes);
    return oclinit_safetensors_open(path, file);
}

static void refused(const char *json, uint64_t length, size_t data_size, const char *why) {
    oclinit_safetensors_t file = NULL;
    oclinit_status status = open_made(json, length, data_size, &file);
    const char *detail = oclinit_error_get_detail();
    if (status != OCLINIT_ERROR_INVALID_ARGUMENT || !strstr(detail, why) || !strstr(detail, "made.safetensors"))
        fail_msg("%s: status %d, detail \"%s\"; expected \"%s\"", json, (int)status, detail, why);
    assert_null(file);
}

static void reader_refuses_every_malformed_header(void **state) {
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/short.safetensors", directory);
    write_bytes(path, "\x02\0\0\0", 4, NULL, 0);
    oclinit_safetensors_t file = NULL;
    assert_int_equal(oclinit_safetensors_open(path, &file), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "fewer than the 8"));

    const char *ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    refused(ok, 100000001, 8, "more than safetensors' limit");
    refused(ok, strlen(ok) + 9, 8, "but only");
    refused("{\"a\":\"\xff\"}", 0, 0, "not valid UTF-8 JSON");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", 0, 8, "not valid UTF-8 JSON");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
            "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]}}",
            0, 8, "duplicate");
    refused("[1, 2]", 0, 0, "not an object");
    refused("{\"a\":[1]}", 0, 0, "\"a\" is not a JSON object");
    refused("{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8, "dtype \"F33\"");
    refused("{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8, "dtype \"f32\"");
    refused("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8, "no \"dtype\"");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 0, 8, "integer >= 0");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 0, 8, "integer >= 0");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 0, 8, "no \"shape\"");
    refused("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,2],\"data_offsets\":[0,8]}}", 0, 8,
            "more elements than");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 0, 8, "no \"data_offsets\"");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,16]}}", 0, 8, "no \"data_offsets\"");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",8]}}", 0, 8, "no \"data_offsets\"");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 0, 8, "end before they begin");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 0, 12, "needs 8");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 4, "beyond the file's end");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            0, 12, "\"b\" overlaps tensor \"a\"");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
            0, 20, "hole of 4 bytes");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 0, 12, "hole of 4 bytes");
    refused(ok, 0, 12, "4 bytes follow the last tensor");
    refused("{\"__metadata__\":{\"format\":1}}", 0, 0, "is not a string");
    refused("{\"__metadata__\":[\"pt\"]}", 0, 0, "__metadata__");

    /* Accepted as safetensors accepts them: entries out of offset order, empty tensors sharing an offset,
     * unknown keys in an entry, a null __metadata__, no tensors at all. */
    assert_ok(open_made("{\"__metadata__\":null,\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                        "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[8,8]},"
                        "\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8],\"extra\":1}}",
                        0, 12, &file));
    assert_int_equal(oclinit_safetensors_get_count(file), 3);
    assert_string_equal(oclinit_safetensors_get_info(file, 0)->name, "a");
    assert_string_equal(oclinit_safetensors_get_info(file, 1)->name, "e");
    assert_string_equal(oclinit_safetensors_get_info(file, 2)->name, "b");
    assert_null(oclinit_safetensors_get_metadata(file, "format"));
    oclinit_safetensors_free(file);
    assert_ok(open_made("{}", 0, 0, &file));
    assert_int_equal(oclinit_safetensors_get_count(file), 0);
    oclinit_safetensors_free(file);

    /* Not a regular file, or missing. */
    assert_int_equal(oclinit_safetensors_open(directory, &file), OCLINIT_ERROR_INVALID_ARGUMENT);
    snprintf(path, sizeof path, "%s/absent.safetensors", directory);
    assert_int_equal(oclinit_safetensors_open(path, &file), OCLINIT_ERROR_IO);
}

/* ---- Conversions ---- */

/* bf16 of x by its definition: the nearer of the two bf16 values around x (by truncation and one ulp up),
 * the even one on a tie, compared in double where both differences are exact. */
static uint16_t bf16_reference(uint32_t x) {
    float f = from_bits(x);
    if (isnan(f)) return (uint16_t)((x >> 16 & 0x8000u) | 0x7fc0u);
    if (isinf(f)) return (uint16_t)(x >> 16);
    uint32_t low = x & 0xffff0000u, high = low + 0x10000u;
    double below = fabs((double)f - (double)from_bits(low));
    double above = (low & 0x7fffffffu) == 0x7f7f0000u ? fabs((double)f) - 0x1p128 /* inf as 2^128 */
                                                      : fabs((double)from_bits(high) - (double)f);
    above = fabs(above);
    if (below < above || (below == above && !(low & 0x10000u))) return (uint16_t)(low >> 16);
    return (uint16_t)(high >> 16);
}

static void bf16_rounds_to_nearest_even(void **state) {
    (void)state;
    /* Every 65th bit pattern (66 million, the 16 low bits all covered across the sweep), and around every tie; also
     * streamed (as files are written: other stores where the CPU has them), to an address off the vector width. */
    enum { BLOCK = 4096 };
    float in[BLOCK];
    uint16_t out[BLOCK], streamed[BLOCK + 1];
    uint64_t checked = 0;
    for (uint64_t start = 0; start < (1ull << 32); start += BLOCK * 65ull) {
        for (int i = 0; i < BLOCK; i++) in[i] = from_bits((uint32_t)(start + (uint64_t)i * 65));
        oi_float_to_bf16(in, out, BLOCK);
        oi_float_to_dtype_streamed(OCLINIT_DTYPE_BF16, in, streamed + 1, BLOCK);
        for (int i = 0; i < BLOCK; i++) {
            uint16_t expected = bf16_reference(bits(in[i]));
            if (out[i] != expected) fail_msg("bf16 of 0x%08x: 0x%04x, expected 0x%04x", bits(in[i]), out[i], expected);
            if (streamed[i + 1] != expected)
                fail_msg("streamed bf16 of 0x%08x: 0x%04x, expected 0x%04x", bits(in[i]), streamed[i + 1], expected);
        }
        checked += BLOCK;
    }
    static const uint32_t cases[][2] = {
        {0x3f808000u, 0x3f80},                                               /* 1 + 2^-8: a tie, even below */
        {0x3f818000u, 0x3f82},                                               /* a tie, even above */
        {0x3f808001u, 0x3f81}, {0x7f7fffffu, 0x7f80},                        /* the largest float rounds to infinity */
        {0x7f800000u, 0x7f80}, {0xff800000u, 0xff80}, {0x7f800001u, 0x7fc0}, /* a signalling NaN comes out quiet */
        {0xffc00001u, 0xffc0}, {0x00000001u, 0x0000}, {0x80000000u, 0x8000},
        {0x00008000u, 0x0000}, {0x00018000u, 0x0002}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float f = from_bits(cases[i][0]);
        uint16_t h;
        oi_float_to_bf16(&f, &h, 1);
        if (h != cases[i][1]) fail_msg("bf16 of 0x%08x: 0x%04x, expected 0x%04x", cases[i][0], h, cases[i][1]);
    }
    /* Back: exact for every pattern. */
    for (uint32_t h = 0; h < 0x10000u; h++) {
        uint16_t x = (uint16_t)h;
        float f;
        oi_bf16_to_float(&x, &f, 1);
        assert_int_equal(bits(f), h << 16);
    }
    printf("bf16: %llu patterns swept\n", (unsigned long long)checked);
}

static void f16_rounds_to_nearest_even(void **state) {
    (void)state;
    static const uint32_t cases[][2] = {
        {0x3f800000u, 0x3c00}, {0x477fe000u, 0x7bff}, /* 65504, the largest half */
        {0x477fefffu, 0x7bff}, {0x477ff000u, 0x7c00}, /* 65520 is the tie that rounds up to infinity */
        {0x7f7fffffu, 0x7c00}, {0x7f800000u, 0x7c00}, {0xff800000u, 0xfc00}, {0x7f800001u, 0x7e00}, /* quiet NaN */
        {0x7fc00000u, 0x7e00}, {0x38800000u, 0x0400}, /* 2^-14, the smallest normal */
        {0x33800000u, 0x0001},                        /* 2^-24, the smallest subnormal */
        {0x33000000u, 0x0000},                        /* 2^-25: a tie, to even 0 */
        {0x33000001u, 0x0001}, {0x33c00000u, 0x0002}, /* 1.5 x 2^-24: a tie, to even 2 */
        {0x387fc000u, 0x03ff},                        /* 1023 x 2^-24 exactly, the largest subnormal */
        {0x387ff000u, 0x0400},                        /* 1023.75 x 2^-24 rounds up to the smallest normal */
        {0x00000001u, 0x0000}, {0x80000001u, 0x8000}, {0xc0000000u, 0xc000}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float f = from_bits(cases[i][0]);
        uint16_t h;
        oi_float_to_f16(&f, &h, 1);
        if (h != cases[i][1]) fail_msg("f16 of 0x%08x: 0x%04x, expected 0x%04x", cases[i][0], h, cases[i][1]);
    }
    /* Back, exactly: every half through float and again to half is itself (NaNs stay NaN). */
    for (uint32_t h = 0; h < 0x10000u; h++) {
        uint16_t x = (uint16_t)h, y;
        float f;
        oi_f16_to_float(&x, &f, 1);
        oi_float_to_f16(&f, &y, 1);
        bool nan = (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu);
        if (nan ? !isnan(f) : y != x) fail_msg("f16 0x%04x -> %a -> 0x%04x", h, (double)f, y);
    }
#ifdef __FLT16_MAX__
    __extension__ typedef _Float16 half; /* C23's, an extension before */
    /* Against the compiler's _Float16 conversion (libgcc's, round to nearest even) on every 257th pattern. */
    enum { BLOCK = 4096 };
    float in[BLOCK];
    uint16_t out[BLOCK];
    for (uint64_t start = 0; start < (1ull << 32); start += BLOCK * 257ull) {
        for (int i = 0; i < BLOCK; i++) in[i] = from_bits((uint32_t)(start + (uint64_t)i * 257));
        oi_float_to_f16(in, out, BLOCK);
        for (int i = 0; i < BLOCK; i++) {
            volatile float f = in[i];
            half reference = (half)f;
            uint16_t expected;
            memcpy(&expected, &reference, 2);
            bool nan = isnan(f);
            if (nan ? (out[i] & 0x7e00u) != 0x7e00u : out[i] != expected)
                fail_msg("f16 of 0x%08x: 0x%04x, expected 0x%04x", bits(in[i]), out[i], expected);
        }
    }
#endif
}

/* Special values (ties, the edges of the subnormals and of the range, NaNs), then xorshift bit patterns. */
static float *conversion_inputs(size_t random, size_t *count) {
    static const uint32_t special[] = {0x00000000u, 0x80000000u, 0x00000001u, 0x007fffffu, 0x00800000u, 0x33000000u,
                                       0x33000001u, 0x33800000u, 0x387ff000u, 0x38800000u, 0x3f800000u, 0x3f808000u,
                                       0x3f818000u, 0x477fe000u, 0x477fefffu, 0x477ff000u, 0x7f7fffffu, 0x7f800000u,
                                       0xff800000u, 0x7fc00000u, 0x7f800001u, 0xffc00001u, 0x7fffffffu};
    *count = random + OI_COUNT(special);
    float *in = malloc(*count * sizeof *in);
    if (!in) return NULL;
    for (size_t i = 0; i < OI_COUNT(special); i++) in[i] = from_bits(special[i]);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t i = OI_COUNT(special); i < *count; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        in[i] = from_bits((uint32_t)(s >> 32));
    }
    return in;
}

/* The device's rounding (kernels/dtype.cl, which checkpoints made on a device use) is the host's, bit for bit. */
static void device_rounds_as_the_host(void **state) {
    (void)state;
    oclinit_runtime_t runtime = test_device(0);
    size_t count;
    float *in = conversion_inputs(4000000, &count);
    assert_non_null(in);
    size_t padded = (count + 15) / 16 * 16;
    uint16_t *host = malloc(count * 2), *device = malloc(count * 2);
    assert_true(host && device);
    cl_mem from = test_buffer(runtime, padded * sizeof(float), NULL), to = test_buffer(runtime, padded * 2, NULL);
    cl_command_queue queue = oclinit_runtime_get_queue(runtime);
    assert_int_equal(clEnqueueWriteBuffer(queue, from, CL_TRUE, 0, count * sizeof(float), in, 0, NULL, NULL), 0);
    const oclinit_dtype dtypes[] = {OCLINIT_DTYPE_BF16, OCLINIT_DTYPE_F16};
    for (int d = 0; d < 2; d++) {
        oi_float_to_dtype(dtypes[d], in, host, count);
        size_t half = count / 32 * 16; /* in two calls, the second from a multiple of 16 */
        assert_ok(oi_dtype_enqueue_convert(runtime, dtypes[d], from, to, 0, half));
        assert_ok(oi_dtype_enqueue_convert(runtime, dtypes[d], from, to, half, count - half));
        assert_int_equal(clEnqueueReadBuffer(queue, to, CL_TRUE, 0, count * 2, device, 0, NULL, NULL), 0);
        for (size_t i = 0; i < count; i++)
            if (device[i] != host[i])
                fail_msg("%s of 0x%08x: device 0x%04x, host 0x%04x", oclinit_dtype_str(dtypes[d]), bits(in[i]),
                         device[i], host[i]);
    }
    assert_int_equal(oi_dtype_enqueue_convert(runtime, OCLINIT_DTYPE_F32, from, to, 0, count),
                     OCLINIT_ERROR_NOT_SUPPORTED);
    assert_int_equal(oi_dtype_enqueue_convert(runtime, OCLINIT_DTYPE_BF16, from, to, 8, 16),
                     OCLINIT_ERROR_INVALID_ARGUMENT);
    printf("%s: bf16 and f16 of %zu patterns as on the host\n", oclinit_runtime_get_device(runtime)->name, count);
    clReleaseMemObject(from);
    clReleaseMemObject(to);
    free(in), free(host), free(device);
    oclinit_runtime_free(runtime);
}

/* Inputs (special values and 10^7 xorshift bit patterns) and their conversions, for tests/inspect_test.py. */
static int write_conversions(const char *path) {
    size_t count;
    float *in = conversion_inputs(10000000, &count);
    uint16_t *f16 = malloc(count * 2), *bf16 = malloc(count * 2);
    if (!in || !f16 || !bf16) return 1;
    oi_float_to_f16(in, f16, count);
    oi_float_to_bf16(in, bf16, count);
    const int64_t dims[1] = {(int64_t)count};
    const oi_safetensors_entry entries[] = {{"input", OCLINIT_DTYPE_F32, 1, dims},
                                            {"f16", OCLINIT_DTYPE_F16, 1, dims},
                                            {"bf16", OCLINIT_DTYPE_BF16, 1, dims}};
    const char *metadata[] = {"format", "pt"};
    char *header;
    size_t size;
    FILE *f = fopen(path, "wb");
    int failed = !f || oi_safetensors_header(entries, 3, metadata, 1, &header, &size) != OCLINIT_SUCCESS;
    if (!failed) {
        failed = fwrite(header, 1, size, f) != size || fwrite(in, 4, count, f) != count ||
                 fwrite(f16, 2, count, f) != count || fwrite(bf16, 2, count, f) != count;
        free(header);
    }
    if (f && fclose(f) != 0) failed = 1;
    free(in), free(f16), free(bf16);
    return failed;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--write-conversions") == 0) return write_conversions(argv[2]);
    const struct CMUnitTest tests[] = {cmocka_unit_test(header_is_aligned_contiguous_and_has_metadata),
                                       cmocka_unit_test(writer_refuses_what_no_reader_could_take),
                                       cmocka_unit_test(reader_refuses_every_malformed_header),
                                       cmocka_unit_test(bf16_rounds_to_nearest_even),
                                       cmocka_unit_test(f16_rounds_to_nearest_even),
                                       cmocka_unit_test(device_rounds_as_the_host)};
    return cmocka_run_group_tests(tests, make_directory, remove_directory);
}
