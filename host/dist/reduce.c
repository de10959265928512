/* Sums whose bits do not depend on the number of ranks: vectors (leaves) summed in one fixed binary tree, however the
 * leaves are spread over the ranks. Float addition is not associative, so MPI_Allreduce's sums change with the
 * algorithm and the number of ranks; here every addition is a node of the tree, and which rank does it changes no
 * operand. Each rank sums the whole subtrees inside its leaves (oi_tree_cover, oi_tree_merges), and
 * oi_dist_tree_sum does the additions above them: the vector is cut into one segment per rank, every rank sends each
 * subtree's part of segment s to rank s (MPI_Alltoallv), rank s finishes the tree on its segment (oi_tree_finish),
 * and the segments are gathered on every rank (MPI_Allgatherv): about twice the vector's bytes through each rank,
 * as a ring allreduce. */
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

#if OCLINIT_MPI
#include <limits.h>
#include <mpi.h>
#endif

/* Leaves [index 2^level, (index + 1) 2^level) cut to [0, leaves): the first leaf and the end. */
static uint64_t node_first(oi_tree_node node) {
    return node.index << node.level;
}

static uint64_t node_end(oi_tree_node node, uint64_t leaves) {
    uint64_t end = (node.index + 1) << node.level;
    return end < leaves ? end : leaves;
}

size_t oi_tree_cover(uint64_t first, uint64_t end, oi_tree_node *nodes) {
    size_t count = 0;
    while (first < end) {
        unsigned level = 0;
        /* The largest block aligned at first that stays inside [first, end). */
        while (level < 63 && first % ((uint64_t)2 << level) == 0 && first + ((uint64_t)2 << level) <= end) level++;
        nodes[count++] = (oi_tree_node){level, first >> level};
        first += (uint64_t)1 << level;
    }
    return count;
}

unsigned oi_tree_levels(uint64_t leaves) {
    unsigned levels = 0;
    while (levels < 63 && ((uint64_t)1 << levels) < leaves) levels++;
    return levels;
}

size_t oi_tree_merges(uint64_t leaves, oi_tree_node node, uint64_t leaf, size_t depth) {
    /* The stack holds the node's complete aligned blocks left to right, the smallest on top. After a leaf that
     * completes a block of 2^k leaves, the k blocks it closes are summed; after the node's last leaf, all that is left,
     * from the top: a node whose right part is cut short is left + (what there is of the right). */
    if (leaf + 1 == node_end(node, leaves)) return depth - 1;
    return (size_t)__builtin_ctzll(leaf + 1 - node_first(node));
}

/* The value of node (level, index) on count floats into out: a given node's value, else its children's sum;
 * scratch holds level * count floats for the right children's values. */
static void evaluate(uint64_t leaves, oi_tree_node node, const oi_tree_node *nodes, size_t node_count,
                     const float *values, size_t stride, size_t count, float *out, float *scratch) {
    for (size_t k = 0; k < node_count; k++)
        if (nodes[k].level == node.level && nodes[k].index == node.index) {
            memcpy(out, values + k * stride, count * sizeof(float));
            return;
        }
    oi_tree_node left = {node.level - 1, 2 * node.index}, right = {node.level - 1, 2 * node.index + 1};
    evaluate(leaves, left, nodes, node_count, values, stride, count, out, scratch);
    if (node_first(right) >= leaves) return;
    float *part = scratch + (size_t)(node.level - 1) * count;
    evaluate(leaves, right, nodes, node_count, values, stride, count, part, scratch);
    for (size_t j = 0; j < count; j++) out[j] = out[j] + part[j];
}

oclinit_status oi_tree_finish(uint64_t leaves, const oi_tree_node *nodes, size_t node_count, const float *values,
                              size_t stride, size_t count, float *sum) {
    unsigned levels = oi_tree_levels(leaves);
    float *scratch = malloc(((size_t)levels + 1) * (count ? count : 1) * sizeof(float));
    if (!scratch) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating the reduction's %u levels", levels);
    evaluate(leaves, (oi_tree_node){levels, 0}, nodes, node_count, values, stride, count, sum, scratch);
    free(scratch);
    return OCLINIT_SUCCESS;
}

#if OCLINIT_MPI

/* Floats of the vector exchanged per round: keeps every MPI count below 2^31 and the buffers small. */
#define PIECE ((size_t)1 << 20)

oclinit_status oi_dist_tree_sum(uint64_t leaves, const float *values, size_t stride, size_t count, float *sum) {
    oclinit_status status = OCLINIT_SUCCESS;
    int size = oi_dist_size(), rank = oi_dist_rank();
    oi_tree_node *nodes = NULL;
    size_t *owned = NULL, node_total = 0;
    int *send_counts = NULL, *send_offsets = NULL, *receive_counts = NULL, *receive_offsets = NULL;
    float *send = NULL, *receive = NULL;
    if (!oi_dist_active()) {
        oi_tree_node mine[128];
        size_t n = oi_tree_cover(0, leaves, mine);
        return oi_tree_finish(leaves, mine, n, values, stride, count, sum);
    }
    /* Every rank's nodes, in rank order: rank r's leaves are oi_dist_range's part r, covered by at most two subtrees
     * per level. */
    size_t per_rank = 2 * (size_t)oi_tree_levels(leaves) + 2, widest = count < PIECE ? count : PIECE;
    nodes = malloc((size_t)size * per_rank * sizeof *nodes);
    owned = calloc((size_t)size + 1, sizeof *owned);
    send_counts = malloc(4 * (size_t)size * sizeof(int));
    if (!nodes || !owned || !send_counts) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating the reduction's buffers");
        goto cleanup;
    }
    send_offsets = send_counts + size, receive_counts = send_counts + 2 * size,
    receive_offsets = send_counts + 3 * size;
    for (int r = 0; r < size; r++) {
        uint64_t first, end;
        oi_dist_range(leaves, 1, r, size, &first, &end);
        owned[r] = node_total;
        node_total += oi_tree_cover(first, end, nodes + node_total);
    }
    owned[size] = node_total;
    size_t mine = owned[rank + 1] - owned[rank];
    /* One subtree's segments are in order in values already; more are packed segment by segment. */
    send = mine > 1 ? malloc(mine * widest * sizeof(float)) : NULL;
    receive = malloc(node_total * (widest / (size_t)size + 1) * sizeof(float));
    if ((mine > 1 && !send) || !receive) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating the reduction's buffers");
        goto cleanup;
    }
    for (size_t start = 0; start < count; start += PIECE) {
        size_t piece = count - start < PIECE ? count - start : PIECE;
        /* Segment s of this piece, for each of this rank's nodes, goes to rank s. */
        size_t placed = 0, received = 0;
        uint64_t my_first, my_end;
        oi_dist_range(piece, 1, rank, size, &my_first, &my_end);
        size_t my_length = (size_t)(my_end - my_first);
        for (int s = 0; s < size; s++) {
            uint64_t first, end;
            oi_dist_range(piece, 1, s, size, &first, &end);
            send_offsets[s] = send ? (int)placed : (int)first;
            for (size_t k = 0; send && k < mine; k++, placed += (size_t)(end - first))
                memcpy(send + placed, values + k * stride + start + first, (size_t)(end - first) * sizeof(float));
            send_counts[s] = (int)(mine * (end - first));
            size_t theirs = owned[s + 1] - owned[s];
            receive_offsets[s] = (int)received;
            receive_counts[s] = (int)(theirs * my_length);
            received += theirs * my_length;
        }
        int code = MPI_Alltoallv(send ? send : values + start, send_counts, send_offsets, MPI_FLOAT, receive,
                                 receive_counts, receive_offsets, MPI_FLOAT, MPI_COMM_WORLD);
        if (code != MPI_SUCCESS) {
            status = oi_dist_mpi_failed(code, "MPI_Alltoallv");
            goto cleanup;
        }
        /* received holds every node's part of this rank's segment, in rank order: node_total vectors of my_length. */
        OI_CHECK(oi_tree_finish(leaves, nodes, node_total, receive, my_length, my_length, sum + start + my_first));
        for (int s = 0; s < size; s++) {
            uint64_t first, end;
            oi_dist_range(piece, 1, s, size, &first, &end);
            receive_offsets[s] = (int)first;
            receive_counts[s] = (int)(end - first);
        }
        code = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, sum + start, receive_counts, receive_offsets, MPI_FLOAT,
                              MPI_COMM_WORLD);
        if (code != MPI_SUCCESS) {
            status = oi_dist_mpi_failed(code, "MPI_Allgatherv");
            goto cleanup;
        }
    }
cleanup:
    free(receive);
    free(send);
    free(send_counts);
    free(owned);
    free(nodes);
    return status;
}

oclinit_status oi_dist_gather(float *data, uint64_t units, size_t unit_floats) {
    if (!oi_dist_active()) return OCLINIT_SUCCESS;
    int size = oi_dist_size();
    if (units * unit_floats > INT_MAX)
        return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "gathering %llu floats over MPI: at most %d at once",
                       (unsigned long long)(units * unit_floats), INT_MAX);
    int *counts = malloc(2 * (size_t)size * sizeof(int));
    if (!counts) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating the gather's counts");
    for (int r = 0; r < size; r++) {
        uint64_t first, end;
        oi_dist_range(units, 1, r, size, &first, &end);
        counts[size + r] = (int)(first * unit_floats);
        counts[r] = (int)((end - first) * unit_floats);
    }
    int code = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, data, counts, counts + size, MPI_FLOAT, MPI_COMM_WORLD);
    free(counts);
    return code == MPI_SUCCESS ? OCLINIT_SUCCESS : oi_dist_mpi_failed(code, "MPI_Allgatherv");
}

oclinit_status oi_dist_exchange(const void *send, const size_t *send_bytes, void *receive,
                                const size_t *receive_bytes) {
    if (!oi_dist_active()) {
        if (send_bytes[0]) memcpy(receive, send, send_bytes[0]);
        return OCLINIT_SUCCESS;
    }
    int size = oi_dist_size();
    int *counts = malloc(4 * (size_t)size * sizeof(int));
    size_t sent = 0, received = 0;
    for (int r = 0; counts && r < size; r++) {
        counts[r] = (int)send_bytes[r], counts[size + r] = (int)sent;
        counts[2 * size + r] = (int)receive_bytes[r], counts[3 * size + r] = (int)received;
        sent += send_bytes[r], received += receive_bytes[r];
    }
    /* Agreed first, so that a rank that cannot take part does not leave the others waiting in the exchange. */
    int over = oi_dist_lowest(!counts || sent > INT_MAX || received > INT_MAX);
    int code = over < 0 ? MPI_Alltoallv(send, counts, counts + size, MPI_BYTE, receive, counts + 2 * size,
                                        counts + 3 * size, MPI_BYTE, MPI_COMM_WORLD)
                        : MPI_SUCCESS;
    free(counts);
    if (over >= 0)
        return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW,
                       "rank %d cannot exchange its rows: out of memory, or more than %d bytes over MPI at once (give "
                       "a smaller batch)",
                       over, INT_MAX);
    return code == MPI_SUCCESS ? OCLINIT_SUCCESS : oi_dist_mpi_failed(code, "MPI_Alltoallv");
}

#else

oclinit_status oi_dist_exchange(const void *send, const size_t *send_bytes, void *receive,
                                const size_t *receive_bytes) {
    (void)receive_bytes;
    if (send_bytes[0]) memcpy(receive, send, send_bytes[0]);
    return OCLINIT_SUCCESS;
}

oclinit_status oi_dist_gather(float *data, uint64_t units, size_t unit_floats) {
    (void)data, (void)units, (void)unit_floats;
    return OCLINIT_SUCCESS;
}

oclinit_status oi_dist_tree_sum(uint64_t leaves, const float *values, size_t stride, size_t count, float *sum) {
    oi_tree_node nodes[128];
    size_t n = oi_tree_cover(0, leaves, nodes);
    return oi_tree_finish(leaves, nodes, n, values, stride, count, sum);
}

#endif
