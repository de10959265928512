/* Element types of checkpoint tensors: names, sizes, and float32 <-> float16 / bfloat16 conversions.
 * The conversions work on bit patterns with integer operations only, so they round the same way whatever the
 * compiler's floating-point options or the CPU's flush-to-zero mode, and each loop is branch-free for the
 * vectorizer. */
#include <string.h>

#include "io/io.h"

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

/* Round to nearest, ties to even: add just under half an ulp of the result, plus one when the kept part is odd,
 * then truncate. Overflow carries into the exponent and so becomes infinity by itself. A NaN becomes the quiet
 * NaN of its sign (0x7fc0), as PyTorch and ml_dtypes make it: truncating could leave an infinity. */
void oi_float_to_bf16(const float *in, uint16_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t x = oi_float_bits(in[i]);
        uint32_t rounded = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
        uint32_t nan = ((x >> 16) & 0x8000u) | 0x7fc0u;
        out[i] = (uint16_t)((x & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
    }
}

/* Three cases computed side by side and one chosen, so the loop has no branch:
 * - normal results (|x| >= 2^-14): rebias the exponent (127 -> 15) and round the 23-bit mantissa to 10 bits as
 *   for bf16; anything from 65520 up rounds past the largest half (65504) and is clamped to infinity;
 * - subnormal results (|x| < 2^-14): the value in units of 2^-24 (the smallest half) is the mantissa with its
 *   implicit bit shifted right by 126 - exponent, rounded to nearest even on the bits shifted out; 14 to 24 bits
 *   go for results that can be non-zero, and a shift capped at 31 gives 0 for everything smaller (including
 *   float32 subnormals); a result of 0x400 is the smallest normal half, which is the right encoding;
 * - NaN: quiet (bit 9 set) with the top of its payload kept, as x86's F16C conversion does. */
void oi_float_to_f16(const float *in, uint16_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t x = oi_float_bits(in[i]);
        uint32_t sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
        uint32_t normal = (a - (112u << 23) + 0xfffu + ((a >> 13) & 1u)) >> 13;
        normal = normal > 0x7c00u ? 0x7c00u : normal;
        uint32_t exponent = a >> 23, shift = 126u - exponent;
        shift = exponent > 126u ? 0u : shift > 31u ? 31u : shift; /* only used below 2^-14, where it is 14..31 */
        uint32_t mantissa = (a & 0x7fffffu) | 0x800000u;
        uint32_t kept = mantissa >> shift, rest = mantissa & ((1u << shift) - 1u), half = (1u << shift) >> 1;
        uint32_t subnormal = kept + (rest > half || (rest == half && (kept & 1u)));
        uint32_t nan = 0x7e00u | ((a >> 13) & 0x3ffu);
        uint32_t h = a > 0x7f800000u ? nan : a >= 0x38800000u ? normal : subnormal;
        out[i] = (uint16_t)(sign | h);
    }
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
