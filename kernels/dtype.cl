/* dtype: float32 to bfloat16 or float16 (kernels/dtype.h) on the device, so that a checkpoint's chunk is read back
 * at half the size and no host core converts it.
 *
 * Layout: in and out are float and ushort buffers of the same elements, allocated for a multiple of 16; work-item g
 * converts elements [first + 16 g, first + 16 g + 16), where first is a multiple of 16. */
#define OI_DTYPE_WORD uint16
#include "dtype.h"

__kernel void oi_dtype_bf16(__global const float *in, __global ushort *out, ulong first) {
    size_t i = first / 16 + get_global_id(0);
    vstore16(convert_ushort16(oi_bf16_from_bits(as_uint16(vload16(i, in)))), i, out);
}

__kernel void oi_dtype_f16(__global const float *in, __global ushort *out, ulong first) {
    size_t i = first / 16 + get_global_id(0);
    vstore16(convert_ushort16(oi_f16_from_bits(as_uint16(vload16(i, in)))), i, out);
}
