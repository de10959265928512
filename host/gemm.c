/* Matrix products on a device: CLBlast's SGEMM, with K in chunks where tuning found that faster.
 *
 * On PoCL here a product whose K is 2048 runs at half the speed of two products of K = 1024 added up, likely
 * because the panels of A and B a work-group streams through outgrow the CPU's TLB and caches; CLBlast's kernel
 * has no K blocking of its own, so oclinit splits K when the device's cache file says so (`oclinit tune`). */

#include <clblast_c.h>

#include "internal.h"

oclinit_status oi_sgemm(oclinit_runtime_t rt, const oclinit_gemm_shape *s, cl_mem a, size_t a_offset, size_t lda,
                        cl_mem b, size_t b_offset, size_t ldb, cl_mem c, size_t c_offset, size_t ldc, size_t *calls) {
    size_t chunk = rt->gemm_k_chunk && rt->gemm_k_chunk < s->k ? rt->gemm_k_chunk : s->k;
    CLBlastStatusCode code = CLBlastSuccess;
    for (size_t k0 = 0; k0 < s->k && code == CLBlastSuccess; k0 += chunk) {
        /* Columns k0.. of op(A) and rows k0.. of op(B), added onto C after the first chunk. */
        size_t k = s->k - k0 < chunk ? s->k - k0 : chunk;
        size_t a_at = a_offset + (s->transpose_a ? k0 * lda : k0), b_at = b_offset + (s->transpose_b ? k0 : k0 * ldb);
        code = CLBlastSgemm(CLBlastLayoutRowMajor, s->transpose_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                            s->transpose_b ? CLBlastTransposeYes : CLBlastTransposeNo, s->m, s->n, k, 1.0f, a, a_at,
                            lda, b, b_at, ldb, k0 ? 1.0f : 0.0f, c, c_offset, ldc, &rt->queue, NULL);
        if (calls) (*calls)++;
    }
    if (code == CLBlastSuccess) return OCLINIT_SUCCESS;
    if (code > -1000) /* CLBlast passes OpenCL's own errors (out of memory, ...) through with their numbers */
        return oi_fail((oclinit_status)code, "CLBlast SGEMM %zu x %zu x %zu on %s: %s", s->m, s->n, s->k, rt->info.name,
                       oclinit_status_str((oclinit_status)code));
    return oi_fail(OCLINIT_ERROR_BLAS, "CLBlast SGEMM %zu x %zu x %zu on %s returned %d", s->m, s->n, s->k,
                   rt->info.name, (int)code);
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
