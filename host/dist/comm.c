/* The job's ranks over MPI: joining only when a launcher started the process, the outcome of a step shared by every
 * rank, and options every rank must have the same. Without MPI (OCLINIT_MPI 0) or outside a job, one rank of one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

#if OCLINIT_MPI
#include <mpi.h>
#endif

static struct {
    bool joined; /* MPI_Init was ours, and MPI_Finalize will be */
    int rank, size, local_rank, local_size;
} job = {false, 0, 1, 0, 1};

bool oi_dist_launched(void) {
    /* Open MPI's mpirun, a PMIx launcher (prterun, srun --mpi=pmix), or a PMI-1/2 one (MPICH's hydra, srun). */
    static const char *const variables[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < OI_COUNT(variables); i++)
        if (getenv(variables[i])) return true;
    return false;
}

int oi_dist_rank(void) {
    return job.rank;
}

int oi_dist_size(void) {
    return job.size;
}

int oi_dist_local_rank(void) {
    return job.local_rank;
}

int oi_dist_local_size(void) {
    return job.local_size;
}

bool oi_dist_active(void) {
    return job.joined && job.size > 1;
}

/* floor(total · part / size) without overflow: total = q · size + r, and r · part < size² fits. */
static uint64_t share(uint64_t total, int part, int size) {
    uint64_t q = total / (uint64_t)size, r = total % (uint64_t)size;
    return q * (uint64_t)part + r * (uint64_t)part / (uint64_t)size;
}

void oi_dist_range(uint64_t total, uint64_t unit, int rank, int size, uint64_t *first, uint64_t *end) {
    if (unit == 0) unit = 1;
    *first = share(total, rank, size) / unit * unit;
    *end = rank + 1 >= size ? total : share(total, rank + 1, size) / unit * unit;
}

void oi_dist_rows(uint64_t total, int rank, int size, uint64_t *first, uint64_t *end) {
    uint64_t blocks = (total + OI_DIST_ROW_BLOCK - 1) / OI_DIST_ROW_BLOCK;
    oi_dist_range(blocks, 1, rank, size, first, end);
    *first *= OI_DIST_ROW_BLOCK;
    *end = *end * OI_DIST_ROW_BLOCK < total ? *end * OI_DIST_ROW_BLOCK : total;
    if (*first > *end) *first = *end;
}

bool oi_dist_test_fail(void) {
    const char *text = getenv("OCLINIT_TEST_FAIL_RANK");
    char *end;
    if (!text || !*text) return false;
    long rank = strtol(text, &end, 10);
    return !*end && rank == job.rank;
}

#if OCLINIT_MPI

oclinit_status oi_dist_mpi_failed(int code, const char *call) {
    char text[MPI_MAX_ERROR_STRING] = "";
    int length = 0;
    MPI_Error_string(code, text, &length);
    return oi_fail(OCLINIT_ERROR_IO, "%s failed: %s", call, text);
}

#define MPI_CHECK(call)                                                                                                \
    do {                                                                                                               \
        int oi_mpi_code_ = (call);                                                                                     \
        if (oi_mpi_code_ != MPI_SUCCESS) return oi_dist_mpi_failed(oi_mpi_code_, #call);                               \
    } while (0)

oclinit_status oi_dist_init(void) {
    int initialized = 0, provided = 0;
    if (job.joined || !oi_dist_launched()) return OCLINIT_SUCCESS;
    MPI_Initialized(&initialized);
    if (initialized) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "MPI was started by someone else");
    /* Only the main thread calls MPI (the checkpoint's writer thread only writes files). */
    MPI_CHECK(MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided));
    job.joined = true;
    /* Errors come back as codes, to be reported as this rank's failure, rather than ending the job. */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &job.rank));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &job.size));
    MPI_Comm local;
    MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, job.rank, MPI_INFO_NULL, &local));
    MPI_Comm_rank(local, &job.local_rank);
    MPI_Comm_size(local, &job.local_size);
    MPI_Comm_free(&local);
    return OCLINIT_SUCCESS;
}

void oi_dist_finalize(void) {
    int finalized = 0;
    if (!job.joined) return;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
    job.joined = false;
}

oclinit_status oi_dist_barrier(void) {
    if (!oi_dist_active()) return OCLINIT_SUCCESS;
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    return OCLINIT_SUCCESS;
}

oclinit_status oi_dist_broadcast(void *data, size_t bytes, int root) {
    if (!oi_dist_active()) return OCLINIT_SUCCESS;
    for (size_t sent = 0; sent < bytes;) {
        size_t piece = bytes - sent < (1u << 30) ? bytes - sent : (1u << 30);
        MPI_CHECK(MPI_Bcast((char *)data + sent, (int)piece, MPI_BYTE, root, MPI_COMM_WORLD));
        sent += piece;
    }
    return OCLINIT_SUCCESS;
}

int oi_dist_lowest(bool mine) {
    int candidate = mine ? job.rank : job.size, lowest = candidate;
    if (!oi_dist_active()) return mine ? 0 : -1;
    if (MPI_Allreduce(&candidate, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS) return job.rank;
    return lowest < job.size ? lowest : -1;
}

oclinit_status oi_dist_status(oclinit_status status) {
    if (!oi_dist_active()) return status;
    int failed = oi_dist_lowest(status != OCLINIT_SUCCESS);
    if (failed < 0) return OCLINIT_SUCCESS;
    struct {
        int status;
        char detail[1024];
    } outcome = {(int)status, ""};
    if (failed == job.rank) snprintf(outcome.detail, sizeof outcome.detail, "%s", oclinit_error_get_detail());
    /* A broadcast that fails leaves each rank its own outcome; the job ends on every rank all the same. */
    if (oi_dist_broadcast(&outcome, sizeof outcome, failed) != OCLINIT_SUCCESS)
        return status != OCLINIT_SUCCESS ? status : OCLINIT_ERROR_IO;
    return oi_fail((oclinit_status)outcome.status, "rank %d of %d: %s", failed, job.size, outcome.detail);
}

/* One rank's text of a value, sent to all. */
static oclinit_status text_of(const char *mine, int from, char *text, size_t size) {
    if (job.rank == from) snprintf(text, size, "%s", mine);
    return oi_dist_broadcast(text, size, from);
}

oclinit_status oi_dist_agree(const oi_dist_value *values, size_t count) {
    oclinit_status status = OCLINIT_SUCCESS;
    if (!oi_dist_active()) return OCLINIT_SUCCESS;
    /* Every rank's hashes beside rank 0's: the lowest rank with any difference, then the first value it differs in. */
    uint64_t *hashes = calloc(count + 1, sizeof *hashes);
    uint64_t *first = calloc(count + 1, sizeof *first); /* rank 0's */
    bool alloc_failed = !hashes || !first;
    int differs = oi_dist_lowest(alloc_failed);
    if (differs >= 0) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "rank %d: comparing the options of the ranks", differs);
        goto cleanup;
    }
    /* A count that differs is a program's mistake (each command passes a fixed list), found before the arrays are
     * sent, as their sizes must match. */
    first[0] = count;
    OI_CHECK(oi_dist_broadcast(first, sizeof *first, 0));
    differs = oi_dist_lowest(first[0] != count);
    if (differs >= 0) {
        status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "rank %d compares %zu options, rank 0 %zu", differs, count,
                         (size_t)first[0]);
        goto cleanup;
    }
    for (size_t i = 0; i < count; i++)
        hashes[i] = oi_fnv1a(0xcbf29ce484222325u, values[i].text, strlen(values[i].text));
    memcpy(first, hashes, count * sizeof *first);
    OI_CHECK(oi_dist_broadcast(first, count * sizeof *first, 0));
    differs = oi_dist_lowest(memcmp(first, hashes, count * sizeof *first) != 0);
    if (differs < 0) goto cleanup;
    /* The first value that differs, found on the differing rank, then its name and both texts sent to all. */
    int which = 0;
    if (job.rank == differs)
        while (which + 1 < (int)count && first[which] == hashes[which]) which++;
    OI_CHECK(oi_dist_broadcast(&which, sizeof which, differs));
    char name[128], on_first[256], on_other[256];
    OI_CHECK(text_of(values[which].name, differs, name, sizeof name));
    OI_CHECK(text_of(values[which].text, 0, on_first, sizeof on_first));
    OI_CHECK(text_of(values[which].text, differs, on_other, sizeof on_other));
    status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                     "the ranks disagree on %s: \"%s\" on rank 0, \"%s\" on rank %d (every rank must run the same "
                     "command)",
                     name, on_first, on_other, differs);
cleanup:
    free(first);
    free(hashes);
    return status;
}

#else

oclinit_status oi_dist_init(void) {
    return OCLINIT_SUCCESS;
}

void oi_dist_finalize(void) {
}

oclinit_status oi_dist_barrier(void) {
    return OCLINIT_SUCCESS;
}

oclinit_status oi_dist_broadcast(void *data, size_t bytes, int root) {
    (void)data, (void)bytes, (void)root;
    return OCLINIT_SUCCESS;
}

int oi_dist_lowest(bool mine) {
    return mine ? 0 : -1;
}

oclinit_status oi_dist_status(oclinit_status status) {
    return status;
}

oclinit_status oi_dist_agree(const oi_dist_value *values, size_t count) {
    (void)values, (void)count;
    return OCLINIT_SUCCESS;
}

#endif
