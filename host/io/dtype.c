/* Element types of checkpoint tensors: names, sizes, and float32 <-> float16 / bfloat16 conversions.
 * The conversions work on bit patterns with integer operations only (kernels/dtype.h, shared with the device), so
 * they round the same way whatever the compiler's floating-point options or the CPU's flush-to-zero mode, and each
 * loop is branch-free for the vectorizer. AVX512_BF16's instruction, used where it gives the same bits, ignores those
 * modes too. */
#include <string.h>

#include "io/io.h"

#define OI_DTYPE_WORD uint32_t
#include "dtype.h"

extern const char oi_kernel_dtype[];
static const oi_program program = {"kernels/dtype.cl", oi_kernel_dtype, 1};

/* The first name per value is safetensors' own (oclinit_dtype_str), the others what people type. */
static const name_entry dtype_names[] = {
    {"F32", OCLINIT_DTYPE_F32},
    {"float32", OCLINIT_DTYPE_F32},
    {"float", OCLINIT_DTYPE_F32},
    {"F16", OCLINIT_DTYPE_F16},
    {"float16", OCLINIT_DTYPE_F16},
    {"half", OCLINIT_DTYPE_F16},
    {"BF16", OCLINIT_DTYPE_BF16},
    {"bfloat16", OCLINIT_DTYPE_BF16},
    {"F64", OCLINIT_DTYPE_F64},
    {"float64", OCLINIT_DTYPE_F64},
    {"double", OCLINIT_DTYPE_F64},
    {"I64", OCLINIT_DTYPE_I64},
    {"int64", OCLINIT_DTYPE_I64},
    {"I32", OCLINIT_DTYPE_I32},
    {"int32", OCLINIT_DTYPE_I32},
    {"I16", OCLINIT_DTYPE_I16},
    {"int16", OCLINIT_DTYPE_I16},
    {"I8", OCLINIT_DTYPE_I8},
    {"int8", OCLINIT_DTYPE_I8},
    {"U64", OCLINIT_DTYPE_U64},
    {"uint64", OCLINIT_DTYPE_U64},
    {"U32", OCLINIT_DTYPE_U32},
    {"uint32", OCLINIT_DTYPE_U32},
    {"U16", OCLINIT_DTYPE_U16},
    {"uint16", OCLINIT_DTYPE_U16},
    {"U8", OCLINIT_DTYPE_U8},
    {"uint8", OCLINIT_DTYPE_U8},
    {"BOOL", OCLINIT_DTYPE_BOOL},
    {"bool", OCLINIT_DTYPE_BOOL},
    {"F8_E4M3", OCLINIT_DTYPE_F8_E4M3},
    {"float8_e4m3fn", OCLINIT_DTYPE_F8_E4M3},
    {"F8_E5M2", OCLINIT_DTYPE_F8_E5M2},
    {"float8_e5m2", OCLINIT_DTYPE_F8_E5M2},
};

OI_NAMED_ENUM(oclinit_dtype, dtype_names, "dtype")

bool oi_dtype_from_safetensors(const char *name, oclinit_dtype *dtype) {
    /* A file's dtype is matched exactly, as safetensors does: "f32" or "float32" there is a malformed header. */
    for (size_t i = 0; i < OI_COUNT(dtype_names); i++) {
        if (strcmp(dtype_names[i].name, name) == 0 && strcmp(oclinit_dtype_str(dtype_names[i].value), name) == 0) {
            *dtype = (oclinit_dtype)dtype_names[i].value;
            return true;
        }
    }
    return false;
}

size_t oclinit_dtype_size(oclinit_dtype dtype) {
    switch (dtype) {
    case OCLINIT_DTYPE_F64:
    case OCLINIT_DTYPE_I64:
    case OCLINIT_DTYPE_U64: return 8;
    case OCLINIT_DTYPE_F32:
    case OCLINIT_DTYPE_I32:
    case OCLINIT_DTYPE_U32: return 4;
    case OCLINIT_DTYPE_F16:
    case OCLINIT_DTYPE_BF16:
    case OCLINIT_DTYPE_I16:
    case OCLINIT_DTYPE_U16: return 2;
    case OCLINIT_DTYPE_I8:
    case OCLINIT_DTYPE_U8:
    case OCLINIT_DTYPE_BOOL:
    case OCLINIT_DTYPE_F8_E4M3:
    case OCLINIT_DTYPE_F8_E5M2: return 1;
    }
    return 0;
}

bool oi_dtype_is_float(oclinit_dtype dtype) {
    return dtype == OCLINIT_DTYPE_F32 || dtype == OCLINIT_DTYPE_F16 || dtype == OCLINIT_DTYPE_BF16 ||
           dtype == OCLINIT_DTYPE_F64;
}

/* The rounding is kernels/dtype.h's, which the device runs too (oi_dtype_enqueue_convert); cloned per instruction
 * set, since f16's per-lane shifts only vectorize from AVX2 on. */
OI_HOST_CLONES static void float_to_bf16(const float *in, uint16_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (uint16_t)oi_bf16_from_bits(oi_float_bits(in[i]));
}

#if defined(__x86_64__)
#include <immintrin.h>
/* AVX512_BF16's conversion rounds to nearest even as kernels/dtype.h does, in one instruction, but flushes subnormals
 * to zero and keeps a NaN's payload: each 16 floats that hold neither go through it, the others through the rounding
 * above. Streamed, the results bypass the caches (from the first 32-byte boundary of out on). */
__attribute__((target("avx512f,avx512bf16"))) static void float_to_bf16_avx512bf16(const float *in, uint16_t *out,
                                                                                   size_t n, bool streamed) {
    const __m512i magnitude = _mm512_set1_epi32(0x7fffffff), one = _mm512_set1_epi32(1);
    const __m512i largest_subnormal = _mm512_set1_epi32(0x007fffff), infinity = _mm512_set1_epi32(0x7f800000);
    size_t i = 0;
    while (streamed && i < n && ((uintptr_t)(out + i) & 31)) i++;
    float_to_bf16(in, out, i);
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(in + i);
        __m512i a = _mm512_and_si512(_mm512_castps_si512(x), magnitude);
        __mmask16 subnormal = _mm512_cmplt_epu32_mask(_mm512_sub_epi32(a, one), largest_subnormal);
        __mmask16 nan = _mm512_cmpgt_epu32_mask(a, infinity);
        __m256i rounded = (__m256i)_mm512_cvtneps_pbh(x);
        if (subnormal | nan)
            float_to_bf16(in + i, out + i, 16);
        else if (streamed)
            _mm256_stream_si256((__m256i *)(out + i), rounded);
        else
            _mm256_storeu_si256((__m256i *)(out + i), rounded);
    }
    float_to_bf16(in + i, out + i, n - i);
    if (streamed) _mm_sfence();
}
#endif

static void to_bf16(const float *in, uint16_t *out, size_t n, bool streamed) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512bf16")) {
        float_to_bf16_avx512bf16(in, out, n, streamed);
        return;
    }
#endif
    (void)streamed;
    float_to_bf16(in, out, n);
}

void oi_float_to_bf16(const float *in, uint16_t *out, size_t n) {
    to_bf16(in, out, n, false);
}

OI_HOST_CLONES void oi_float_to_f16(const float *in, uint16_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (uint16_t)oi_f16_from_bits(oi_float_bits(in[i]));
}

static void to_dtype(oclinit_dtype dtype, const float *in, void *out, size_t n, bool streamed) {
    if (dtype == OCLINIT_DTYPE_BF16)
        to_bf16(in, out, n, streamed);
    else if (dtype == OCLINIT_DTYPE_F16)
        oi_float_to_f16(in, out, n);
    else if ((const void *)in != out)
        memcpy(out, in, n * sizeof(float));
}

void oi_float_to_dtype(oclinit_dtype dtype, const float *in, void *out, size_t n) {
    to_dtype(dtype, in, out, n, false);
}

void oi_float_to_dtype_streamed(oclinit_dtype dtype, const float *in, void *out, size_t n) {
    to_dtype(dtype, in, out, n, true);
}

oclinit_status oi_dtype_enqueue_convert(oclinit_runtime_t runtime, oclinit_dtype dtype, cl_mem in, cl_mem out,
                                        uint64_t first, uint64_t count) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_kernel kernel = NULL;
    size_t items = (size_t)((count + 15) / 16);
    if (count == 0) return OCLINIT_SUCCESS;
    if (dtype != OCLINIT_DTYPE_BF16 && dtype != OCLINIT_DTYPE_F16)
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "the device converts float32 to bf16 or f16, not to %s",
                       oclinit_dtype_str(dtype));
    OI_CHECK(
        oi_runtime_kernel(runtime, &program, dtype == OCLINIT_DTYPE_BF16 ? "oi_dtype_bf16" : "oi_dtype_f16", &kernel));
    cl_ulong from = first;
    if (first % 16) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the device converts from a multiple of 16");
    OI_CHECK(oi_set_kernel_args(kernel, 3, sizeof in, &in, sizeof out, &out, sizeof from, &from));
    OI_CL_CHECK(
        clEnqueueNDRangeKernel(oclinit_runtime_get_queue(runtime), kernel, 1, NULL, &items, NULL, 0, NULL, NULL));
cleanup:
    return status;
}

void oi_bf16_to_float(const uint16_t *in, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = oi_bits_float((uint32_t)in[i] << 16);
}

/* Exact: every half is a float. Subnormal halves are their mantissa times 2^-24, which a float multiply gives
 * exactly (both factors and the product are representable); the others are rebiased. */
void oi_f16_to_float(const uint16_t *in, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t h = in[i], sign = (h & 0x8000u) << 16, exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
        uint32_t normal = ((exponent + 112u) << 23) | (mantissa << 13);
        uint32_t special = 0x7f800000u | (mantissa << 13);
        uint32_t subnormal = oi_float_bits((float)mantissa * 0x1p-24f);
        uint32_t bits = exponent == 31u ? special : exponent == 0u ? subnormal : normal;
        out[i] = oi_bits_float(sign | bits);
    }
}

oclinit_status oi_dtype_to_float(oclinit_dtype dtype, const void *raw, size_t n, float *out) {
    switch (dtype) {
    case OCLINIT_DTYPE_F32: memmove(out, raw, n * sizeof(float)); return OCLINIT_SUCCESS;
    case OCLINIT_DTYPE_F16: oi_f16_to_float(raw, out, n); return OCLINIT_SUCCESS;
    case OCLINIT_DTYPE_BF16: oi_bf16_to_float(raw, out, n); return OCLINIT_SUCCESS;
    case OCLINIT_DTYPE_F64:
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, (const unsigned char *)raw + i * sizeof d, sizeof d);
            out[i] = (float)d;
        }
        return OCLINIT_SUCCESS;
    default:
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "%s values are not read as float32 (F32, F16, BF16 and F64 are)",
                       oclinit_dtype_str(dtype));
    }
}
