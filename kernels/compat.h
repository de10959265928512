/* Portability layer for code that compiles both as C11 (host) and as OpenCL C 1.2 (device).
 *
 * The shared headers (philox.h, floatmath.h, distributions.h, normalize.h) are written once over "lanes": in
 * a kernel a lane type is an OpenCL vector of OI_LANES elements, because PoCL does not vectorize this code
 * across work-items by itself (scalar lanes run several times slower there); on the host it is a
 * scalar, or a GCC vector where a file asks for one (OI_HOST_LANES). Lanes never interact, so every lane
 * computes exactly what the scalar code computes.
 *
 * Rules that keep all sides identical: float arithmetic only through + - * (each correctly rounded),
 * conversions and bit operations that are exact, no contraction into fused multiply-add (FP_CONTRACT OFF
 * here, -ffp-contract=off on the host in CMakeLists.txt), per-lane choices through oi_select with a
 * comparison as condition (a vector comparison yields -1 in the lanes where it holds), and scalars made into
 * lanes with oi_splat_f / oi_splat_wide. */
#ifndef OCLINIT_COMPAT_H
#define OCLINIT_COMPAT_H

#if defined(__OPENCL_VERSION__)
#define OI_DEVICE 1
#else
#define OI_DEVICE 0
#endif

#if OI_DEVICE

#pragma OPENCL FP_CONTRACT OFF
typedef uint oi_u32;
typedef ulong oi_u64;
#define OI_INLINE static inline
/* Before a loop whose trip count is a constant: PoCL runs a work-group as a loop over its work-items and splits
 * that loop around such loops, saving each work-item's live vectors to an array for the whole work-group (256
 * bytes per work-item around the Philox rounds); unrolled, the loop stays in registers and the init kernels run
 * 1.3-1.6x faster on PoCL (bench/README.md). */
#define OI_UNROLLED _Pragma("unroll")
#define OI_CONST __constant
#define OI_GLOBAL __global

#ifndef OI_LANES
#define OI_LANES 16
#endif
#if OI_LANES == 1
typedef ulong oi_wide;
typedef uint oi_uvec;
typedef int oi_ivec;
typedef float oi_fvec;
#define oi_wide_to_u32(x) ((uint)(x))
#define oi_u32_to_float(x) ((float)(x))
#define oi_i32_to_float(x) ((float)(x))
#define oi_fvec_bits(x) as_uint(x)
#define oi_bits_fvec(x) as_float(x)
#define oi_uvec_as_ivec(x) as_int(x)
#define oi_load_lanes(p) (*(p))
#define oi_store_lanes(v, p) (*(p) = (v))
#else
#define OI_CAT_(a, b) a##b
#define OI_CAT(a, b) OI_CAT_(a, b)
typedef OI_CAT(ulong, OI_LANES) oi_wide;
typedef OI_CAT(uint, OI_LANES) oi_uvec;
typedef OI_CAT(int, OI_LANES) oi_ivec;
typedef OI_CAT(float, OI_LANES) oi_fvec;
#define oi_wide_to_u32(x) OI_CAT(convert_uint, OI_LANES)(x)
#define oi_u32_to_float(x) OI_CAT(convert_float, OI_LANES)(x)
#define oi_i32_to_float(x) OI_CAT(convert_float, OI_LANES)(x)
#define oi_fvec_bits(x) OI_CAT(as_uint, OI_LANES)(x)
#define oi_bits_fvec(x) OI_CAT(as_float, OI_LANES)(x)
#define oi_uvec_as_ivec(x) OI_CAT(as_int, OI_LANES)(x)
/* OI_LANES consecutive floats at p (any float alignment) */
#define oi_load_lanes(p) OI_CAT(vload, OI_LANES)(0, (p))
#define oi_store_lanes(v, p) OI_CAT(vstore, OI_LANES)((v), 0, (p))
#endif
/* Per-lane choice between floats, and a float or 64-bit value in every lane (OpenCL C does both itself). */
#define oi_select(condition, a, b) ((condition) ? (a) : (b))
#define oi_splat_f(x) ((oi_fvec)(x))
#define oi_splat_wide(x) ((oi_wide)(x))
/* The 32 x 32 -> 64-bit product of x's low half and m (< 2^32) in every lane; LLVM makes it one multiply. */
OI_INLINE oi_wide oi_mul_low32(oi_wide x, ulong m) {
    return (x & 0xFFFFFFFFul) * m;
}

#else

#include <float.h>
#include <stdint.h>
#include <string.h>
#if FLT_EVAL_METHOD != 0
#error "oclinit needs float arithmetic evaluated in float (FLT_EVAL_METHOD 0), e.g. SSE on x86-64"
#endif
#if defined(__FAST_MATH__)
#error "oclinit's shared float math must not be compiled with -ffast-math"
#endif
typedef uint32_t oi_u32;
typedef uint64_t oi_u64;
#define OI_INLINE static inline
#define OI_UNROLLED /* PoCL's concern only (above) */
#define OI_CONST static const
#define OI_GLOBAL
/* The host twins' vector loops, compiled for AVX-512, AVX2 and plain x86-64 and picked at load time (init's twin
 * is compiled once per ISA instead, for oi_mul_low32 below); flatten inlines the lane helpers into each clone.
 * Clang (the fuzz build) cannot combine the two, and gets plain code. */
#if defined(__clang__)
#define OI_HOST_CLONES
#else
#define OI_HOST_CLONES __attribute__((target_clones("avx512f", "avx2", "default"), flatten))
#endif

/* A host file may set OI_HOST_LANES before including this header to run the lanes as GCC vectors (the host
 * twins in host/features do); the default is scalars. C has no ?: on vectors, hence oi_select. */
#ifndef OI_HOST_LANES
#define OI_HOST_LANES 1
#endif
#define OI_LANES OI_HOST_LANES

#if OI_HOST_LANES == 1
typedef uint64_t oi_wide;
typedef uint32_t oi_uvec;
typedef int32_t oi_ivec;
typedef float oi_fvec;
#define oi_wide_to_u32(x) ((uint32_t)(x))
#define oi_u32_to_float(x) ((float)(x))
#define oi_i32_to_float(x) ((float)(x))
#define oi_uvec_as_ivec(x) ((int32_t)(x))
#define oi_select(condition, a, b) ((condition) ? (a) : (b))
#define oi_splat_f(x) ((float)(x))
#define oi_splat_wide(x) ((uint64_t)(x))

static inline uint32_t oi_fvec_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float oi_bits_fvec(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}
#else
typedef uint64_t oi_wide __attribute__((vector_size(8 * OI_HOST_LANES)));
typedef uint32_t oi_uvec __attribute__((vector_size(4 * OI_HOST_LANES)));
typedef int32_t oi_ivec __attribute__((vector_size(4 * OI_HOST_LANES)));
typedef float oi_fvec __attribute__((vector_size(4 * OI_HOST_LANES)));
#define oi_wide_to_u32(x) __builtin_convertvector((x), oi_uvec)
#define oi_u32_to_float(x) __builtin_convertvector((x), oi_fvec)
#define oi_i32_to_float(x) __builtin_convertvector((x), oi_fvec)
#define oi_uvec_as_ivec(x) ((oi_ivec)(x))
#define oi_fvec_bits(x) ((oi_uvec)(x))
#define oi_bits_fvec(x) ((oi_fvec)(x))
/* condition is a comparison's result: all ones or all zeros per lane */
#define oi_select(condition, a, b) ((oi_fvec)(((oi_ivec)(a) & (condition)) | ((oi_ivec)(b) & ~(condition))))
/* x - 0 rather than 0 + x: it keeps the sign of -0 */
#define oi_splat_f(x) ((float)(x) - (oi_fvec){0})
#define oi_splat_wide(x) ((uint64_t)(x) + (oi_wide){0})
/* OI_LANES consecutive floats at p (any float alignment) */
static inline oi_fvec oi_load_lanes(const float *p) {
    oi_fvec v;
    memcpy(&v, p, sizeof v);
    return v;
}
#endif
#if OI_HOST_LANES == 1
#define oi_load_lanes(p) (*(p))
#endif

/* The 32 x 32 -> 64-bit product of x's low half and m (< 2^32) in every lane. GCC makes the plain expression on
 * vector lanes a full 64 x 64-bit product (three vpmuludq with shifts and adds), so a file compiled for AVX-512
 * or AVX2 (the twins' per-ISA objects, host/CMakeLists.txt) spells out the one-instruction product; the bits are
 * the same. Intrinsics need the ISA for the whole file: inside target_clones the default clone cannot take them. */
#if OI_HOST_LANES % 8 == 0 && defined(__AVX512F__)
#include <immintrin.h>
typedef __m512i oi_mul_part;
#define oi_mul_part_low32(a, m) _mm512_mul_epu32((a), _mm512_set1_epi64((long long)(m)))
#elif OI_HOST_LANES % 4 == 0 && defined(__AVX2__)
#include <immintrin.h>
typedef __m256i oi_mul_part;
#define oi_mul_part_low32(a, m) _mm256_mul_epu32((a), _mm256_set1_epi64x((long long)(m)))
#endif
#if defined(oi_mul_part_low32)
static inline oi_wide oi_mul_low32(oi_wide x, uint64_t m) {
    oi_mul_part parts[sizeof(oi_wide) / sizeof(oi_mul_part)];
    memcpy(parts, &x, sizeof parts);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) parts[i] = oi_mul_part_low32(parts[i], m);
    memcpy(&x, parts, sizeof x);
    return x;
}
#else
static inline oi_wide oi_mul_low32(oi_wide x, uint64_t m) {
    return (x & 0xFFFFFFFFul) * m;
}
#endif

#endif

#endif
