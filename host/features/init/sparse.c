/* sparse: the zeroing pass of kernels/sparse.cl and its host twin, both through kernels/sparse.h. The normal values
 * are filled first (init.c); this pass only writes zeros.
 *
 * The twin runs the contract's network on 32 lanes at once as GCC vectors, compiled for AVX-512, AVX2 and plain
 * x86-64 (target_clones picks one at load time), and on every core (OpenMP): 32 neighbouring columns of a row, or
 * 32 ranks of a column. 32 rather than one register's 16: the rounds are a long chain of multiplications, and two
 * chains side by side keep the multiplier busy. Integer arithmetic only, so it gives the kernel's bits whatever the
 * instruction set; only the order of the work differs from the kernel's. */
#define OI_HOST_LANES 32
#include "sparse.h"
#include "features/features.h"

extern const char oi_kernel_sparse[];
static const oi_program oi_program_sparse = {"kernels/sparse.cl", oi_kernel_sparse, 1};

#define SPAN 64 /* rows, or ranks, per OpenMP work item */
#define GROUP 4 /* tiles of OI_LANES columns per work item that goes through rows */
/* Listing a column's zeros by rank writes them in random order, which costs the host about 8 times more per zero than
 * a pass through the rows costs per element: ranks only where zeros <= rows spanned / 8. */
#define RANK_COST 8

static const oi_uvec lane_index = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                   16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

typedef struct pass {
    uint64_t first, count, columns, zeros, seed, stream;
    uint64_t touched, tiles, groups; /* touched columns (first + t) mod columns, t < touched, in tiles of OI_LANES */
    int by_rank;
    oi_sparse_domain domain;
} pass;

/* Tile t's columns, (first + t OI_LANES + l) mod columns for the lanes l that are touched (their number is returned;
 * the others repeat lane 0's column), and their keys. */
static int tile_columns(const pass *p, uint64_t tile, uint64_t column[OI_LANES], oi_sparse_key *keys) {
    int lanes = 0;
    uint64_t block[OI_LANES];
    for (int l = 0; l < OI_LANES; l++) {
        uint64_t t = tile * OI_LANES + (uint64_t)l;
        if (t < p->touched) lanes++;
        column[l] = (p->first % p->columns + (t < p->touched ? t : tile * OI_LANES)) % p->columns;
        block[l] = OI_SPARSE_BLOCKS + 2 * column[l];
    }
    oi_wide blocks;
    memcpy(&blocks, block, sizeof blocks);
    *keys = oi_sparse_key_of(p->seed, p->stream, blocks);
    return lanes;
}

/* Rank work item g: tile g mod tiles, ranks [s SPAN, (s + 1) SPAN) of each of its columns, s = g / tiles. */
OI_HOST_CLONES static void zero_ranks(const pass *p, uint64_t g, float *out) {
    uint64_t column[OI_LANES], begin = g / p->tiles * SPAN;
    uint64_t end = begin + SPAN < p->zeros ? begin + SPAN : p->zeros;
    oi_sparse_domain d = p->domain;
    oi_sparse_key keys;
    int lanes = tile_columns(p, g % p->tiles, column, &keys);
    /* The ranks begin + l as (left, right) parts, counted up by OI_LANES from there: no 64-bit lanes. */
    oi_sparse_point start = oi_sparse_split(begin, d);
    start.right += lane_index;
    start.left += start.right >> d.right_bits;
    start.right &= oi_sparse_mask(d.right_bits);
    for (int c = 0; c < lanes; c++) {
        oi_sparse_key key;
        for (int i = 0; i < OI_SPARSE_ROUNDS; i++) key.round[i] = oi_sparse_splat(keys.round[i][c]);
        oi_sparse_point x = start;
        for (uint64_t rank = begin; rank < end; rank += OI_LANES) {
            /* the lanes past end walk from rank begin instead: a rank >= rows might never walk back */
            oi_ivec past = oi_uvec_as_ivec(((lane_index - (oi_u32)(end - rank)) >> 31) - 1u);
            oi_sparse_point q = {oi_sparse_pick(past, start.left, x.left), oi_sparse_pick(past, start.right, x.right)};
            q = oi_sparse_walk(q, d, key, 1);
            for (int l = 0; l < OI_LANES && rank + (uint64_t)l < end; l++) {
                uint64_t row = ((uint64_t)q.left[l] << d.right_bits) | q.right[l];
                uint64_t i = row * p->columns + column[c];
                /* i - first < count in unsigned arithmetic: first <= i < first + count */
                if (i - p->first < p->count) out[i - p->first] = 0.0f;
            }
            x.right += OI_LANES;
            x.left += x.right >> d.right_bits;
            x.right &= oi_sparse_mask(d.right_bits);
        }
    }
}

/* Row work item g: the tiles of group g mod groups, rows [s SPAN, (s + 1) SPAN) of the range, s = g / groups; row by
 * row, so that its writes go through memory in order. */
OI_HOST_CLONES static void zero_rows(const pass *p, uint64_t g, float *out) {
    uint64_t column[GROUP][OI_LANES];
    oi_sparse_key keys[GROUP];
    int lanes[GROUP], tiles = 0;
    for (uint64_t tile = g % p->groups * GROUP; tiles < GROUP && tile < p->tiles; tile++, tiles++)
        lanes[tiles] = tile_columns(p, tile, column[tiles], &keys[tiles]);
    oi_sparse_domain d = p->domain;
    oi_u32 zeros_left = (oi_u32)(p->zeros >> d.right_bits);
    oi_u32 zeros_right = (oi_u32)p->zeros & oi_sparse_mask(d.right_bits);
    uint64_t row = p->first / p->columns + g / p->groups * SPAN, end = (p->first + p->count - 1) / p->columns + 1;
    if (row + SPAN < end) end = row + SPAN;
    for (; row < end; row++) {
        oi_sparse_point start = oi_sparse_split(row, d);
        for (int t = 0; t < tiles; t++) {
            oi_ivec kept = oi_sparse_at_least(oi_sparse_walk(start, d, keys[t], 0), zeros_left, zeros_right);
            uint64_t i = row * p->columns + column[t][0];
            /* A tile of neighbouring columns inside the range: neighbouring elements. */
            if (lanes[t] == OI_LANES && column[t][OI_LANES - 1] == column[t][0] + OI_LANES - 1 &&
                i - p->first < p->count && i + OI_LANES - 1 - p->first < p->count) {
                oi_uvec bits;
                memcpy(&bits, out + (i - p->first), sizeof bits);
                bits &= (oi_uvec)kept;
                memcpy(out + (i - p->first), &bits, sizeof bits);
                continue;
            }
            for (int l = 0; l < lanes[t]; l++) {
                i = row * p->columns + column[t][l];
                if (i - p->first < p->count && !kept[l]) out[i - p->first] = 0.0f;
            }
        }
    }
}

void oi_sparse_twin_zero(const oclinit_distribution *d, uint64_t seed, uint64_t stream, uint64_t first, uint64_t count,
                         float *out) {
    if (count == 0 || d->zeros == 0) return;
    uint64_t columns = (uint64_t)d->shape.dims[1], zeros = (uint64_t)d->zeros;
    pass p = {.first = first, .count = count, .columns = columns, .zeros = zeros, .seed = seed, .stream = stream};
    p.touched = oi_sparse_touched(count, columns);
    p.tiles = (p.touched + OI_LANES - 1) / OI_LANES;
    p.groups = (p.tiles + GROUP - 1) / GROUP;
    p.by_rank = zeros <= oi_sparse_rows_spanned(first, count, columns) / RANK_COST;
    p.domain = oi_sparse_domain_of((uint64_t)d->shape.dims[0]);
    /* Consecutive items take neighbouring columns of the same rows: a thread's writes share cache lines. */
    if (p.by_rank) {
        int64_t items = (int64_t)(p.tiles * ((zeros + SPAN - 1) / SPAN));
#pragma omp parallel for schedule(static)
        for (int64_t g = 0; g < items; g++) zero_ranks(&p, (uint64_t)g, out);
    } else {
        int64_t items = (int64_t)(p.groups * ((oi_sparse_rows_spanned(first, count, columns) + SPAN - 1) / SPAN));
#pragma omp parallel for schedule(static)
        for (int64_t g = 0; g < items; g++) zero_rows(&p, (uint64_t)g, out);
    }
}

oclinit_status oi_sparse_enqueue_zero(oclinit_runtime_t rt, const oclinit_distribution *d, uint64_t seed,
                                      uint64_t stream, uint64_t first, uint64_t count, cl_mem buffer, size_t offset) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_kernel kernel = NULL;
    if (count == 0 || d->zeros == 0) return OCLINIT_SUCCESS;
    const cl_ulong out_offset = offset, range_first = first, range_count = count, seeds[2] = {seed, stream};
    const cl_ulong rows = (cl_ulong)d->shape.dims[0], columns = (cl_ulong)d->shape.dims[1], zeros = (cl_ulong)d->zeros;
    OI_CHECK(oi_runtime_kernel(rt, &oi_program_sparse, "oi_sparse_zero", &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 9, sizeof buffer, &buffer, sizeof out_offset, &out_offset, sizeof range_first,
                                &range_first, sizeof range_count, &range_count, sizeof seeds[0], &seeds[0],
                                sizeof seeds[1], &seeds[1], sizeof rows, &rows, sizeof columns, &columns, sizeof zeros,
                                &zeros));
    OI_CHECK(oi_runtime_enqueue(rt, kernel, (size_t)oi_sparse_items(first, count, columns, zeros), 0));
cleanup:
    return status;
}
