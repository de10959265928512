/* orthogonal: Q is orthonormal (its rows where the matrix is wide), Q^T A is R with a positive diagonal (the
 * sign convention of torch.nn.init.orthogonal_), the input is the normal scheme's tensor, the gain scales
 * exactly, and a device, the host C path and any thread count give the same bits. PyTorch itself is compared in
 * tests/orthogonal_torch.py. */
#include <math.h>
#include <omp.h>
#include <stdio.h>

#include "helpers.h"

/* The out-of-memory test asks for terabytes: under AddressSanitizer malloc then returns NULL as it does without. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "allocator_may_return_null=1";
}

/* An orthogonal distribution as oclinit_scheme_resolve makes it: the tensor, the rows of its matrix, the gain. */
static oclinit_distribution orthogonal(int rank, const int64_t *dims, int64_t rows, float gain) {
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_ORTHOGONAL, .value = gain, .rows = rows};
    d.shape.rank = rank;
    for (int i = 0; i < rank; i++) d.shape.dims[i] = dims[i];
    return d;
}

static size_t elements_of(const oclinit_distribution *d) {
    uint64_t elements;
    assert_ok(oclinit_shape_get_elements(&d->shape, &elements));
    return (size_t)elements;
}

static float *make(oclinit_runtime_t runtime, const oclinit_distribution *d, uint64_t seed, uint64_t stream) {
    float *out = malloc(elements_of(d) * sizeof(float));
    assert_non_null(out);
    assert_ok(oi_orthogonal_make(runtime, d, seed, stream, out));
    return out;
}

/* max |B B^T - gain^2 I| / gain^2 over the short side of the (rows, columns) matrix B: its columns when it is tall,
 * its rows when it is wide. */
static double orthonormality_error(const float *b, size_t rows, size_t columns, double gain) {
    size_t k = rows < columns ? rows : columns, len = rows < columns ? columns : rows;
    double worst = 0;
    for (size_t p = 0; p < k; p++) {
        for (size_t q = 0; q <= p; q++) {
            double s = 0;
            for (size_t i = 0; i < len; i++)
                s += rows < columns ? (double)b[p * columns + i] * b[q * columns + i]
                                    : (double)b[i * columns + p] * b[i * columns + q];
            worst = fmax(worst, fabs(s / (gain * gain) - (p == q)));
        }
    }
    return worst;
}

static void columns_are_orthonormal(void **state) {
    (void)state;
    static const struct {
        int rank;
        int64_t dims[4], rows; /* rows: PyTorch's shape[0], Keras's prod(shape[:-1]) */
        float gain;
    } cases[] = {
        {2, {64, 64}, 64, 1},     {2, {37, 101}, 37, 1},     {2, {101, 37}, 101, 1.5f}, {4, {8, 3, 5, 5}, 8, 1},
        {4, {3, 3, 4, 8}, 36, 1}, {4, {5, 5, 3, 16}, 75, 2}, {2, {1, 1}, 1, 1},         {2, {50, 1}, 50, 1},
        {2, {1, 50}, 1, 1},       {2, {300, 200}, 300, 1}, /* several panels and column groups */
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        oclinit_distribution d = orthogonal(cases[c].rank, cases[c].dims, cases[c].rows, cases[c].gain);
        float *q = make(NULL, &d, 42, 3);
        size_t rows = (size_t)cases[c].rows, columns = elements_of(&d) / rows;
        double error = orthonormality_error(q, rows, columns, cases[c].gain);
        print_message("orthogonal (%zu, %zu) gain %g: max |Q^T Q - I| = %.3g\n", rows, columns, cases[c].gain, error);
        assert_true(error < 2.5e-7); /* the QR in double: float32's rounding of Q only (a float QR: ~1e-6) */
        free(q);
    }
}

/* The matrix factored is A (tall) or A^T (wide), Q the result or its transpose: R = Q^T A or Q A^T is upper
 * triangular with a positive diagonal, as q *= sign(diag(r)) leaves it. */
static void r_has_positive_diagonal(void **state) {
    (void)state;
    static const int64_t shapes[][2] = {{64, 64}, {101, 37}, {37, 101}, {300, 200}};
    for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++) {
        oclinit_distribution d = orthogonal(2, shapes[c], shapes[c][0], 1);
        oclinit_distribution normal = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .std = 1, .shape = d.shape};
        size_t rows = (size_t)shapes[c][0], columns = (size_t)shapes[c][1];
        bool wide = rows < columns;
        size_t k = wide ? rows : columns, len = wide ? columns : rows;
        float *q = make(NULL, &d, 7, 0), *a = malloc(rows * columns * sizeof(float));
        assert_ok(oclinit_init_fill_host(NULL, &normal, 7, 0, 0, rows * columns, a));
        double below = 0, smallest_diagonal = INFINITY;
        for (size_t p = 0; p < k; p++) {
            for (size_t s = 0; s <= p; s++) { /* R[p][s], on or below the diagonal */
                double r = 0;
                for (size_t i = 0; i < len; i++)
                    r += wide ? (double)q[p * columns + i] * a[s * columns + i]
                              : (double)q[i * columns + p] * a[i * columns + s];
                if (s == p)
                    smallest_diagonal = fmin(smallest_diagonal, r);
                else
                    below = fmax(below, fabs(r));
            }
        }
        print_message("(%zu, %zu): max |R below the diagonal| = %.3g, smallest R[i][i] = %.3g\n", rows, columns, below,
                      smallest_diagonal);
        assert_true(below < 1e-6);
        assert_true(smallest_diagonal > 1e-3);
        free(a);
        free(q);
    }
}

/* A single column or row is the normal scheme's tensor, (seed, stream) alike, divided by its norm. */
static void input_is_the_normal_tensor(void **state) {
    (void)state;
    static const int64_t shapes[][2] = {{50, 1}, {1, 50}};
    for (size_t c = 0; c < 2; c++) {
        oclinit_distribution d = orthogonal(2, shapes[c], shapes[c][0], 1);
        oclinit_distribution normal = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .std = 1, .shape = d.shape};
        float a[50], *q = make(NULL, &d, 11, 5), *other = make(NULL, &d, 11, 6);
        assert_ok(oclinit_init_fill_host(NULL, &normal, 11, 5, 0, 50, a));
        double norm = 0;
        for (int i = 0; i < 50; i++) norm += (double)a[i] * a[i];
        norm = sqrt(norm);
        for (int i = 0; i < 50; i++) assert_true(fabs(q[i] - a[i] / norm) < 1e-7);
        assert_true(memcmp(q, other, sizeof a) != 0); /* the stream matters */
        free(other);
        free(q);
    }
}

/* The device draws the normal tensor with the host's bits, so the whole result is the same. */
static void device_equals_host(void **state) {
    (void)state;
    static const struct {
        int rank;
        int64_t dims[4], rows;
    } cases[] = {{2, {37, 101}, 37}, {2, {101, 37}, 101}, {4, {3, 5, 7, 11}, 3}, {4, {3, 5, 7, 11}, 105}};
    oclinit_runtime_t rt = test_device(0);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        oclinit_distribution d = orthogonal(cases[c].rank, cases[c].dims, cases[c].rows, 1.25f);
        float *host = make(NULL, &d, 1234, 9), *device = make(rt, &d, 1234, 9);
        assert_int_equal(first_difference(host, device, elements_of(&d), "device against host"), -1);
        free(device);
        free(host);
    }
    oclinit_runtime_free(rt);
}

/* Columns are shared out between threads, each column's arithmetic stays the same. */
static void threads_give_the_same_bits(void **state) {
    (void)state;
    static const int64_t shapes[][2] = {{301, 157}, {157, 301}, {96, 96}};
    int threads = omp_get_max_threads();
    for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++) {
        oclinit_distribution d = orthogonal(2, shapes[c], shapes[c][0], 1);
        omp_set_num_threads(1);
        float *one = make(NULL, &d, 5, 0);
        for (int t = 2; t <= 3; t++) {
            omp_set_num_threads(t);
            float *several = make(NULL, &d, 5, 0);
            assert_int_equal(first_difference(one, several, elements_of(&d), "threads against one thread"), -1);
            free(several);
        }
        free(one);
    }
    omp_set_num_threads(threads);
}

/* out = (float)(gain q) of the same q in double, so powers of two and -1 scale it exactly. */
static void gain_scales_exactly(void **state) {
    (void)state;
    static const float gains[] = {2, 0.5f, -1};
    const int64_t dims[] = {40, 3, 3};
    oclinit_distribution d = orthogonal(3, dims, 40, 1);
    float *one = make(NULL, &d, 3, 1);
    for (size_t g = 0; g < sizeof gains / sizeof *gains; g++) {
        d.value = gains[g];
        float *scaled = make(NULL, &d, 3, 1);
        for (size_t i = 0; i < elements_of(&d); i++) assert_true(scaled[i] == gains[g] * one[i]);
        free(scaled);
    }
    free(one);
}

/* Through the public API: oclinit_scheme_resolve_shape's rows for either convention, then oclinit_init_fill_host
 * (whole or a slice, host or device) and oclinit_init_fill_buffer give oi_orthogonal_make's tensor. */
static void public_api_gives_the_same_tensor(void **state) {
    (void)state;
    oclinit_shape shape = {4, {6, 4, 3, 5}};
    const size_t elements = 6 * 4 * 3 * 5, first = 17, count = 200;
    oclinit_runtime_t rt = test_device(0);
    for (int keras = 0; keras <= 1; keras++) {
        oclinit_scheme scheme = oclinit_scheme_default(OCLINIT_SCHEME_ORTHOGONAL);
        scheme.gain = 0.75;
        scheme.convention = keras ? OCLINIT_CONVENTION_KERAS : OCLINIT_CONVENTION_PYTORCH;
        oclinit_distribution d;
        assert_ok(oclinit_scheme_resolve_shape(&scheme, &shape, &d));
        assert_int_equal(d.kind, OCLINIT_DISTRIBUTION_ORTHOGONAL);
        assert_int_equal(d.rows, keras ? 6 * 4 * 3 : 6);
        assert_true(d.value == 0.75f);
        float *direct = make(NULL, &d, 21, 2), whole[6 * 4 * 3 * 5], slice[200], device[6 * 4 * 3 * 5];
        assert_ok(oclinit_init_fill_host(NULL, &d, 21, 2, 0, elements, whole));
        assert_int_equal(first_difference(direct, whole, elements, "fill_host against oi_orthogonal_make"), -1);
        assert_ok(oclinit_init_fill_host(rt, &d, 21, 2, first, count, slice));
        assert_int_equal(first_difference(direct + first, slice, count, "a device slice against the whole"), -1);
        cl_mem buffer = test_buffer(rt, sizeof device, NULL);
        assert_ok(oclinit_init_fill_buffer(rt, &d, 21, 2, 0, elements, buffer, 0));
        assert_int_equal(clEnqueueReadBuffer(oclinit_runtime_get_queue(rt), buffer, CL_TRUE, 0, sizeof device, device,
                                             0, NULL, NULL),
                         CL_SUCCESS);
        assert_int_equal(first_difference(direct, device, elements, "fill_buffer against oi_orthogonal_make"), -1);
        clReleaseMemObject(buffer);
        free(direct);
    }
    oclinit_runtime_free(rt);
}

static void rejects_bad_arguments(void **state) {
    (void)state;
    const int64_t dims[] = {6, 5}, huge[] = {(int64_t)1 << 20, (int64_t)1 << 20};
    float out[30];
    oclinit_distribution d = orthogonal(2, dims, 6, 1);
    assert_int_equal(oi_orthogonal_make(NULL, &d, 0, 0, NULL), OCLINIT_ERROR_INVALID_ARGUMENT);
    d.rows = 7; /* does not divide 30 */
    assert_int_equal(oi_orthogonal_make(NULL, &d, 0, 0, out), OCLINIT_ERROR_INVALID_ARGUMENT);
    d.rows = 0;
    assert_int_equal(oi_orthogonal_make(NULL, &d, 0, 0, out), OCLINIT_ERROR_INVALID_ARGUMENT);
    d = orthogonal(2, dims, 6, 1);
    d.kind = OCLINIT_DISTRIBUTION_NORMAL;
    assert_int_equal(oi_orthogonal_make(NULL, &d, 0, 0, out), OCLINIT_ERROR_INVALID_ARGUMENT);
    d = orthogonal(2, dims, 6, NAN);
    assert_int_equal(oi_orthogonal_make(NULL, &d, 0, 0, out), OCLINIT_ERROR_INVALID_ARGUMENT);
    /* 8 TiB of doubles: refused before out is touched. */
    d = orthogonal(2, huge, huge[0], 1);
    assert_int_equal(oi_orthogonal_make(NULL, &d, 0, 0, out), OCLINIT_ERROR_OUT_OF_HOST_MEMORY);
    assert_non_null(strstr(oclinit_error_get_detail(), "memory"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(columns_are_orthonormal),          cmocka_unit_test(r_has_positive_diagonal),
        cmocka_unit_test(input_is_the_normal_tensor),       cmocka_unit_test(device_equals_host),
        cmocka_unit_test(threads_give_the_same_bits),       cmocka_unit_test(gain_scales_exactly),
        cmocka_unit_test(public_api_gives_the_same_tensor), cmocka_unit_test(rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
