/* orthogonal: gain Q, Q from the QR factorization of a normal(0, 1) matrix with Q's columns signed by diag(R)
 * (torch.nn.init.orthogonal_, keras.initializers.Orthogonal).
 *
 * The tensor is viewed as a (rows, columns) matrix A; when rows < columns the factored matrix is A^T, so it is
 * always m x n with m >= n, held column-major in double. Householder QR as LAPACK's dgeqr2, then Q formed in
 * place as dorg2r; neither calls a BLAS, whose kernels differ from one CPU to the next. Every column goes through
 * the same arithmetic in the same order whatever the panel size, the thread that runs it, the number of threads
 * or the instruction set, so the result is the same bits on every machine:
 * - reflector k applied to a column x (rows k .. m-1): s = tau (v . x), then x_r = x_r - s v_r;
 * - every dot product v . x from row k: 8 partial sums, partial l adding the v_r x_r of the rows r = l mod 8 from
 *   row k down, combined as ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)); the 8 partials are one GCC
 *   vector (one AVX-512 register, two AVX2 ones or four SSE2 ones, every lane rounding as a scalar would; no fused
 *   multiply-add: CMakeLists.txt), and columns are padded with zero rows to a multiple of 8;
 * - the factorization applies reflectors 0, 1, ..., j-1 to column j, in that order;
 * - column j of Q starts as H_j e_j, then gets H_{j-1}, ..., H_0, in that order.
 * Panels only decide how long a column or a panel of reflectors stays in cache: each trailing column gets a whole
 * panel of reflectors while it is in cache, the columns of a group share each load of a reflector, and one pass
 * down a column does one reflector's update and the next one's dot product. Columns are independent, and that is
 * all the threads share out. Reflectors are applied one at a time (no blocked WY products: their order would
 * depend on the block size); Q is orthonormal to double precision before its rounding to float. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "features/features.h"

#define PANEL 32 /* reflectors per panel: 32 of 4096 doubles are 1 MiB, within a core's L2 */
#define GROUP 4  /* columns that share each load of a reflector */
#define TILE 64  /* side of the tiles the (rows, columns) <-> column-major copies go through */

typedef double oi_d8 __attribute__((vector_size(8 * sizeof(double))));

/* The whole factorization: the m x n matrix in w, column-major with ld (a multiple of 8) doubles per column whose
 * rows m .. ld-1 are zeros, its reflectors' tau and R's diagonal. */
typedef struct qr {
    double *w;
    size_t m, n, ld;
    double *tau, *beta;
} qr;

static inline double lanes_sum(const oi_d8 *p) {
    return (((*p)[0] + (*p)[1]) + ((*p)[2] + (*p)[3])) + (((*p)[4] + (*p)[5]) + ((*p)[6] + (*p)[7]));
}

/* One pass down count columns x + c ld (count <= GROUP, a constant after inlining) that does, row by row,
 * - when vu: the update by reflector vu (its column; rows from ku), x_r -= s[c] vu_r for r >= ku;
 * - when vd: the dot product of reflector vd (rows from kd) with the updated column, into dots[c].
 * Fusing the two saves a pass over the columns when one reflector follows another; the arithmetic is the same
 * as in two passes. The rows before the first whole block of 8 from max(ku, kd) go one by one into their lanes. */
static inline __attribute__((always_inline)) void sweep(const double *vu, size_t ku, const double *s, const double *vd,
                                                        size_t kd, double *x, size_t ld, const int count,
                                                        double *dots) {
    size_t lo = vu && (!vd || ku < kd) ? ku : kd, hi = vu && (!vd || ku > kd) ? ku : kd;
    size_t first = lo / 8 * 8, full = (hi + 7) / 8 * 8;
    oi_d8 acc[GROUP];
    for (int c = 0; c < count; c++) acc[c] = (oi_d8){0};
    for (size_t r = first; r < full; r++) {
        for (int c = 0; c < count; c++) {
            double *xc = x + (size_t)c * ld;
            if (vu && r >= ku) xc[r] -= s[c] * vu[r];
            if (vd && r >= kd) acc[c][r % 8] += vd[r] * xc[r];
        }
    }
    for (size_t r = full; r < ld; r += 8) {
        oi_d8 u = {0}, d = {0};
        if (vu) memcpy(&u, vu + r, sizeof u);
        if (vd) memcpy(&d, vd + r, sizeof d);
        for (int c = 0; c < count; c++) {
            oi_d8 b;
            memcpy(&b, x + (size_t)c * ld + r, sizeof b);
            if (vu) {
                b -= s[c] * u;
                memcpy(x + (size_t)c * ld + r, &b, sizeof b);
            }
            if (vd) acc[c] += d * b;
        }
    }
    if (vd)
        for (int c = 0; c < count; c++) dots[c] = lanes_sum(&acc[c]);
}

/* Reflectors first .. first + count - 1, in that order or the reverse when backward, applied to the columns
 * (a constant after inlining) from x: the first dot product alone, then each update fused with the next
 * reflector's dot product. */
static inline __attribute__((always_inline)) void reflect(const qr *f, size_t first, size_t count, bool backward,
                                                          double *x, const int columns) {
    double s[GROUP], dots[GROUP] = {0};
    size_t k = backward ? first + count - 1 : first;
    sweep(NULL, 0, NULL, f->w + k * f->ld, k, x, f->ld, columns, dots);
    for (size_t r = 1; r < count; r++) {
        size_t next = backward ? k - 1 : k + 1;
        for (int c = 0; c < columns; c++) s[c] = f->tau[k] * dots[c];
        sweep(f->w + k * f->ld, k, s, f->w + next * f->ld, next, x, f->ld, columns, dots);
        k = next;
    }
    for (int c = 0; c < columns; c++) s[c] = f->tau[k] * dots[c];
    sweep(f->w + k * f->ld, k, s, NULL, 0, x, f->ld, columns, dots);
}

/* Reflectors first .. first + count - 1 (in that order, or the reverse when backward) applied to columns
 * [begin, end) of the matrix, GROUP at a time. */
OI_HOST_CLONES static void apply_reflectors(const qr *f, size_t first, size_t count, bool backward, size_t begin,
                                            size_t end) {
    size_t j = begin;
    for (; j + GROUP <= end; j += GROUP) reflect(f, first, count, backward, f->w + j * f->ld, GROUP);
    for (; j < end; j++) reflect(f, first, count, backward, f->w + j * f->ld, 1);
}

/* The same on all cores: [begin, end) in groups of GROUP columns, one group per work item. */
static void apply_reflectors_parallel(const qr *f, size_t first, size_t count, bool backward, size_t begin,
                                      size_t end) {
    int64_t groups = (int64_t)((end - begin + GROUP - 1) / GROUP);
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t g = 0; g < groups; g++) {
        size_t from = begin + (size_t)g * GROUP;
        apply_reflectors(f, first, count, backward, from, from + GROUP < end ? from + GROUP : end);
    }
}

/* Reflector k from column k (rows k .. m-1), as LAPACK's dlarfg: v in place of the column below the diagonal and
 * 1 on it, tau[k], and beta[k] = R[k][k] = -sign(alpha) |x|, or alpha itself when nothing is below it. */
OI_HOST_CLONES static void make_reflector(qr *f, size_t k) {
    double *x = f->w + k * f->ld, alpha = x[k], sigma = 0;
    sweep(NULL, 0, NULL, x, k + 1, x, f->ld, 1, &sigma);
    x[k] = 1;
    if (sigma == 0) {
        f->tau[k] = 0;
        f->beta[k] = alpha;
        return;
    }
    double norm = sqrt(alpha * alpha + sigma);
    double beta = alpha >= 0 ? -norm : norm;
    double scale = 1 / (alpha - beta);
    for (size_t i = k + 1; i < f->m; i++) x[i] *= scale;
    f->tau[k] = (beta - alpha) / beta;
    f->beta[k] = beta;
}

/* Householder QR: reflectors into w's lower part and tau, R's diagonal into beta. Each panel is factored one
 * column at a time, then its reflectors go to every trailing column. */
static void factor(qr *f) {
    for (size_t first = 0; first < f->n; first += PANEL) {
        size_t last = first + PANEL < f->n ? first + PANEL : f->n;
        for (size_t k = first; k < last; k++) {
            make_reflector(f, k);
            apply_reflectors(f, k, 1, false, k + 1, last);
        }
        apply_reflectors_parallel(f, first, last - first, false, last, f->n);
    }
}

/* Q's n columns in place of the reflectors, panels from the last: the columns right of a panel get its
 * reflectors backward, then the panel's own columns are formed as LAPACK's dorg2r does. */
static void form_q(qr *f) {
    /* R's strict upper part becomes Q's zeros above each column's first reflector. */
#pragma omp parallel for schedule(static)
    for (int64_t j = 1; j < (int64_t)f->n; j++) memset(f->w + (size_t)j * f->ld, 0, (size_t)j * sizeof(double));
    for (size_t first = (f->n - 1) / PANEL * PANEL;; first -= PANEL) {
        size_t last = first + PANEL < f->n ? first + PANEL : f->n;
        apply_reflectors_parallel(f, first, last - first, true, last, f->n);
        for (size_t k = last; k-- > first;) {
            apply_reflectors(f, k, 1, false, k + 1, last);
            double *x = f->w + k * f->ld;
            for (size_t i = k + 1; i < f->m; i++) x[i] = -f->tau[k] * x[i];
            x[k] = 1 - f->tau[k];
        }
        if (first == 0) break;
    }
}

/* scale * x rounded to float (the only rounding of the result), for column j's scale. */
static inline float scaled(const double *scale, size_t j, double x) {
    return (float)(scale[j] * x);
}

oclinit_status oi_orthogonal_make(oclinit_runtime_t runtime, const oclinit_distribution *d, uint64_t seed,
                                  uint64_t stream, float *out) {
    oclinit_status status = OCLINIT_SUCCESS;
    qr f = {0};
    double *scale = NULL;
    uint64_t elements;
    size_t bytes;
    OI_REQUIRE(d, "distribution");
    OI_REQUIRE(out, "out");
    if (d->kind != OCLINIT_DISTRIBUTION_ORTHOGONAL)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "orthogonal: the distribution is %s",
                       oclinit_distribution_kind_str(d->kind));
    OI_CHECK(oclinit_shape_get_elements(&d->shape, &elements));
    if (d->rows < 1 || (uint64_t)d->rows > elements || elements % (uint64_t)d->rows != 0)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "orthogonal: %lld rows do not divide the tensor's %llu elements into a matrix",
                       (long long)d->rows, (unsigned long long)elements);
    if (!isfinite(d->value))
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "orthogonal: the gain must be finite, got %g", d->value);
    size_t rows = (size_t)d->rows, columns = (size_t)(elements / (uint64_t)d->rows);
    bool transposed = rows < columns; /* then the matrix factored is A^T, held column-major as A is row-major */
    f.m = transposed ? columns : rows;
    f.n = transposed ? rows : columns;
    f.ld = (f.m + 7) / 8 * 8;

    OI_CHECK(oi_size_bytes("orthogonal's matrix in double", f.ld, f.n, sizeof(double), &bytes));
    OI_CHECK(oi_host_memory_fits("orthogonal's matrix in double", bytes));
    f.w = aligned_alloc(64, bytes); /* bytes: whole columns of 64 */
    f.tau = malloc(f.n * sizeof(double));
    f.beta = malloc(f.n * sizeof(double));
    scale = malloc(f.n * sizeof(double));
    if (!f.w || !f.tau || !f.beta || !scale) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY,
                         "orthogonal: no memory for its %zu x %zu matrix in double (%zu bytes)", f.m, f.n, bytes);
        goto cleanup;
    }
    /* The normal(0, 1) tensor of the same shape and (seed, stream), drawn into out first. */
    oclinit_distribution normal = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 0, .std = 1, .shape = d->shape};
    OI_CHECK(oclinit_init_fill_host(runtime, &normal, seed, stream, 0, elements, out));
    size_t m = f.m, n = f.n, ld = f.ld;
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < (int64_t)n; j++) memset(f.w + (size_t)j * ld + m, 0, (ld - m) * sizeof(double));
    if (transposed) { /* column j of the matrix is row j of A */
#pragma omp parallel for schedule(static)
        for (int64_t j = 0; j < (int64_t)n; j++)
            for (size_t i = 0; i < m; i++) f.w[(size_t)j * ld + i] = out[(size_t)j * m + i];
    } else { /* column j of the matrix is column j of A: a transposition, tile by tile */
#pragma omp parallel for schedule(static)
        for (int64_t t = 0; t < (int64_t)((m + TILE - 1) / TILE); t++)
            for (size_t j0 = 0; j0 < n; j0 += TILE)
                for (size_t i = (size_t)t * TILE; i < m && i < (size_t)t * TILE + TILE; i++)
                    for (size_t j = j0; j < n && j < j0 + TILE; j++) f.w[j * ld + i] = out[i * n + j];
    }

    factor(&f);
    form_q(&f);

    /* Column j times gain sign(R[j][j]), sign(0) = 0 as torch.sign. */
    for (size_t j = 0; j < n; j++) scale[j] = (double)d->value * (f.beta[j] > 0 ? 1.0 : f.beta[j] < 0 ? -1.0 : 0.0);
    if (transposed) { /* row j of the result is column j of Q */
#pragma omp parallel for schedule(static)
        for (int64_t j = 0; j < (int64_t)n; j++)
            for (size_t i = 0; i < m; i++) out[(size_t)j * m + i] = scaled(scale, (size_t)j, f.w[(size_t)j * ld + i]);
    } else {
#pragma omp parallel for schedule(static)
        for (int64_t t = 0; t < (int64_t)((m + TILE - 1) / TILE); t++)
            for (size_t j0 = 0; j0 < n; j0 += TILE)
                for (size_t i = (size_t)t * TILE; i < m && i < (size_t)t * TILE + TILE; i++)
                    for (size_t j = j0; j < n && j < j0 + TILE; j++) out[i * n + j] = scaled(scale, j, f.w[j * ld + i]);
    }
cleanup:
    free(scale);
    free(f.beta);
    free(f.tau);
    free(f.w);
    return status;
}
