/* The dist layer: the processes of one job started by mpirun (Open MPI's, or any MPI's), seen as ranks 0 .. size-1.
 * Between blas and features: features use it to split work and agree on results, the CLI to join the job.
 *
 * A process joins the job only through oi_dist_init, and only when a launcher started it (mpirun sets
 * OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE); anywhere else, and in a build without MPI (-DOCLINIT_MPI=OFF),
 * it is rank 0 of 1 and every function below is a no-op that returns at once. So the library never calls MPI unless
 * the program asked it to, and a library user who never calls oi_dist_init gets single-process behaviour even in
 * an MPI program. Every function marked collective must be called by every rank, in the same order, whatever
 * happened before on that rank: a rank that failed still takes part, with its failure as its status. */
#ifndef OCLINIT_DIST_H
#define OCLINIT_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* ---- The job (comm.c) ---- */

/* True when a launcher started this process (its environment says so), whether or not it has joined yet. */
bool oi_dist_launched(void);

/* Joins the job when launched (MPI_Init, the ranks, the local rank), else does nothing. Idempotent. A failure
 * (MPI cannot start) is returned with MPI's message. */
oclinit_status oi_dist_init(void);
/* Leaves the job (MPI_Finalize) if oi_dist_init joined it; safe to call always, and twice. */
void oi_dist_finalize(void);

/* This process's rank, the number of ranks (1 unless joined), and its rank and their number among the ranks on its
 * own machine (MPI_Comm_split_type SHARED): the local rank chooses the device. */
int oi_dist_rank(void);
int oi_dist_size(void);
int oi_dist_local_rank(void);
int oi_dist_local_size(void);
/* True when joined to a job of more than one rank: the one test of whether work is shared. */
bool oi_dist_active(void);

/* Collective. */
oclinit_status oi_dist_barrier(void);
/* Collective: root's bytes into every rank's data (any size; sent in pieces below 2^31). */
oclinit_status oi_dist_broadcast(void *data, size_t bytes, int root);

/* Collective: the lowest rank that passed true, or -1 when none did (every rank gets the same answer). */
int oi_dist_lowest(bool mine);

/* Collective: every rank passes its outcome. Returns OCLINIT_SUCCESS when every rank succeeded; else, on every rank,
 * the status of the lowest failing rank, with that rank's detail message (oclinit_error_get_detail(), as oi_fail
 * recorded it there) recorded here too, prefixed "rank R of N: ". Without a job it returns status unchanged. */
oclinit_status oi_dist_status(oclinit_status status);

/* A value every rank must have the same: a name for messages ("the seed", "--max-shard-size") and its text. */
typedef struct oi_dist_value {
    const char *name;
    const char *text;
} oi_dist_value;

/* Collective: OCLINIT_SUCCESS when every rank passed the same count and the same texts; else, on every rank,
 * OCLINIT_ERROR_INVALID_ARGUMENT naming the first value that differs, its text on rank 0 and on the lowest rank
 * that differs: "the ranks disagree on the seed: \"1\" on rank 0, \"2\" on rank 1 (every rank must run the same
 * command)". Compares 64-bit hashes (one allreduce), then sends the two texts. */
oclinit_status oi_dist_agree(const oi_dist_value *values, size_t count);

/* An even split every rank computes the same way: the part of [0, total) that rank owns when total units are cut
 * into size ranges at multiples of unit (the last range takes the rest), as [*first, *end). */
void oi_dist_range(uint64_t total, uint64_t unit, int rank, int size, uint64_t *first, uint64_t *end);

/* Data parallelism: the rows of a table of total rows that this rank holds, whole blocks of OI_DIST_ROW_BLOCK rows
 * (the normalization's fit chunks, so a rank fits the chunks it holds), rank r the blocks oi_dist_range(blocks, 1, r,
 * size); [0, total) outside a job. */
#define OI_DIST_ROW_BLOCK 1024
void oi_dist_rows(uint64_t total, int rank, int size, uint64_t *first, uint64_t *end);

/* OCLINIT_ERROR_IO with MPI's own words for an error code of call (an MPI function's name), as the detail. Only in a
 * build with MPI, for the files of this layer. */
#if OCLINIT_MPI
oclinit_status oi_dist_mpi_failed(int code, const char *call);
#endif

/* For tests of the fault paths: true when OCLINIT_TEST_FAIL_RANK names this rank (a decimal number). */
bool oi_dist_test_fail(void);

/* Reductions (reduce.c) */

/* Sums whose bits do not depend on the number of ranks: `leaves` vectors summed in one fixed binary tree. Node
 * (level, index) covers leaves [index 2^level, (index + 1) 2^level) cut to [0, leaves); a leaf is its vector, any
 * other node left + right, or left alone when the right covers no leaf. The root is (oi_tree_levels(leaves), 0). */
typedef struct oi_tree_node {
    unsigned level;
    uint64_t index;
} oi_tree_node;

/* Levels above the leaves: the smallest L with 2^L >= leaves. */
unsigned oi_tree_levels(uint64_t leaves);
/* The whole subtrees that cover leaves [first, end) exactly, left to right, each as large as alignment allows (at
 * most 128); returns their number. */
size_t oi_tree_cover(uint64_t first, uint64_t end, oi_tree_node *nodes);
/* A node's subtree summed as its leaves come, left to right, on a stack of partial sums (at most node.level + 1 deep):
 * after leaf's vector is pushed (depth vectors on the stack now), the number of times to pop the top and add it to
 * the one below. After the node's last leaf the stack holds its value alone. */
size_t oi_tree_merges(uint64_t leaves, oi_tree_node node, uint64_t leaf, size_t depth);
/* The root's value (count floats into sum) from the values of nodes that cover [0, leaves) exactly, in order
 * (node k's at values + k * stride). */
oclinit_status oi_tree_finish(uint64_t leaves, const oi_tree_node *nodes, size_t node_count, const float *values,
                              size_t stride, size_t count, float *sum);
/* Collective: the root of the tree of `leaves` vectors of count floats into sum on every rank. Rank r holds leaves
 * oi_dist_range(leaves, 1, r, size) and passes the values of their oi_tree_cover, in order, stride floats apart.
 * The same bits as oi_tree_finish on one process, for any number of ranks. */
oclinit_status oi_dist_tree_sum(uint64_t leaves, const float *values, size_t stride, size_t count, float *sum);
/* Collective: data holds units of unit_floats floats, of which rank r has filled oi_dist_range(units, 1, r, size);
 * on return every rank has all of them. */
oclinit_status oi_dist_gather(float *data, uint64_t units, size_t unit_floats);

/* Collective: each rank sends send_bytes[d] bytes to rank d, packed in rank order in send, and receives
 * receive_bytes[s] bytes from rank s, packed in rank order into receive (MPI_Alltoallv). The counts must match
 * pairwise. A rank whose bytes in all, sent or received, reach 2^31 (or that is out of memory) fails every rank
 * (OCLINIT_ERROR_SIZE_OVERFLOW).
 * Outside a job, send_bytes[0] bytes are copied. */
oclinit_status oi_dist_exchange(const void *send, const size_t *send_bytes, void *receive, const size_t *receive_bytes);

#endif
