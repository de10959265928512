/* Matrix products: OpenBLAS on the host; on a device CLBlast's SGEMM, with K in chunks that fit the caches once
 * the device is tuned, and its SGEMV for products with one row or one column.
 *
 * CLBlast's kernel has no K blocking of its own: each column of work-groups sweeps op(A) and op(B) over the whole
 * of K, and once those panels, (m + n) x K floats, outgrow the CPU's caches, every column reads them from memory
 * again. So oclinit splits K into the fewest equal chunks whose panels fit the budget that `oclinit tune` chose for
 * the device, and adds the partial products up (bench/README.md has the measurements).
 *
 * oclinit's matrices are row-major, yet it asks CLBlast for the column-major product C^T = op(B)^T op(A)^T, which
 * is the same memory: a row-major call would transpose C into a scratch buffer and back around every product. */

#include <cblas.h>
#include <clblast_c.h>
#include <strings.h>

#include "blas/blas.h"

static oclinit_status sgemm_failed(oclinit_runtime_t rt, const oi_gemm_shape *s, CLBlastStatusCode code) {
    if (code > -1000) /* CLBlast passes OpenCL's own errors (out of memory, ...) through with their numbers */
        return oi_fail((oclinit_status)code, "CLBlast SGEMM %zu x %zu x %zu on %s: %s", s->m, s->n, s->k, rt->info.name,
                       oclinit_status_str((oclinit_status)code));
    return oi_fail(OCLINIT_ERROR_BLAS, "CLBlast SGEMM %zu x %zu x %zu on %s returned %d", s->m, s->n, s->k,
                   rt->info.name, (int)code);
}

/* A product with one row, or one column stored contiguously, as CLBlast's GEMV, which is faster than its GEMM
 * there (GEMM's kernels tile both sides of C). GEMV reads y even with beta = 0, so C is cleared first (NaN there
 * would stay NaN). */
static cl_int matrix_vector(oclinit_runtime_t rt, const oi_gemm_shape *s, cl_mem a, size_t a_offset, size_t lda,
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

/* The length of K's chunks: the fewest equal ones whose panels fit the panel budget, rounded up to a multiple of 64
 * so that CLBlast need not pad K for its kernel's K tiles (the last chunk takes the rest). */
static size_t k_chunk(size_t panel, const oi_gemm_shape *s) {
    if (!panel) return s->k;
    size_t chunks = ((s->m + s->n) * s->k + panel - 1) / panel;
    size_t chunk = ((s->k + chunks - 1) / chunks + 63) / 64 * 64;
    return chunk < s->k ? chunk : s->k;
}

void oi_gemm_host(const oi_gemm_shape *s, const float *a, size_t lda, const float *b, size_t ldb, float *c,
                  size_t ldc) {
    cblas_sgemm(CblasRowMajor, s->transpose_a ? CblasTrans : CblasNoTrans, s->transpose_b ? CblasTrans : CblasNoTrans,
                (int)s->m, (int)s->n, (int)s->k, 1.0f, a, (int)lda, b, (int)ldb, 0.0f, c, (int)ldc);
}

const char *oi_gemm_host_kernels(void) {
    return openblas_get_corename();
}

const char *oi_gemm_host_kernels_for(const char *running, bool avx2_fma, bool avx512) {
    /* OpenBLAS's x86-64 kernels for AVX2 and later (Excavator's only on AMD's family 15h, which it knows). */
    static const char *const modern[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", "Excavator"};
    for (size_t i = 0; running && i < OI_COUNT(modern); i++)
        if (strcasecmp(running, modern[i]) == 0) return NULL;
    return avx512 ? "SkylakeX" : avx2_fma ? "Haswell" : NULL;
}

const char *oi_gemm_host_better_kernels(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    /* SkylakeX's kernels use AVX-512 F, BW, VL and DQ (Knights Landing has F alone). */
    bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    return oi_gemm_host_kernels_for(oi_gemm_host_kernels(),
                                    __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), avx512);
#else
    return NULL;
#endif
}

oclinit_status oi_gemm_device(oclinit_runtime_t rt, const oi_gemm_shape *s, cl_mem a, size_t a_offset, size_t lda,
                              cl_mem b, size_t b_offset, size_t ldb, cl_mem c, size_t c_offset, size_t ldc,
                              size_t *calls) {
    CLBlastStatusCode code = CLBlastSuccess;
    oi_blas_state *state;
    oclinit_status status = oi_blas_state_get(rt, &state);
    if (status != OCLINIT_SUCCESS) return status;
    if (s->m == 1 || (s->n == 1 && ldc == 1)) {
        code = (CLBlastStatusCode)matrix_vector(rt, s, a, a_offset, lda, b, b_offset, ldb, c, c_offset);
        if (calls) (*calls)++; /* one kernel: the fill is no launch */
        return code == CLBlastSuccess ? OCLINIT_SUCCESS : sgemm_failed(rt, s, code);
    }
    size_t chunk = k_chunk(state->gemm_panel, s);
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

size_t oi_gemm_lda(const oi_gemm_shape *s) {
    return s->transpose_a ? s->m : s->k;
}

size_t oi_gemm_ldb(const oi_gemm_shape *s) {
    return s->transpose_b ? s->k : s->n;
}

oclinit_status oi_gemm_device_packed(oclinit_runtime_t runtime, const oi_gemm_shape *shape, cl_mem a, cl_mem b,
                                     cl_mem c) {
    if (!runtime || !shape || !a || !b || !c)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "runtime, shape or a buffer is NULL");
    if (oi_runtime_on_host(runtime))
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "the host C path has no device buffers; use oi_gemm_host");
    if (shape->m == 0 || shape->n == 0 || shape->k == 0)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "SGEMM of %zu x %zu x %zu: every size must be at least 1",
                       shape->m, shape->n, shape->k);
    return oi_gemm_device(runtime, shape, a, 0, oi_gemm_lda(shape), b, 0, oi_gemm_ldb(shape), c, 0, shape->n, NULL);
}
