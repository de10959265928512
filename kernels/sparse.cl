/* sparse: zeroes the elements that the contract's per-column choice selects (kernels/sparse.h) in a tensor whose
 * normal values are already there.
 *
 * Layout: out is a float buffer holding elements [first, first + count) of a row-major (rows, columns) tensor at
 * out[out_offset + (i - first)]. Work item g is oi_sparse_zero_item's g: one touched column and a span of its rows
 * or of its ranks; built with OI_LANES 1. */
#include "sparse.h"

__kernel void oi_sparse_zero(__global float *out, ulong out_offset, ulong first, ulong count, ulong seed, ulong stream,
                             ulong rows, ulong columns, ulong zeros) {
    oi_sparse_zero_item(out + out_offset, get_global_id(0), first, count, seed, stream, rows, columns, zeros);
}
