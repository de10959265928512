/* The blas layer: matrix products on a device (CLBlast) and on the host (OpenBLAS), and CLBlast's tuning. Uses
 * core and io. */
#ifndef OCLINIT_BLAS_H
#define OCLINIT_BLAS_H

#include "io/io.h"

/* C (m x n) = op(A) op(B), row-major, op transposing when asked. */
typedef struct oi_gemm_shape {
    size_t m, n, k;
    bool transpose_a, transpose_b;
} oi_gemm_shape;

/* C (m x n, ldc) = op(A) op(B) with OpenBLAS, row-major, on all cores. */
void oi_gemm_host(const oi_gemm_shape *shape, const float *a, size_t lda, const float *b, size_t ldb, float *c,
                  size_t ldc);

/* The kernels OpenBLAS chose for this CPU when it loaded ("SkylakeX", "Haswell", ...; its openblas_get_corename). */
const char *oi_gemm_host_kernels(void);

/* Which kernels to ask OpenBLAS for (OPENBLAS_CORETYPE) when it runs ones older than AVX2 on a CPU with AVX2 and
 * FMA, or AVX-512: an OpenBLAS older than the CPU (Debian 12's 0.3.21 on Emerald Rapids) falls back to its SSE3
 * "Prescott" kernels, several times slower. "SkylakeX" or "Haswell", or NULL when what runs is fine. */
const char *oi_gemm_host_kernels_for(const char *running, bool avx2_fma, bool avx512);

/* oi_gemm_host_kernels_for this CPU and the kernels running. */
const char *oi_gemm_host_better_kernels(void);

/* The same on the runtime's device at element offsets, with CLBlast on its queue: SGEMV for a product with one row
 * or one contiguous column, else SGEMM with K split by the tuned panel budget. The device's tuning cache file is
 * applied before its first product. Adds the CLBlast calls enqueued to *calls when calls is not NULL. */
oclinit_status oi_gemm_device(oclinit_runtime_t runtime, const oi_gemm_shape *shape, cl_mem a, size_t a_offset,
                              size_t lda, cl_mem b, size_t b_offset, size_t ldb, cl_mem c, size_t c_offset, size_t ldc,
                              size_t *calls);

/* Leading dimensions of contiguous row-major operands: A is m x k (k x m transposed), B k x n (n x k). */
size_t oi_gemm_lda(const oi_gemm_shape *shape);
size_t oi_gemm_ldb(const oi_gemm_shape *shape);

/* oi_gemm_device on contiguous operands, arguments checked (OCLINIT_ERROR_NOT_SUPPORTED on the host C path). */
oclinit_status oi_gemm_device_packed(oclinit_runtime_t runtime, const oi_gemm_shape *shape, cl_mem a, cl_mem b,
                                     cl_mem c);

/* The shapes tuning times (OCLINIT_TUNING_SHAPES of them). */
const oi_gemm_shape *oi_tuning_shapes(void);

/* What tuning derives its starting points from: the device's own report (clGetDeviceInfo). */
typedef struct oi_tuning_device {
    bool gpu;                    /* CL_DEVICE_TYPE_GPU or _ACCELERATOR: many work-items in lock step */
    size_t preferred_width;      /* CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT */
    size_t native_width;         /* CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT: the hardware's, 0 when not reported */
    size_t local_memory;         /* CL_DEVICE_LOCAL_MEM_SIZE, bytes */
    bool local_memory_dedicated; /* CL_DEVICE_LOCAL_MEM_TYPE is CL_LOCAL (not emulated in global memory) */
    size_t compute_units, max_group;
} oi_tuning_device;

/* Parameters of CLBlast's Xgemm kernel, in the order GEMMK, KREG, KWG, KWI, MDIMA, MDIMC, MWG, NDIMB, NDIMC, NWG,
 * SA, SB, STRM, STRN, VWM, VWN. */
enum { OI_XGEMM_PARAMETERS = 16, OI_TUNING_MAX_SEEDS = 4 };
typedef struct oi_xgemm_config {
    size_t v[OI_XGEMM_PARAMETERS];
} oi_xgemm_config;

/* The starting points of the search for a device, best guess first, each valid on it; returns how many (>= 1). */
size_t oi_tuning_seeds(const oi_tuning_device *device, oi_xgemm_config seeds[OI_TUNING_MAX_SEEDS]);

/* "Xgemm GEMMK=0 KREG=1 ...", as the cache file holds it. */
void oi_xgemm_config_text(const oi_xgemm_config *config, char *text, size_t size);

/* What blas keeps per runtime (core's oi_runtime_state): the tuning applied before the first product. */
typedef struct oi_blas_state {
    bool loaded;                 /* the cache file was read (once, before the first product) */
    oclinit_tuning_state tuning; /* what was done with it */
    char tuning_message[1536];
    size_t gemm_panel; /* K is split so that a product's panels of A and B, (m + n) x chunk floats, stay within
                          this many floats (0: never split) */
} oi_blas_state;

/* The runtime's blas state, with the device's cache file applied on the first call. */
oclinit_status oi_blas_state_get(oclinit_runtime_t runtime, oi_blas_state **state);

#endif
