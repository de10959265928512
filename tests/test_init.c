/* Filling: the device equals the host twin bit for bit for every scheme, at odd sizes and at starting
 * elements that cross Philox blocks (and the 2^32-block boundary), with 1 and 16 lanes, and made straight in bf16
 * and f16 with 4, 8 and 16; slices equal the whole; the .npy writer's chunks equal the whole. */
#include <math.h>
#include <stdio.h>

#include "helpers.h"

#define GUARD 7.25f

static const oclinit_scheme_kind all_schemes[] = {
    OCLINIT_SCHEME_ZEROS,
    OCLINIT_SCHEME_ONES,
    OCLINIT_SCHEME_CONSTANT,
    OCLINIT_SCHEME_EYE,
    OCLINIT_SCHEME_UNIFORM,
    OCLINIT_SCHEME_NORMAL,
    OCLINIT_SCHEME_TRUNC_NORMAL,
    OCLINIT_SCHEME_SCALED_NORMAL,
    OCLINIT_SCHEME_XAVIER_NORMAL,
    OCLINIT_SCHEME_XAVIER_UNIFORM,
    OCLINIT_SCHEME_KAIMING_NORMAL,
    OCLINIT_SCHEME_KAIMING_UNIFORM,
    OCLINIT_SCHEME_LECUN_NORMAL,
    OCLINIT_SCHEME_LECUN_UNIFORM,
    OCLINIT_SCHEME_VARIANCE_SCALING,
};

/* Distributions beyond the schemes' defaults: a mirrored truncation, a far-tail one, a shifted normal, dirac,
 * sparse and orthogonal. */
static oclinit_distribution extra(int which, int64_t rows, int64_t columns) {
    oclinit_distribution d = {.shape = {2, {rows, columns}}};
    switch (which) {
    case 0: d.kind = OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL, d.mean = 1, d.std = 2, d.a = 1.5f, d.b = 9; break;
    case 1: d.kind = OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL, d.mean = 0, d.std = 1, d.a = 5, d.b = 6; break;
    case 2: d.kind = OCLINIT_DISTRIBUTION_NORMAL, d.mean = -3, d.std = 0.5f; break;
    case 3: /* dirac on a (rows, columns, 3) kernel, gain 2.5 */
        d.kind = OCLINIT_DISTRIBUTION_EYE, d.value = 2.5f, d.groups = 1;
        d.shape = (oclinit_shape){3, {rows, columns, 3}};
        break;
    case 4: d.kind = OCLINIT_DISTRIBUTION_SPARSE, d.std = 0.5f, d.zeros = rows / 3; break;
    default: d.kind = OCLINIT_DISTRIBUTION_ORTHOGONAL, d.value = 1.5f, d.rows = rows; break;
    }
    return d;
}

#define EXTRA_COUNT 6
#define CASE_COUNT (sizeof all_schemes / sizeof all_schemes[0] + EXTRA_COUNT)

static oclinit_distribution test_case(size_t c, int64_t rows, int64_t columns) {
    if (c >= sizeof all_schemes / sizeof all_schemes[0])
        return extra((int)(c - sizeof all_schemes / sizeof all_schemes[0]), rows, columns);
    oclinit_scheme s = oclinit_scheme_default(all_schemes[c]);
    s.value = -0.5;
    oclinit_distribution d;
    assert_ok(oclinit_scheme_resolve(&s, columns, rows, &d));
    return d;
}

/* Fills [first, first + count) on the device into the middle of a guarded buffer and compares with the host. */
static void compare_range(oclinit_runtime_t rt, const oclinit_distribution *d, uint64_t seed, uint64_t stream,
                          uint64_t first, uint64_t count) {
    const size_t pad = 5, total = count + 2 * pad;
    float *device = malloc(total * sizeof(float)), *host = malloc(count * sizeof(float));
    for (size_t i = 0; i < total; i++) device[i] = GUARD;
    cl_mem buffer = test_buffer(rt, total * sizeof(float), device);
    assert_ok(oclinit_init_fill_buffer(rt, d, seed, stream, first, count, buffer, pad));
    assert_int_equal(clEnqueueReadBuffer(oclinit_runtime_get_queue(rt), buffer, CL_TRUE, 0, total * sizeof(float),
                                         device, 0, NULL, NULL),
                     CL_SUCCESS);
    assert_ok(oclinit_init_fill_host(NULL, d, seed, stream, first, count, host));
    char what[128];
    snprintf(what, sizeof what, "kind %d, first %llu, count %llu", d->kind, (unsigned long long)first,
             (unsigned long long)count);
    assert_int_equal(first_difference(device + pad, host, count, what), -1);
    for (size_t i = 0; i < pad; i++) {
        assert_true(device[i] == GUARD);
        assert_true(device[pad + count + i] == GUARD);
    }
    for (size_t i = 0; i < count; i++) assert_true(isfinite(host[i]));
    clReleaseMemObject(buffer);
    free(host);
    free(device);
}

static void device_equals_host(void **state) {
    unsigned lanes = test_lanes(state);
    static const uint64_t counts[] = {1, 2, 3, 5, 17, 4097, 7919, 65537};
    static const uint64_t firsts[] = {0, 1, 2, 3, 6, 4095, 104729};
    oclinit_runtime_t rt = test_device(lanes);
    for (size_t c = 0; c < CASE_COUNT; c++) {
        oclinit_distribution d = test_case(c, 4099, 61); /* eye: 61 ones on a 4099 x 61 diagonal */
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
            for (size_t j = 0; j < sizeof firsts / sizeof firsts[0]; j++)
                compare_range(rt, &d, 0x0123456789abcdefull, 0xfedcba9876543210ull, firsts[j], counts[i]);
    }
    /* Block counters whose low word wraps: blocks 2^32 - 3 .. 2^32 + 7 of a 2^20 x 2^16 tensor. */
    for (size_t c = 0; c < CASE_COUNT; c++) {
        oclinit_distribution d = test_case(c, 1 << 20, 1 << 16);
        if (d.kind != OCLINIT_DISTRIBUTION_ORTHOGONAL) /* one QR of 2^36 elements is not a unit test */
            compare_range(rt, &d, 42, 1, (((uint64_t)1 << 32) - 3) * 4 + 1, 41);
    }
    oclinit_runtime_free(rt);
}

/* The samplers made straight in bf16 and f16 on the device (checkpoints on CPU devices) are the host's float32
 * samples rounded by the host, at every lane count that does it; with fewer lanes the device declines. */
static void device_rounds_samples_as_the_host(void **state) {
    (void)state;
    static const unsigned lanes[] = {4, 8, 16};
    static const uint64_t counts[] = {1, 3, 17, 4097, 65537};
    static const uint64_t firsts[] = {0, 1, 6, 104729};
    static const oclinit_dtype dtypes[] = {OCLINIT_DTYPE_BF16, OCLINIT_DTYPE_F16};
    const uint16_t guard = 0xbeef;
    const size_t pad = 5, most = 65537 + 2 * 5;
    uint16_t *device = malloc(most * 2), *expected = malloc(most * 2);
    float *host = malloc(most * sizeof(float));
    size_t compared = 0;
    for (size_t l = 0; l < sizeof lanes / sizeof lanes[0]; l++) {
        oclinit_runtime_t rt = test_device(lanes[l]);
        for (size_t c = 0; c < CASE_COUNT; c++) {
            oclinit_distribution d = test_case(c, 4099, 61);
            for (size_t t = 0; t < 2; t++) {
                bool sampler = d.kind == OCLINIT_DISTRIBUTION_UNIFORM || d.kind == OCLINIT_DISTRIBUTION_NORMAL ||
                               d.kind == OCLINIT_DISTRIBUTION_TRUNCATED_NORMAL;
                assert_int_equal(oi_init_fills_in(rt, &d, dtypes[t]), sampler);
                if (!sampler) continue;
                for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
                    for (size_t j = 0; j < sizeof firsts / sizeof firsts[0]; j++) {
                        uint64_t first = firsts[j], count = counts[i];
                        size_t total = (size_t)count + 2 * pad;
                        for (size_t k = 0; k < total; k++) device[k] = guard;
                        cl_mem buffer = test_buffer(rt, total * 2, device);
                        assert_ok(oi_init_enqueue_fill_in(rt, &d, 11, 5, first, count, dtypes[t], buffer, pad));
                        assert_int_equal(clEnqueueReadBuffer(oclinit_runtime_get_queue(rt), buffer, CL_TRUE, 0,
                                                             total * 2, device, 0, NULL, NULL),
                                         CL_SUCCESS);
                        clReleaseMemObject(buffer);
                        assert_ok(oclinit_init_fill_host(NULL, &d, 11, 5, first, count, host));
                        oi_float_to_dtype(dtypes[t], host, expected, (size_t)count);
                        for (size_t k = 0; k < pad; k++)
                            assert_true(device[k] == guard && device[pad + count + k] == guard);
                        for (size_t k = 0; k < count; k++)
                            if (device[pad + k] != expected[k])
                                fail_msg("%s, kind %d, %u lanes, first %llu, count %llu: element %zu is 0x%04x, "
                                         "expected 0x%04x",
                                         oclinit_dtype_str(dtypes[t]), d.kind, lanes[l], (unsigned long long)first,
                                         (unsigned long long)count, k, device[pad + k], expected[k]);
                        compared += count;
                    }
                }
            }
        }
        oclinit_runtime_free(rt);
    }
    oclinit_runtime_t rt = test_device(1);
    oclinit_distribution d = test_case(5, 64, 64); /* normal */
    assert_false(oi_init_fills_in(rt, &d, OCLINIT_DTYPE_BF16));
    assert_true(oi_init_fills_in(rt, &d, OCLINIT_DTYPE_F32));
    oclinit_runtime_free(rt);
    printf("%zu samples rounded on the device as on the host\n", compared);
    free(device), free(expected), free(host);
}

/* Slices made alone, in any split, equal the tensor made whole, on the host and through the device. */
static void slices_equal_whole(void **state) {
    (void)state;
    static const uint64_t cuts[] = {0, 1, 4, 7, 1000, 1001, 30011, 65536, 99999, 100000};
    oclinit_runtime_t rt = test_device(0);
    for (size_t c = 0; c < CASE_COUNT; c++) {
        oclinit_distribution d = test_case(c, 1000, 100);
        float *whole = malloc(100000 * sizeof(float)), *sliced = malloc(100000 * sizeof(float));
        assert_ok(oclinit_init_fill_host(NULL, &d, 9, 2, 0, 100000, whole));
        for (size_t k = 0; k + 1 < sizeof cuts / sizeof cuts[0]; k++) {
            oclinit_runtime_t where = k % 2 ? rt : NULL;
            assert_ok(oclinit_init_fill_host(where, &d, 9, 2, cuts[k], cuts[k + 1] - cuts[k], sliced + cuts[k]));
        }
        assert_int_equal(first_difference(sliced, whole, 100000, "slices vs whole"), -1);
        free(sliced);
        free(whole);
    }
    oclinit_runtime_free(rt);
}

static void eye_is_identity(void **state) {
    (void)state;
    static const int64_t shapes[][2] = {{5, 7}, {7, 5}, {6, 6}, {1, 9}};
    for (size_t s = 0; s < 4; s++) {
        oclinit_scheme scheme = oclinit_scheme_default(OCLINIT_SCHEME_EYE);
        oclinit_distribution d;
        assert_ok(oclinit_scheme_resolve(&scheme, shapes[s][1], shapes[s][0], &d));
        float out[64];
        assert_ok(oclinit_init_fill_host(NULL, &d, 0, 0, 0, (uint64_t)(shapes[s][0] * shapes[s][1]), out));
        for (int64_t r = 0; r < shapes[s][0]; r++)
            for (int64_t c = 0; c < shapes[s][1]; c++) assert_true(out[r * shapes[s][1] + c] == (r == c ? 1.0f : 0.0f));
    }
}

/* dirac_: zeros, then gain at [g out/groups + k, k, centre...] for k < min(out/groups, in); host and device, whole
 * and in slices, against that definition written out. */
static void dirac_entries(void **state) {
    (void)state;
    static const char *const shapes[] = {"6,4,3,3", "4,6,5", "8,2,3,3,3", "9,3,2,4", "3,5,1"};
    static const int64_t groups[] = {2, 1, 4, 3, 1};
    oclinit_runtime_t rt = test_device(0);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        oclinit_scheme scheme = oclinit_scheme_default(OCLINIT_SCHEME_DIRAC);
        scheme.groups = groups[s];
        scheme.gain = -0.75;
        oclinit_shape shape;
        oclinit_distribution d;
        uint64_t n;
        assert_ok(oclinit_shape_parse(shapes[s], &shape));
        assert_ok(oclinit_scheme_resolve_shape(&scheme, &shape, &d));
        assert_ok(oclinit_shape_get_elements(&shape, &n));
        float *expected = calloc(n, sizeof(float)), *host = malloc(n * sizeof(float)),
              *device = malloc(n * sizeof(float));
        int64_t out = shape.dims[0] / groups[s], in = shape.dims[1], receptive = (int64_t)n / (shape.dims[0] * in);
        int64_t centre = 0;
        for (int k = 2; k < shape.rank; k++) centre = centre * shape.dims[k] + shape.dims[k] / 2;
        for (int64_t g = 0; g < groups[s]; g++)
            for (int64_t k = 0; k < (out < in ? out : in); k++)
                expected[((g * out + k) * in + k) * receptive + centre] = -0.75f;
        assert_ok(oclinit_init_fill_host(NULL, &d, 1, 2, 0, n, host));
        assert_int_equal(first_difference(host, expected, n, shapes[s]), -1);
        for (uint64_t cut = 0; cut < n; cut += 7) /* slices of 7 through the device */
            assert_ok(oclinit_init_fill_host(rt, &d, 1, 2, cut, n - cut < 7 ? n - cut : 7, device + cut));
        assert_int_equal(first_difference(device, expected, n, shapes[s]), -1);
        free(device);
        free(host);
        free(expected);
    }
    oclinit_runtime_free(rt);
}

/* Each instruction set's block loop of the host twin (AVX-512, AVX2 with 8 lanes, plain x86-64) gives the device's
 * bits; one the CPU lacks falls back to the best it has. */
static void every_instruction_set_matches_the_device(void **state) {
    (void)state;
    static const oi_twin_isa isas[] = {OI_TWIN_AVX512, OI_TWIN_AVX2, OI_TWIN_PLAIN};
    static const uint64_t ranges[][2] = {{0, 4099 * 61}, {3, 1}, {4097, 7919}, {104729, 65537}};
    oclinit_runtime_t rt = test_device(0);
    for (size_t c = 0; c < CASE_COUNT; c++) {
        oclinit_distribution d = test_case(c, 4099, 61);
        if (d.kind == OCLINIT_DISTRIBUTION_ORTHOGONAL) continue; /* its QR is the same code whatever the ISA */
        float *device = malloc(4099 * 61 * sizeof(float)), *host = malloc(4099 * 61 * sizeof(float));
        for (size_t r = 0; r < sizeof ranges / sizeof *ranges; r++) {
            assert_ok(oclinit_init_fill_host(rt, &d, 11, 12, ranges[r][0], ranges[r][1], device));
            for (size_t i = 0; i < sizeof isas / sizeof *isas; i++) {
                oi_init_twin_isa = isas[i];
                assert_ok(oclinit_init_fill_host(NULL, &d, 11, 12, ranges[r][0], ranges[r][1], host));
                char what[96];
                snprintf(what, sizeof what, "case %zu, instruction set %d, range %zu", c, (int)isas[i], r);
                assert_int_equal(first_difference(host, device, ranges[r][1], what), -1);
            }
            oi_init_twin_isa = OI_TWIN_BEST;
        }
        free(host);
        free(device);
    }
    oclinit_runtime_free(rt);
}

/* Element i is the same number whatever the shape: a (6, 5, 7, 3) tensor holds the (6, 105) one's numbers. */
static void any_rank_is_the_flat_tensor(void **state) {
    (void)state;
    oclinit_shape four, two = oclinit_shape_matrix(6, 105);
    assert_ok(oclinit_shape_parse("6,5,7,3", &four));
    oclinit_runtime_t rt = test_device(0);
    for (size_t c = 0; c < CASE_COUNT; c++) {
        oclinit_distribution d = test_case(c, 6, 105);
        if (d.kind == OCLINIT_DISTRIBUTION_EYE || d.kind == OCLINIT_DISTRIBUTION_ORTHOGONAL ||
            d.kind == OCLINIT_DISTRIBUTION_SPARSE)
            continue; /* their numbers are defined by the shape */
        float flat[630], shaped[630];
        d.shape = two;
        assert_ok(oclinit_init_fill_host(rt, &d, 3, 4, 0, 630, flat));
        d.shape = four;
        assert_ok(oclinit_init_fill_host(NULL, &d, 3, 4, 0, 630, shaped));
        assert_memory_equal(flat, shaped, sizeof flat);
    }
    oclinit_runtime_free(rt);
}

/* The stream separates tensors: the same seed with another stream, or another seed, gives other numbers. */
static void seed_and_stream_matter(void **state) {
    (void)state;
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_UNIFORM, .a = 0, .b = 1, .shape = {2, {1, 64}}};
    float a[64], b[64], c[64];
    assert_ok(oclinit_init_fill_host(NULL, &d, 1, 0, 0, 64, a));
    assert_ok(oclinit_init_fill_host(NULL, &d, 1, 1, 0, 64, b));
    assert_ok(oclinit_init_fill_host(NULL, &d, 2, 0, 0, 64, c));
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 64; i++) same_ab += a[i] == b[i], same_ac += a[i] == c[i];
    assert_true(same_ab < 2 && same_ac < 2);
}

static void read_file(const char *path, char **data, long *size) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)*size);
    assert_int_equal(fread(*data, 1, (size_t)*size, f), (size_t)*size);
    fclose(f);
}

/* The .npy writer: any chunk size gives the same file, equal to the header plus the tensor made whole. */
static void npy_chunks_equal_whole(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0);
    oclinit_distribution d = test_case(10 /* kaiming-normal */, 301, 97);
    const uint64_t n = 301 * 97;
    float *whole = malloc(n * sizeof(float));
    assert_ok(oclinit_init_fill_host(NULL, &d, 5, 6, 0, n, whole));
    char header[OI_NPY_HEADER_MAX];
    size_t header_size = oi_npy_header(header, 2, d.shape.dims, "<f4");
    static const size_t chunk_bytes[] = {16, 4000, 4096 * 3 + 4, 0};
    for (size_t k = 0; k < 4; k++) {
        for (int on_device = 0; on_device < 2; on_device++) {
            oclinit_stats stats;
            oclinit_write_options options = {.chunk_bytes = chunk_bytes[k], .stats = &stats};
            assert_ok(oclinit_init_write_npy(on_device ? rt : NULL, &d, 5, 6, "test_init_chunks.npy", &options));
            char *data;
            long size;
            read_file("test_init_chunks.npy", &data, &size);
            assert_int_equal(size, (long)(header_size + n * sizeof(float)));
            assert_memory_equal(data, header, header_size);
            assert_int_equal(first_difference((float *)(data + header_size), whole, n, "chunked file"), -1);
            assert_int_equal(stats.count, n);
            free(data);
        }
    }
    remove("test_init_chunks.npy");
    free(whole);
    oclinit_runtime_free(rt);
}

static void npy_header_is_numpy_format(void **state) {
    (void)state;
    char header[OI_NPY_HEADER_MAX];
    size_t size = oi_npy_header(header, 2, (const int64_t[]){65536, 3}, "<f4");
    assert_int_equal(size % 64, 0);
    assert_memory_equal(header, "\x93NUMPY\x01\x00", 8);
    assert_int_equal((unsigned char)header[8] | (unsigned char)header[9] << 8, size - 10);
    assert_non_null(strstr(header + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 3), }"));
    assert_int_equal(header[size - 1], '\n');
}

static void rejects_bad_ranges(void **state) {
    (void)state;
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .std = 1, .shape = {2, {10, 10}}};
    float out[8];
    assert_int_equal(oclinit_init_fill_host(NULL, &d, 0, 0, 95, 8, out), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "outside"));
    assert_int_equal(oclinit_init_fill_host(NULL, &d, 0, 0, UINT64_MAX, 2, out), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(oclinit_init_fill_host(NULL, &d, 0, 0, 0, 4, NULL), OCLINIT_ERROR_INVALID_ARGUMENT);
    d.std = 0;
    assert_int_equal(oclinit_init_fill_host(NULL, &d, 0, 0, 0, 4, out), OCLINIT_ERROR_INVALID_ARGUMENT);
    oclinit_runtime_t host = NULL;
    assert_ok(oclinit_runtime_create("cpu", &host));
    d.std = 1;
    assert_int_equal(oclinit_init_fill_buffer(host, &d, 0, 0, 0, 4, NULL, 0), OCLINIT_ERROR_NOT_SUPPORTED);
    oclinit_runtime_free(host);
    oclinit_runtime_t rt = test_device(0);
    cl_mem small = test_buffer(rt, 16, NULL);
    assert_int_equal(oclinit_init_fill_buffer(rt, &d, 0, 0, 0, 4, small, 1), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_ok(oclinit_init_fill_buffer(rt, &d, 0, 0, 0, 4, small, 0));
    clReleaseMemObject(small);
    oclinit_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        DEVICE_LANES_TESTS(device_equals_host),
        cmocka_unit_test(slices_equal_whole),
        cmocka_unit_test(device_rounds_samples_as_the_host),
        cmocka_unit_test(eye_is_identity),
        cmocka_unit_test(seed_and_stream_matter),
        cmocka_unit_test(npy_chunks_equal_whole),
        cmocka_unit_test(npy_header_is_numpy_format),
        cmocka_unit_test(rejects_bad_ranges),
        cmocka_unit_test(dirac_entries),
        cmocka_unit_test(any_rank_is_the_flat_tensor),
        cmocka_unit_test(every_instruction_set_matches_the_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
