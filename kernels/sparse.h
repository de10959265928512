/* The reproducibility contract of sparse (README.md, "Reproducibility"): which rows of each column are zeroed.
 * Shared by kernels/sparse.cl and the host twin (host/features/init/sparse.c), so the two cannot drift apart.
 * Unsigned integer arithmetic only. The network works on OI_LANES elements at once (compat.h), each lane with its
 * own keys: the host twin runs 32 columns of a row, or 32 ranks of a column, per call; the kernel is built with
 * one lane, and the work item functions at the end exist for one lane only.
 *
 * A (rows, columns) tensor with zeros per column (torch.nn.init.sparse_: zeros = ceil(sparsity rows)) holds its
 * normal values except where element (r, c), flat index r columns + c, has pi_c(r) < zeros. pi_c is a permutation
 * of [0, rows), so exactly zeros rows of every column are zeroed, and each element is decided on its own:
 *
 * - b = the smallest integer >= 6 with 2^b >= rows; x in [0, 2^b) is split into a left part L of bl = floor(b/2)
 *   bits and a right part R of br = b - bl bits: x = L 2^br + R.
 * - A Feistel network of 8 rounds over [0, 2^b): round i = 0..7 maps (L, R), of (bl, br) bits, to
 *   (R, L xor (F(R, k_i) mod 2^bl)), of (br, bl) bits: x' = R 2^bl + (L xor (F(R, k_i) mod 2^bl)). After the
 *   8 rounds the parts have their first sizes again.
 * - F(v, k) = H(v xor k) in 32-bit unsigned arithmetic, H being Wellons' lowbias32: x ^= x >> 16;
 *   x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16.
 * - k_0..k_3 are the words w0..w3 of Philox block 2^63 + 2c of the stream (seed, stream) (philox.h), k_4..k_7
 *   those of block 2^63 + 2c + 1. The values use blocks below 2^61, so the two never share a block.
 * - pi_c(r) is the network applied to r, and again to its result while that is >= rows (cycle-walking), which
 *   makes a permutation of [0, rows) out of one of [0, 2^b).
 * At least 6 bits and 8 rounds because fewer are measurably not uniform: with 4 rounds the pairs of rows zeroed
 * together, and below 6 bits even the sets of a few rows, are far from their frequencies under a uniform choice
 * (tests/test_sparse.c checks both).
 *
 * The inverse network (rounds in reverse order) gives pi_c^-1, so a column's zeroed rows can also be listed as
 * pi_c^-1(0 .. zeros - 1): the same set, found with zeros evaluations instead of rows. A zeroing pass uses
 * whichever of the two costs less for the rows it spans (oi_sparse_by_rank; the host twin has its own rule). */
#ifndef OCLINIT_SPARSE_H
#define OCLINIT_SPARSE_H

#include "compat.h"
#include "philox.h"

/* Column c's round keys come from Philox blocks OI_SPARSE_BLOCKS + 2c and + 2c + 1. */
#define OI_SPARSE_BLOCKS ((oi_u64)1 << 63)
#define OI_SPARSE_ROUNDS 8
#define OI_SPARSE_MIN_BITS 6

/* The rounds unrolled on the host too, where OI_UNROLLED is PoCL's concern only: the swapped part sizes then
 * become constants of each round. */
#if OI_DEVICE
#define OI_SPARSE_UNROLLED OI_UNROLLED
#else
#define OI_SPARSE_UNROLLED _Pragma("GCC unroll 8")
#endif

/* Per-lane choice between words, a word in every lane, and whether any lane of a comparison holds. */
#if OI_LANES == 1
#define oi_sparse_pick(condition, a, b) ((condition) ? (a) : (b))
#define oi_sparse_splat(x) ((oi_u32)(x))
OI_INLINE int oi_sparse_any(oi_ivec condition) {
    return condition != 0;
}
#elif OI_DEVICE
#error "kernels/sparse.cl is built with one lane"
#else
#define oi_sparse_pick(condition, a, b) (((a) & (oi_uvec)(condition)) | ((b) & ~(oi_uvec)(condition)))
#define oi_sparse_splat(x) ((oi_u32)(x) + (oi_uvec){0})
static inline int oi_sparse_any(oi_ivec condition) {
    oi_u64 words[OI_LANES / 2], any = 0;
    memcpy(words, &condition, sizeof words);
    for (int k = 0; k < OI_LANES / 2; k++) any |= words[k];
    return any != 0;
}
#endif

/* The permuted domain [0, 2^(left_bits + right_bits)) that holds [0, rows); rows = rows_left 2^right_bits +
 * rows_right (rows_left <= 2^left_bits). */
typedef struct oi_sparse_domain {
    oi_u64 rows;
    int left_bits, right_bits;
    oi_u32 rows_left, rows_right;
} oi_sparse_domain;

OI_INLINE oi_sparse_domain oi_sparse_domain_of(oi_u64 rows) {
    int bits = OI_SPARSE_MIN_BITS;
    while (bits < 61 && ((oi_u64)1 << bits) < rows) bits++;
    int right_bits = bits - bits / 2;
    oi_sparse_domain d = {rows, bits / 2, right_bits, (oi_u32)(rows >> right_bits),
                          (oi_u32)rows & (((oi_u32)1 << right_bits) - 1u)};
    return d;
}

/* x = left 2^right_bits + right, in each lane */
typedef struct oi_sparse_point {
    oi_uvec left, right;
} oi_sparse_point;

OI_INLINE oi_sparse_point oi_sparse_split(oi_u64 x, oi_sparse_domain d) {
    oi_sparse_point p = {oi_sparse_splat(x >> d.right_bits),
                         oi_sparse_splat((oi_u32)x & (((oi_u32)1 << d.right_bits) - 1u))};
    return p;
}

typedef struct oi_sparse_key {
    oi_uvec round[OI_SPARSE_ROUNDS];
} oi_sparse_key;

/* The keys of column(s) c: block holds OI_SPARSE_BLOCKS + 2c in each lane. */
OI_INLINE oi_sparse_key oi_sparse_key_of(oi_u64 seed, oi_u64 stream, oi_wide block) {
    oi_philox_words low = oi_philox_block(seed, stream, block);
    oi_philox_words high = oi_philox_block(seed, stream, block + 1);
    oi_sparse_key key = {{low.w[0], low.w[1], low.w[2], low.w[3], high.w[0], high.w[1], high.w[2], high.w[3]}};
    return key;
}

/* F(v, k) = lowbias32(v xor k) */
OI_INLINE oi_uvec oi_sparse_round(oi_uvec v, oi_uvec key) {
    oi_uvec x = v ^ key;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

OI_INLINE oi_u32 oi_sparse_mask(int bits) {
    return ((oi_u32)1 << bits) - 1u;
}

/* One pass of the network over [0, 2^b), forward or inverse. */
OI_INLINE oi_sparse_point oi_sparse_feistel(oi_sparse_point p, oi_sparse_domain d, oi_sparse_key key) {
    int left_bits = d.left_bits, right_bits = d.right_bits;
    OI_SPARSE_UNROLLED
    for (int i = 0; i < OI_SPARSE_ROUNDS; i++) {
        oi_uvec next = p.left ^ (oi_sparse_round(p.right, key.round[i]) & oi_sparse_mask(left_bits));
        p.left = p.right;
        p.right = next;
        int t = left_bits;
        left_bits = right_bits;
        right_bits = t;
    }
    return p;
}

OI_INLINE oi_sparse_point oi_sparse_feistel_inverse(oi_sparse_point p, oi_sparse_domain d, oi_sparse_key key) {
    int left_bits = d.left_bits, right_bits = d.right_bits;
    OI_SPARSE_UNROLLED
    for (int i = OI_SPARSE_ROUNDS - 1; i >= 0; i--) {
        oi_uvec previous = p.right ^ (oi_sparse_round(p.left, key.round[i]) & oi_sparse_mask(right_bits));
        p.right = p.left;
        p.left = previous;
        int t = left_bits;
        left_bits = right_bits;
        right_bits = t;
    }
    return p;
}

/* -1 in the lanes where x >= left 2^right_bits + right, else 0. By the sign of differences rather than by
 * comparisons, which GCC compiles lane by lane in the host twin's target clones; exact because the parts are below
 * 2^31 and the left ones below 2^30 (b <= 61 bits), so no difference reaches 2^31. */
OI_INLINE oi_ivec oi_sparse_at_least(oi_sparse_point p, oi_u32 left, oi_u32 right) {
    oi_uvec borrow = (p.right - right) >> 31;
    oi_uvec below = (p.left - left - borrow) >> 31;
    return oi_uvec_as_ivec(below - 1u);
}

OI_INLINE oi_sparse_point oi_sparse_network(oi_sparse_point p, oi_sparse_domain d, oi_sparse_key key, int inverse) {
    return inverse ? oi_sparse_feistel_inverse(p, d, key) : oi_sparse_feistel(p, d, key);
}

/* pi_c(x) in each lane (pi_c^-1(x) when inverse): the network, then again on the lanes outside [0, rows). */
OI_INLINE oi_sparse_point oi_sparse_walk(oi_sparse_point p, oi_sparse_domain d, oi_sparse_key key, int inverse) {
    p = oi_sparse_network(p, d, key, inverse);
    for (oi_ivec outside = oi_sparse_at_least(p, d.rows_left, d.rows_right); oi_sparse_any(outside);
         outside = oi_sparse_at_least(p, d.rows_left, d.rows_right)) {
        oi_sparse_point q = oi_sparse_network(p, d, key, inverse);
        p.left = oi_sparse_pick(outside, q.left, p.left);
        p.right = oi_sparse_pick(outside, q.right, p.right);
    }
    return p;
}

/* Rows (or ranks) per work item of a zeroing pass, which share one column's keys. */
#ifndef OI_SPARSE_SPAN
#define OI_SPARSE_SPAN 32
#endif

/* ---- A zeroing pass over elements [first, first + count), count > 0, of a (rows, columns) tensor ----------
 * Work item g takes one of the touched columns, (first + g mod touched) mod columns with touched =
 * min(count, columns), and a span of OI_SPARSE_SPAN of either its rows in the range (testing each) or its ranks
 * 0 .. zeros - 1 (zeroing the rows they come from when those lie in the range), whichever costs less. */

OI_INLINE oi_u64 oi_sparse_touched(oi_u64 count, oi_u64 columns) {
    return count < columns ? count : columns;
}

OI_INLINE oi_u64 oi_sparse_rows_spanned(oi_u64 first, oi_u64 count, oi_u64 columns) {
    return (first + count - 1) / columns - first / columns + 1;
}

/* Listing by rank writes in random order, which costs a device about 3 times more per zero (PoCL) than going
 * through the rows costs per element: ranks when zeros <= rows spanned / OI_SPARSE_RANK_COST. */
#ifndef OI_SPARSE_RANK_COST
#define OI_SPARSE_RANK_COST 4
#endif

OI_INLINE int oi_sparse_by_rank(oi_u64 first, oi_u64 count, oi_u64 columns, oi_u64 zeros) {
    return zeros <= oi_sparse_rows_spanned(first, count, columns) / OI_SPARSE_RANK_COST;
}

/* The work items of the pass. */
OI_INLINE oi_u64 oi_sparse_items(oi_u64 first, oi_u64 count, oi_u64 columns, oi_u64 zeros) {
    oi_u64 spans =
        oi_sparse_by_rank(first, count, columns, zeros) ? zeros : oi_sparse_rows_spanned(first, count, columns);
    return oi_sparse_touched(count, columns) * ((spans + OI_SPARSE_SPAN - 1) / OI_SPARSE_SPAN);
}

#if OI_LANES == 1

OI_INLINE oi_u64 oi_sparse_join(oi_sparse_point p, oi_sparse_domain d) {
    return ((oi_u64)p.left << d.right_bits) | p.right;
}

/* pi_c(row): row is zeroed when this is < zeros. */
OI_INLINE oi_u64 oi_sparse_rank(oi_u64 row, oi_sparse_domain d, oi_sparse_key key) {
    return oi_sparse_join(oi_sparse_walk(oi_sparse_split(row, d), d, key, 0), d);
}

/* pi_c^-1(rank) */
OI_INLINE oi_u64 oi_sparse_row(oi_u64 rank, oi_sparse_domain d, oi_sparse_key key) {
    return oi_sparse_join(oi_sparse_walk(oi_sparse_split(rank, d), d, key, 1), d);
}

/* out[i - first] = 0 for the elements i of work item g that the contract zeroes. */
OI_INLINE void oi_sparse_zero_item(OI_GLOBAL float *out, oi_u64 g, oi_u64 first, oi_u64 count, oi_u64 seed,
                                   oi_u64 stream, oi_u64 rows, oi_u64 columns, oi_u64 zeros) {
    oi_u64 touched = oi_sparse_touched(count, columns);
    oi_u64 column = (first % columns + g % touched) % columns;
    oi_u64 begin = g / touched * OI_SPARSE_SPAN;
    oi_sparse_domain d = oi_sparse_domain_of(rows);
    oi_sparse_key key = oi_sparse_key_of(seed, stream, OI_SPARSE_BLOCKS + 2 * column);
    /* i - first < count in unsigned arithmetic: first <= i < first + count */
    if (oi_sparse_by_rank(first, count, columns, zeros)) {
        oi_u64 end = begin + OI_SPARSE_SPAN < zeros ? begin + OI_SPARSE_SPAN : zeros;
        for (oi_u64 rank = begin; rank < end; rank++) {
            oi_u64 i = oi_sparse_row(rank, d, key) * columns + column;
            if (i - first < count) out[i - first] = 0.0f;
        }
    } else {
        oi_u64 row = first / columns + begin;
        oi_u64 end = (first + count - 1) / columns + 1;
        if (row + OI_SPARSE_SPAN < end) end = row + OI_SPARSE_SPAN;
        for (; row < end; row++) {
            oi_u64 i = row * columns + column;
            if (i - first < count && oi_sparse_rank(row, d, key) < zeros) out[i - first] = 0.0f;
        }
    }
}

#endif

#endif
