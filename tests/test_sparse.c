/* sparse: the contract's choice of zeroed rows (kernels/sparse.h). Each column has exactly its zeros and keeps the
 * normal tensor's other bits; the per-column permutation is one, its inverse inverts it, and its choice looks like
 * torch.nn.init.sparse_'s uniform one; the device equals the host twin, and any slice equals the whole. */
#include <math.h>
#include <stdio.h>

#include "helpers.h"
#include "sparse.h"

/* The (rows, columns) sparse distribution with std 0.5 and ceil(sparsity rows) zeros per column, as
 * torch.nn.init.sparse_ counts them, and the normal one whose values it keeps. */
static oclinit_distribution sparse_of(int64_t rows, int64_t columns, double sparsity) {
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_SPARSE, .std = 0.5f};
    d.shape = oclinit_shape_matrix(rows, columns);
    d.zeros = (int64_t)ceil(sparsity * (double)rows);
    return d;
}

static oclinit_distribution normal_of(const oclinit_distribution *sparse) {
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 0, .std = sparse->std};
    d.shape = sparse->shape;
    return d;
}

/* Elements [first, first + count) as the lead's wiring does not have to: normal values, then the zeroing pass. */
static void make(oclinit_runtime_t rt, const oclinit_distribution *d, uint64_t seed, uint64_t stream, uint64_t first,
                 uint64_t count, float *out) {
    oclinit_distribution normal = normal_of(d);
    if (oi_runtime_on_host(rt)) {
        assert_ok(oclinit_init_fill_host(NULL, &normal, seed, stream, first, count, out));
        oi_sparse_twin_zero(d, seed, stream, first, count, out);
        return;
    }
    const size_t pad = 3, total = (size_t)count + 2 * pad;
    float *guarded = malloc(total * sizeof(float));
    for (size_t i = 0; i < total; i++) guarded[i] = 7.25f;
    cl_mem buffer = test_buffer(rt, total * sizeof(float), guarded);
    assert_ok(oclinit_init_fill_buffer(rt, &normal, seed, stream, first, count, buffer, pad));
    assert_ok(oi_sparse_enqueue_zero(rt, d, seed, stream, first, count, buffer, pad));
    assert_int_equal(clEnqueueReadBuffer(oclinit_runtime_get_queue(rt), buffer, CL_TRUE, 0, total * sizeof(float),
                                         guarded, 0, NULL, NULL),
                     CL_SUCCESS);
    for (size_t i = 0; i < pad; i++) assert_true(guarded[i] == 7.25f && guarded[pad + count + i] == 7.25f);
    memcpy(out, guarded + pad, (size_t)count * sizeof(float));
    clReleaseMemObject(buffer);
    free(guarded);
}

static uint64_t elements(const oclinit_distribution *d) {
    return (uint64_t)d->shape.dims[0] * (uint64_t)d->shape.dims[1];
}

/* Every column has exactly d->zeros zeros, where the normal tensor has none, and the normal tensor's bits
 * elsewhere. */
static void check_zeros(const oclinit_distribution *d, const float *normal, const float *out) {
    int64_t rows = d->shape.dims[0], columns = d->shape.dims[1];
    for (int64_t c = 0; c < columns; c++) {
        int64_t zeros = 0;
        for (int64_t r = 0; r < rows; r++) {
            size_t i = (size_t)(r * columns + c);
            assert_true(normal[i] != 0.0f);
            if (out[i] == 0.0f) {
                assert_false(signbit(out[i]));
                zeros++;
            } else {
                assert_memory_equal(&out[i], &normal[i], sizeof(float));
            }
        }
        if (zeros != d->zeros)
            print_error("%lld x %lld, column %lld: %lld zeros, expected %lld\n", (long long)rows, (long long)columns,
                        (long long)c, (long long)zeros, (long long)d->zeros);
        assert_int_equal(zeros, d->zeros);
    }
}

static void exact_zeros_per_column(void **state) {
    (void)state;
    static const int64_t rows[] = {1, 2, 7, 64, 65, 100, 1000};
    static const int64_t columns[] = {1, 3, 17, 300};
    static const double sparsities[] = {0, 0.1, 0.5, 0.99};
    oclinit_runtime_t rt = test_device(0);
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        for (size_t c = 0; c < sizeof columns / sizeof columns[0]; c++) {
            for (size_t s = 0; s < sizeof sparsities / sizeof sparsities[0]; s++) {
                oclinit_distribution d = sparse_of(rows[r], columns[c], sparsities[s]);
                oclinit_distribution normal = normal_of(&d);
                uint64_t n = elements(&d);
                float *expected = malloc(n * sizeof(float)), *out = malloc(n * sizeof(float));
                assert_ok(oclinit_init_fill_host(NULL, &normal, 11, 5, 0, n, expected));
                make(NULL, &d, 11, 5, 0, n, out);
                check_zeros(&d, expected, out);
                /* the library's own sparse fill, on the host and on the device, is the same tensor */
                assert_ok(oclinit_init_fill_host(NULL, &d, 11, 5, 0, n, expected));
                assert_int_equal(first_difference(expected, out, n, "oclinit_init_fill_host on the host"), -1);
                assert_ok(oclinit_init_fill_host(rt, &d, 11, 5, 0, n, expected));
                assert_int_equal(first_difference(expected, out, n, "oclinit_init_fill_host on the device"), -1);
                free(out);
                free(expected);
            }
        }
    }
    oclinit_runtime_free(rt);
}

/* pi_c is a permutation of [0, rows) for domains of every size, with and without cycle-walking, and the inverse
 * network inverts it. */
static void permutation_and_inverse(void **state) {
    (void)state;
    static const uint64_t extra[] = {127, 128, 129, 1000, 4095, 4096, 4097, 65537};
    for (size_t k = 0; k < 70 + sizeof extra / sizeof extra[0]; k++) {
        uint64_t rows = k < 70 ? k + 1 : extra[k - 70];
        oi_sparse_domain d = oi_sparse_domain_of(rows);
        assert_true(d.left_bits + d.right_bits >= OI_SPARSE_MIN_BITS);
        assert_true(((uint64_t)1 << (d.left_bits + d.right_bits)) >= rows);
        assert_true(d.left_bits + d.right_bits == OI_SPARSE_MIN_BITS ||
                    ((uint64_t)1 << (d.left_bits + d.right_bits - 1)) < rows);
        unsigned char *seen = calloc(rows, 1);
        for (uint64_t column = 0; column < 3; column++) {
            oi_sparse_key key = oi_sparse_key_of(3, 4, OI_SPARSE_BLOCKS + 2 * column);
            memset(seen, 0, rows);
            for (uint64_t row = 0; row < rows; row++) {
                uint64_t rank = oi_sparse_rank(row, d, key);
                assert_true(rank < rows);
                assert_false(seen[rank]);
                seen[rank] = 1;
                assert_true(oi_sparse_row(rank, d, key) == row);
            }
        }
        free(seen);
    }
}

/* The contract pinned: the zeroed rows of the columns of a 10 x 4 tensor with 3 zeros per column, seed 42,
 * stream 7, on the host and on the device, as a plain Python transcription of kernels/sparse.h's description
 * computes them. A change here changes every sparse tensor made so far. */
static void known_answer(void **state) {
    (void)state;
    static const int64_t zeroed[4][3] = {{0, 3, 6}, {5, 8, 9}, {0, 2, 9}, {1, 3, 4}};
    oclinit_distribution d = sparse_of(10, 4, 0.3);
    assert_int_equal(d.zeros, 3);
    oclinit_runtime_t rt = test_device(0);
    for (int where = 0; where < 2; where++) {
        float out[40];
        make(where ? rt : NULL, &d, 42, 7, 0, 40, out);
        for (int c = 0; c < 4; c++) {
            int k = 0;
            for (int r = 0; r < 10; r++) {
                if (out[r * 4 + c] != 0.0f) continue;
                if (k >= 3 || zeroed[c][k] != r)
                    print_error("column %d: row %d zeroed (%s)\n", c, r, where ? "device" : "host");
                assert_true(k < 3 && zeroed[c][k] == r);
                k++;
            }
            assert_int_equal(k, 3);
        }
    }
    oclinit_runtime_free(rt);
}

/* The device equals the host twin at odd shapes, whole (listing ranks) and in slices (going through rows). */
static void device_equals_host(void **state) {
    (void)state;
    static const int64_t shapes[][2] = {{1000, 37}, {7, 300}, {333, 333}, {4097, 5}, {65, 1000}};
    static const double sparsities[] = {0.05, 0.5, 0.9};
    oclinit_runtime_t rt = test_device(0);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (size_t k = 0; k < sizeof sparsities / sizeof sparsities[0]; k++) {
            oclinit_distribution d = sparse_of(shapes[s][0], shapes[s][1], sparsities[k]);
            uint64_t n = elements(&d);
            float *host = malloc(n * sizeof(float)), *device = malloc(n * sizeof(float));
            make(NULL, &d, 0x0123456789abcdefull, 0xfedcba9876543210ull, 0, n, host);
            make(rt, &d, 0x0123456789abcdefull, 0xfedcba9876543210ull, 0, n, device);
            assert_int_equal(first_difference(device, host, n, "whole tensor, device vs host"), -1);
            const uint64_t slices[][2] = {{13, 777}, {0, 1}, {n - 1, 1}, {(uint64_t)shapes[s][1] - 1, 2}, {5, n - 9}};
            for (size_t c = 0; c < sizeof slices / sizeof slices[0]; c++) {
                uint64_t first = slices[c][0], count = slices[c][1] < n - first ? slices[c][1] : n - first;
                make(rt, &d, 0x0123456789abcdefull, 0xfedcba9876543210ull, first, count, device);
                assert_int_equal(first_difference(device, host + first, count, "slice on the device"), -1);
                make(NULL, &d, 0x0123456789abcdefull, 0xfedcba9876543210ull, first, count, device);
                assert_int_equal(first_difference(device, host + first, count, "slice on the host"), -1);
            }
            free(device);
            free(host);
        }
    }
    oclinit_runtime_free(rt);
}

/* Slices made alone, split anywhere, on the host and the device in turn, equal the whole. */
static void slices_equal_whole(void **state) {
    (void)state;
    static const uint64_t cuts[] = {0, 1, 4, 13, 790, 1001, 4096, 4133, 30011, 36999, 37000};
    oclinit_runtime_t rt = test_device(0);
    static const double sparsities[] = {0.01, 0.3, 0.97};
    for (size_t k = 0; k < sizeof sparsities / sizeof sparsities[0]; k++) {
        oclinit_distribution d = sparse_of(1000, 37, sparsities[k]);
        float *whole = malloc(37000 * sizeof(float)), *sliced = malloc(37000 * sizeof(float));
        make(NULL, &d, 9, 2, 0, 37000, whole);
        for (size_t c = 0; c + 1 < sizeof cuts / sizeof cuts[0]; c++)
            make(c % 2 ? rt : NULL, &d, 9, 2, cuts[c], cuts[c + 1] - cuts[c], sliced + cuts[c]);
        assert_int_equal(first_difference(sliced, whole, 37000, "slices vs whole"), -1);
        free(sliced);
        free(whole);
    }
    oclinit_runtime_free(rt);
}

/* Far into a 2^20 x 2^13 tensor (2^33 elements), across element 2^32 and at the very end, slices follow the contract
 * element by element: 64-bit indices throughout. */
static void far_slices_follow_the_contract(void **state) {
    (void)state;
    static const uint64_t slices[][2] = {{((uint64_t)1 << 32) - 5, 70}, {((uint64_t)1 << 33) - 40, 40}};
    oclinit_distribution d = sparse_of(1 << 20, 1 << 13, 0.25);
    oclinit_distribution normal = normal_of(&d);
    oi_sparse_domain domain = oi_sparse_domain_of(1 << 20);
    oclinit_runtime_t rt = test_device(0);
    for (size_t s = 0; s < 2; s++) {
        uint64_t first = slices[s][0], count = slices[s][1];
        float expected[70], out[70];
        assert_ok(oclinit_init_fill_host(NULL, &normal, 5, 6, first, count, expected));
        for (uint64_t i = first; i < first + count; i++) {
            uint64_t row = i >> 13, column = i & ((1 << 13) - 1);
            oi_sparse_key key = oi_sparse_key_of(5, 6, OI_SPARSE_BLOCKS + 2 * column);
            if (oi_sparse_rank(row, domain, key) < (uint64_t)d.zeros) expected[i - first] = 0.0f;
        }
        for (int where = 0; where < 2; where++) {
            make(where ? rt : NULL, &d, 5, 6, first, count, out);
            assert_int_equal(first_difference(out, expected, count, where ? "far slice, device" : "far slice, host"),
                             -1);
        }
    }
    oclinit_runtime_free(rt);
}

/* Which rows a column zeroes, as a bit set per column (rows <= 64). */
static void zero_sets(const oclinit_distribution *d, uint64_t seed, uint64_t stream, uint64_t *sets) {
    int64_t rows = d->shape.dims[0], columns = d->shape.dims[1];
    float *out = malloc(elements(d) * sizeof(float));
    make(NULL, d, seed, stream, 0, elements(d), out);
    for (int64_t c = 0; c < columns; c++) {
        sets[c] = 0;
        for (int64_t r = 0; r < rows; r++)
            if (out[r * columns + c] == 0.0f) sets[c] |= (uint64_t)1 << r;
    }
    free(out);
}

/* Neighbouring columns, seeds and streams choose differently (two sets of 10 of 60 rows agree by chance with
 * probability 1 / C(60, 10) < 1e-11). */
static void choice_differs(void **state) {
    (void)state;
    oclinit_distribution d = sparse_of(60, 500, 1.0 / 6);
    uint64_t base[500], other[500];
    zero_sets(&d, 11, 0, base);
    for (int c = 0; c + 1 < 500; c++) assert_true(base[c] != base[c + 1]);
    zero_sets(&d, 12, 0, other);
    for (int c = 0; c < 500; c++) assert_true(base[c] != other[c]);
    zero_sets(&d, 11, 1, other);
    for (int c = 0; c < 500; c++) assert_true(base[c] != other[c]);
}

/* Pearson's statistic of observed counts against one expected count; bound: far in the tail of chi-square with
 * cells - 1 degrees of freedom (mean + 6 standard deviations + 6), which a fixed seed either passes or not. */
static void check_chi_square(const char *what, const double *observed, size_t cells, double expected) {
    double chi = 0, dof = (double)cells - 1, bound = dof + 6 * sqrt(2 * dof) + 6;
    for (size_t k = 0; k < cells; k++) chi += (observed[k] - expected) * (observed[k] - expected) / expected;
    if (!(chi < bound)) print_error("%s: chi-square %.1f, %zu cells, bound %.1f\n", what, chi, cells, bound);
    assert_true(chi < bound);
}

/* sparse_'s randperm makes every set of zeros rows equally likely: over many columns each row is zeroed
 * zeros / rows of the time, each pair of rows zeros (zeros - 1) / (rows (rows - 1)), and with 5 rows and 2 zeros
 * each of the 10 sets a tenth. The network with 4 rounds instead of 8, or on 2 bits rather than at least 6, fails
 * this: its pairs (and sets) come out at 2 to 35 times the bound. */
static void choice_is_uniform(void **state) {
    (void)state;
    static const struct {
        int64_t rows, zeros, columns;
    } cases[] = {{5, 2, 50000}, {7, 3, 50000}, {33, 12, 40000}, {64, 21, 20000}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int64_t rows = cases[k].rows, zeros = cases[k].zeros, columns = cases[k].columns;
        oclinit_distribution d = sparse_of(rows, columns, 0);
        d.zeros = zeros;
        uint64_t *sets = malloc((size_t)columns * sizeof(uint64_t));
        zero_sets(&d, 2024, 3, sets);
        double *singles = calloc((size_t)rows, sizeof(double));
        double *pairs = calloc((size_t)(rows * (rows - 1) / 2), sizeof(double));
        double subsets[32] = {0};
        for (int64_t c = 0; c < columns; c++) {
            assert_int_equal(__builtin_popcountll(sets[c]), zeros);
            size_t pair = 0;
            for (int64_t r = 0; r < rows; r++) {
                singles[r] += (double)(sets[c] >> r & 1);
                for (int64_t q = r + 1; q < rows; q++, pair++) pairs[pair] += (double)(sets[c] >> r & sets[c] >> q & 1);
            }
            if (rows == 5) subsets[sets[c]]++;
        }
        char what[64];
        snprintf(what, sizeof what, "%lld rows, %lld zeros: rows", (long long)rows, (long long)zeros);
        check_chi_square(what, singles, (size_t)rows, (double)(columns * zeros) / (double)rows);
        snprintf(what, sizeof what, "%lld rows, %lld zeros: pairs", (long long)rows, (long long)zeros);
        check_chi_square(what, pairs, (size_t)(rows * (rows - 1) / 2),
                         (double)columns * (double)(zeros * (zeros - 1)) / (double)(rows * (rows - 1)));
        if (rows == 5) {
            double sets_of_two[10];
            size_t n = 0;
            for (int m = 0; m < 32; m++)
                if (__builtin_popcount((unsigned)m) == 2) sets_of_two[n++] = subsets[m];
            check_chi_square("5 rows, 2 zeros: sets", sets_of_two, 10, (double)columns / 10);
        }
        free(pairs);
        free(singles);
        free(sets);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_zeros_per_column), cmocka_unit_test(permutation_and_inverse),
        cmocka_unit_test(known_answer),           cmocka_unit_test(device_equals_host),
        cmocka_unit_test(slices_equal_whole),     cmocka_unit_test(far_slices_follow_the_contract),
        cmocka_unit_test(choice_differs),         cmocka_unit_test(choice_is_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
