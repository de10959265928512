/* Matrix products on a device: CLBlast's SGEMM, with K in chunks that fit the caches once the device is tuned,
 * and its SGEMV for products with one row or one column.
 *
 * CLBlast's kernel has no K blocking of its own: each column of work-groups sweeps op(A) and op(B) over the
 * whole of K, and once those panels, (m + n) x K floats, outgrow what the CPU's caches keep, every column reads
 * them from memory again. On PoCL here 2048^3 ran at 45-50 GFLOP/s in one piece, 70-100 in chunks of K = 1024
 * and 130-150 in chunks of 512; 1024 x 1024 x 2048 at 55-75 whole and 130-160 in two halves, while 1024^3 was
 * as fast whole. So oclinit splits K into the fewest equal chunks whose panels fit the budget that `oclinit
 * tune` chose for the device (runtime->gemm_panel: 2^20 or 2^21 floats here), and adds the partial products up.
 *
 * oclinit's matrices are row-major, yet it asks CLBlast for the column-major product C^T = op(B)^T op(A)^T, which
 * is the same memory: CLBlast's kernel writes C column-major, so a row-major call transposes C into a scratch
 * buffer and back around every product. Skipping those copies made the network's products 5-28 % faster on
 * PoCL here, with bit-identical results. */

#include <clblast_c.h>

#include "internal.h"

static oclinit_status sgemm_failed(oclinit_runtime_t rt, const oclinit_gemm_shape *s, CLBlastStatusCode code) {
    if (code > -1000) /* CLBlast passes OpenCL's own errors (out of memory, ...) through with their numbers */
        return oi_fail((oclinit_status)code, "CLBlast SGEMM %zu x %zu x %zu on %s: %s", s->m, s->n, s->k, rt->info.name,
                       oclinit_status_str((oclinit_status)code));
    return oi_fail(OCLINIT_ERROR_BLAS, "CLBlast SGEMM %zu x %zu x %zu on %s returned %d", s->m, s->n, s->k,
                   rt->info.name, (int)code);
}

/* A product with one row, or one column stored contiguously, as CLBlast's GEMV: 1.4-5x faster than its GEMM
 * on PoCL here at every size the network has, from the article's 300 x 5 to 2048 x 1024 (GEMM's kernels tile
 * both sides of C). GEMV reads y even with beta = 0, so C is cleared first (NaN there would stay NaN). */
static cl_int matrix_vector(oclinit_runtime_t rt, const oclinit_gemm_shape *s, cl_mem a, size_t a_offset, size_t lda,
                            cl_mem b, size_t b_offset, size_t ldb, cl_mem c, size_t c_offset) {
    const float zero = 0.0f;
    size_t length = s->n == 1 ? s->m : s->n;
    cl_int error = clEnqueueFillBuffer(rt->queue, c, &zero, sizeof zero, c_offset * sizeof(float),
                                       length * sizeof(float), 0, NULL, NULL);
    if (error != CL_SUCCESS) return error;
    if (s->n == 1) /* C = op(A) x, x the column of op(B) */
        return CLBlastSgemv(CLBlastLayoutRowMajor, s->transpose_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                            s->transpose_a ? s->k : s->m, s->transpose_a ? s->m : s->k, 1.0f, a, a_offset, lda, b,
                            b_offset, s->transpose_b ? 1 : ldb, 0.0f, c, c_offset, 1, &rt->queue, NULL);
    /* m == 1: C^T = op(B)^T x, x the row of op(A) */
    return CLBlastSgemv(CLBlastLayoutRowMajor, s->transpose_b ? CLBlastTransposeNo : CLBlastTransposeYes,
                        s->transpose_b ? s->n : s->k, s->transpose_b ? s->k : s->n, 1.0f, b, b_offset, ldb, a, a_offset,
                        s->transpose_a ? lda : 1, 0.0f, c, c_offset, 1, &rt->queue, NULL);
}

/* The length of K's chunks: the fewest equal ones whose panels fit rt->gemm_panel, rounded up to a multiple of 64
 * so that CLBlast need not pad K for its kernel's K tiles (the last chunk takes the rest). */
static size_t k_chunk(oclinit_runtime_t rt, const oclinit_gemm_shape *s) {
    if (!rt->gemm_panel) return s->k;
    size_t chunks = ((s->m + s->n) * s->k + rt->gemm_panel - 1) / rt->gemm_panel;
    size_t chunk = ((s->k + chunks - 1) / chunks + 63) / 64 * 64;
    return chunk < s->k ? chunk : s->k;
}

oclinit_status oi_sgemm(oclinit_runtime_t rt, const oclinit_gemm_shape *s, cl_mem a, size_t a_offset, size_t lda,
                        cl_mem b, size_t b_offset, size_t ldb, cl_mem c, size_t c_offset, size_t ldc, size_t *calls) {
    CLBlastStatusCode code = CLBlastSuccess;
    if (s->m == 1 || (s->n == 1 && ldc == 1)) {
        code = (CLBlastStatusCode)matrix_vector(rt, s, a, a_offset, lda, b, b_offset, ldb, c, c_offset);
        if (calls) (*calls)++; /* one kernel: the fill is no launch */
        return code == CLBlastSuccess ? OCLINIT_SUCCESS : sgemm_failed(rt, s, code);
    }
    size_t chunk = k_chunk(rt, s);
    for (size_t k0 = 0; k0 < s->k && code == CLBlastSuccess; k0 += chunk) {
        /* Columns k0.. of op(A) and rows k0.. of op(B), added onto C after the first chunk. */
        size_t k = s->k - k0 < chunk ? s->k - k0 : chunk;
        size_t a_at = a_offset + (s->transpose_a ? k0 * lda : k0), b_at = b_offset + (s->transpose_b ? k0 : k0 * ldb);
        code = CLBlastSgemm(CLBlastLayoutColMajor, s->transpose_b ? CLBlastTransposeYes : CLBlastTransposeNo,
                            s->transpose_a ? CLBlastTransposeYes : CLBlastTransposeNo, s->n, s->m, k, 1.0f, b, b_at,
                            ldb, a, a_at, lda, k0 ? 1.0f : 0.0f, c, c_offset, ldc, &rt->queue, NULL);
        if (calls) (*calls)++;
    }
    return code == CLBlastSuccess ? OCLINIT_SUCCESS : sgemm_failed(rt, s, code);
}

oclinit_status oclinit_runtime_sgemm(oclinit_runtime_t runtime, const oclinit_gemm_shape *shape, cl_mem a, cl_mem b,
                                     cl_mem c) {
    if (!runtime || !shape || !a || !b || !c)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "runtime, shape or a buffer is NULL");
    if (!runtime->device)
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED,
                       "the host C path has no device buffers; use OpenBLAS's cblas_sgemm");
    if (shape->m == 0 || shape->n == 0 || shape->k == 0)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "SGEMM of %zu x %zu x %zu: every size must be at least 1",
                       shape->m, shape->n, shape->k);
    return oi_sgemm(runtime, shape, a, 0, shape->transpose_a ? shape->m : shape->k, b, 0,
                    shape->transpose_b ? shape->k : shape->n, c, 0, shape->n, NULL);
}
