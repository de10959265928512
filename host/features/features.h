/* The features layer: initialization (features/init), normalization (features/normalize) and the network
 * (features/nn). Each feature owns its kernels' program; the runtime only caches what they build. Uses core, io and
 * blas. */
#ifndef OCLINIT_FEATURES_H
#define OCLINIT_FEATURES_H

#include "blas/blas.h"

/* ---- Initialization (features/init) ---- */

/* kernels/init.cl, embedded at build time. */
extern const oi_program oi_program_init;

/* The scheme options as `oclinit init` and specs name them, and the schemes each applies to (an option given to a
 * scheme that does not use it is refused, never ignored). */
typedef enum oi_scheme_option {
    OI_OPTION_VALUE,
    OI_OPTION_MEAN,
    OI_OPTION_STD,
    OI_OPTION_A,
    OI_OPTION_B,
    OI_OPTION_SCALE,
    OI_OPTION_GAIN,
    OI_OPTION_NEGATIVE_SLOPE,
    OI_OPTION_SPARSITY,
    OI_OPTION_GROUPS,
    OI_OPTION_FAN_IN,
    OI_OPTION_FAN_OUT,
    OI_OPTION_MODE,
    OI_OPTION_NONLINEARITY,
    OI_OPTION_DISTRIBUTION,
    OI_OPTION_CONVENTION,
    OI_OPTION_COUNT
} oi_scheme_option;
#define OI_OPTION_LIST                                                                                                 \
    "value, mean, std, a, b, scale, gain, negative-slope, sparsity, groups, fan-in, fan-out, mode, nonlinearity, "     \
    "distribution, convention"
const char *oi_scheme_option_name(oi_scheme_option option);
/* The option called name ('_' for '-' accepted: negative_slope); OI_OPTION_COUNT for none. */
oi_scheme_option oi_scheme_option_find(const char *name);
bool oi_scheme_option_applies(oi_scheme_option option, oclinit_scheme_kind kind);
/* The option a scheme has no default for (constant's value, sparse's sparsity, as PyTorch requires them) and what it
 * means ("" when its name says it); OI_OPTION_COUNT for a scheme that needs none. */
oi_scheme_option oi_scheme_required_option(oclinit_scheme_kind kind, const char **meaning);

/* Checks a distribution's parameters and shape (also what oclinit_scheme_resolve returns through). */
oclinit_status oi_distribution_check(const oclinit_distribution *distribution);

/* Enqueues a fill of buffer (float32) without waiting for it to finish. */
oclinit_status oi_init_enqueue_fill(oclinit_runtime_t runtime, const oclinit_distribution *distribution, uint64_t seed,
                                    uint64_t stream, uint64_t first, uint64_t count, cl_mem buffer, size_t offset);
/* Whether the device makes the distribution's samples straight in dtype (BF16, F16; F32 always), rounded in the
 * sampling kernel itself: the samplers (uniform, normal, trunc-normal) where a work-item has 4 lanes or more (CPU
 * devices, whose memory traffic this halves). Otherwise the caller rounds a float32 fill (oi_dtype_enqueue_convert). */
bool oi_init_fills_in(oclinit_runtime_t runtime, const oclinit_distribution *distribution, oclinit_dtype dtype);
/* oi_init_enqueue_fill into a buffer of that dtype, where oi_init_fills_in; offset in elements. */
oclinit_status oi_init_enqueue_fill_in(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                       uint64_t seed, uint64_t stream, uint64_t first, uint64_t count,
                                       oclinit_dtype dtype, cl_mem buffer, size_t offset);

/* What a random distribution draws with, in plain floats (the twin's lane types stay in init_twin.c). */
typedef struct oi_sampler {
    oclinit_distribution_kind kind;
    float a, width, mean, std;
    float trunc[7]; /* oi_trunc_normal_params, in its order */
} oi_sampler;

/* Which of the twin's block loops runs: the best the CPU has, or a lesser one (tests compare each with the device;
 * one the CPU lacks falls back to the best it has). */
typedef enum oi_twin_isa { OI_TWIN_BEST, OI_TWIN_AVX512, OI_TWIN_AVX2, OI_TWIN_PLAIN } oi_twin_isa;
extern oi_twin_isa oi_init_twin_isa;

/* Elements [first, first + count) of a uniform, normal or truncated normal tensor, vectorized and on all cores. */
void oi_init_twin_fill(const oi_sampler *sampler, uint64_t seed, uint64_t stream, uint64_t first, uint64_t count,
                       float *out);

/* The host C twin of the kernels, on all cores (OpenMP). */
void oi_init_fill_host_twin(const oclinit_distribution *distribution, uint64_t seed, uint64_t stream, uint64_t first,
                            uint64_t count, float *out);

/* orthogonal (features/init/orthogonal.c): the whole tensor into out. The normal(0, 1) tensor of the same shape
 * and (seed, stream), made on runtime (a device or the host C path: the same bits), is viewed as a (rows, rest)
 * matrix and factored by Householder QR in double in a fixed order on the host; gain Q with Q's columns signed by
 * diag(R), as torch.nn.init.orthogonal_. */
oclinit_status oi_orthogonal_make(oclinit_runtime_t runtime, const oclinit_distribution *distribution, uint64_t seed,
                                  uint64_t stream, float *out);

/* sparse (features/init/sparse.c, kernels/sparse.cl): zeroes, in elements [first, first + count) of a tensor whose
 * normal values are already there, those that the contract's per-column choice of distribution->zeros rows selects.
 * The host twin, and the same on a device buffer (enqueued, not waited for). */
void oi_sparse_twin_zero(const oclinit_distribution *distribution, uint64_t seed, uint64_t stream, uint64_t first,
                         uint64_t count, float *out);
oclinit_status oi_sparse_enqueue_zero(oclinit_runtime_t runtime, const oclinit_distribution *distribution,
                                      uint64_t seed, uint64_t stream, uint64_t first, uint64_t count, cl_mem buffer,
                                      size_t offset);

/* Tensors in chunks (features/init/chunks.c), for writers that stream them, in their file's dtype (F32, or BF16 /
 * F16 rounded from the contract's float32 values by kernels/dtype.h): on a device chunks k + 1 and k + 2 are
 * made while consume() runs on chunk k. Created once with room for chunks of chunk_bytes of float32 (0: 16 MiB on
 * the host C path, 64 MiB on a device), or of most elements when fewer; the device buffers are made first, so a
 * device too small fails before any file exists. place(), when given, says where chunk [first, first + count) must
 * land, and is asked for chunk k + 2 before consume() gets chunk k (so the caller keeps three chunks' room); without
 * it the chunker's own buffers hold the chunks. */
typedef struct oi_chunker oi_chunker;
typedef void *(*oi_chunk_place_fn)(void *user, uint64_t first, size_t count);
typedef oclinit_status (*oi_chunk_fn)(void *user, uint64_t first, const void *data, size_t count);
oclinit_status oi_chunker_create(oclinit_runtime_t runtime, oclinit_dtype dtype, size_t chunk_bytes, uint64_t most,
                                 oi_chunker **chunker);
/* Elements in its largest chunk: what a place() must have room for at a time. */
uint64_t oi_chunker_elements(const oi_chunker *chunker);
/* A writer thread (core/slots.c) whose slots hold a chunk each, for a place() that hands them out: on a CPU device
 * the samplers make their chunks there and map them, rather than read them back. Stop it (oi_slots_stop) before the
 * files it writes go, free it after the chunker, whose buffers lie over its slots. */
oclinit_status oi_chunker_start_slots(oi_chunker *chunker, oi_slots **slots);
/* Every element of the tensor, in order, through consume; its failure stops the run and is returned. */
oclinit_status oi_chunker_run(oi_chunker *chunker, const oclinit_distribution *distribution, uint64_t seed,
                              uint64_t stream, oi_chunk_fn consume, void *user);
/* Elements [begin, end) only (end clipped to the tensor's size), equal to that range of the whole run: a rank's
 * part. */
oclinit_status oi_chunker_run_range(oi_chunker *chunker, const oclinit_distribution *distribution, uint64_t seed,
                                    uint64_t stream, uint64_t begin, uint64_t end, oi_chunk_place_fn place,
                                    oi_chunk_fn consume, void *user);
void oi_chunker_free(oi_chunker *chunker);

/* Mean, std, min and max of values seen in chunks (Chan et al.'s merge); start from {0}. */
typedef struct oi_running_stats {
    uint64_t count;
    double mean, m2, min, max;
} oi_running_stats;
void oi_running_stats_add(oi_running_stats *stats, const float *x, size_t n);
oclinit_stats oi_running_stats_get(const oi_running_stats *stats);

/* ---- Normalization (features/normalize) ---- */

/* kernels/normalize.cl at the device's vector width, and with one lane for fewer features than lanes. */
extern const oi_program oi_program_normalize, oi_program_normalize_one_lane;

/* Per-chunk statistics (kernels/normalize.h) of the features in whole groups of 16, as vectors on all cores,
 * into partials (chunk, feature, field); returns how many features that covered. */
size_t oi_normalize_twin_fit(const float *x, size_t rows, size_t features, float inverse_full, float inverse_last,
                             float *partials);

/* A statistics file from memory (data holds size + 1 bytes, data[size] == 0, and may be modified). */
oclinit_status oi_normalizer_parse(const char *name, char *data, size_t size, oclinit_normalizer_t *normalizer);
/* The statistics file of a normalizer (the object) written to out: an oi_writer. */
oclinit_status oi_normalizer_writer(const void *normalizer, oi_output *out);
/* The statistics file's text, malloc'ed (also the part of a model file that holds its normalization). */
oclinit_status oi_normalizer_text(oclinit_normalizer_t normalizer, char **text, size_t *length);

/* ---- The network (features/nn) ---- */

/* A model file from memory (what oclinit_network_load reads from path; path names it in messages), its network
 * made on runtime. */
oclinit_status oi_model_parse(const char *path, const char *data, size_t size, oclinit_runtime_t runtime,
                              oclinit_network_t *network, oclinit_normalizer_t *normalizer);

/* A network buffer: device memory, or host memory on the host C path. */
typedef struct oi_net_buffer {
    cl_mem mem;
    float *host;
} oi_net_buffer;

/* The parts of the parameter buffer, in order. */
enum { OI_NET_W1, OI_NET_B1, OI_NET_W2, OI_NET_B2, OI_NET_W3, OI_NET_B3, OI_NET_PARTS };

/* What the optimizer step takes besides the buffers (kernels/network.h's oi_step_params). */
typedef struct oi_step_params oi_step_params;

/* Where the network runs: the primitives the forward/backward sequence (network.c) is written over, once on the
 * host (network_host.c: OpenBLAS and kernels/network.h) and once on a device (network_device.c: CLBlast and
 * kernels/network.cl). The two give the same bits. */
typedef struct oi_net_backend {
    oclinit_status (*alloc)(oclinit_network_t net, oi_net_buffer *b, size_t floats);
    oclinit_status (*write)(oclinit_network_t net, oi_net_buffer *b, size_t offset, const float *from, size_t floats);
    oclinit_status (*read)(oclinit_network_t net, const oi_net_buffer *b, size_t offset, float *to, size_t floats);
    oclinit_status (*zero)(oclinit_network_t net, oi_net_buffer *b, size_t floats);
    /* C (m x n, ldc) = op(A) op(B), row-major, at element offsets. */
    oclinit_status (*gemm)(oclinit_network_t net, const oi_gemm_shape *shape, const oi_net_buffer *a, size_t a_offset,
                           size_t lda, const oi_net_buffer *b, size_t b_offset, size_t ldb, oi_net_buffer *c,
                           size_t c_offset, size_t ldc);
    /* z = g(z + b) over a (rows, units) block. */
    oclinit_status (*bias_activation)(oclinit_network_t net, oi_net_buffer *z, size_t rows, size_t units,
                                      size_t bias_offset);
    /* The output layer on m rows from row first of the data, part of a batch of batch rows: z3 becomes dZ3 (divided
     * by batch), the b3 gradient at grads[gradient_base + b3's offset] its sum, and totals[at], totals[at + 1] this
     * part's cost and accuracy, each divided by batch. With finish (the part is the whole sum), also what result()
     * does for iteration, which then need not run. */
    oclinit_status (*output_loss)(oclinit_network_t net, size_t first, size_t m, size_t batch, size_t gradient_base,
                                  oi_net_buffer *totals, size_t at, bool finish, size_t iteration);
    /* grads[to + j] += grads[from + j] for j < count: one addition of the gradients' tree. */
    oclinit_status (*add)(oclinit_network_t net, size_t to, size_t from, size_t count);
    /* result = (cost, accuracy) of the summed gradients' totals; result[2] the iteration when the cost is not finite
     * and result[2] is still negative (so the host need not read the cost every iteration). */
    oclinit_status (*result)(oclinit_network_t net, size_t iteration);
    /* delta (m, units) = dA becomes dZ, and the bias gradient its column sums. */
    oclinit_status (*activation_backward)(oclinit_network_t net, oi_net_buffer *delta, const oi_net_buffer *a, size_t m,
                                          size_t units, size_t bias_offset);
    oclinit_status (*update)(oclinit_network_t net, int optimizer, const oi_step_params *params);
    /* sigmoid(z3 + b3) of m rows into out. */
    oclinit_status (*probabilities)(oclinit_network_t net, size_t m, float *out);
    /* Waits for what is enqueued (nothing to do on the host). */
    oclinit_status (*finish)(oclinit_network_t net);
} oi_net_backend;

extern const oi_net_backend oi_net_host, oi_net_device;

/* kernels/network.cl. */
extern const oi_program oi_program_network;

struct oclinit_network {
    const oi_net_backend *backend;
    oclinit_runtime_t rt; /* the device's runtime; NULL on the host C path */
    oclinit_network_shape shape;
    size_t parameter_count, offsets[OI_NET_PARTS];
    oi_net_buffer params, state1, state2; /* state: momentum's velocity, Adam's moments */
    /* Gradient slots of OI_NET_STRIDE floats, a stack of the micro-batches' partial sums (train.c): each holds
     * gradients in the parameters' layout, then their cost and accuracy. Slot 0 ends with the batch's sum. */
    oi_net_buffer grads;
    size_t slot_capacity;
    oi_net_buffer result; /* cost, accuracy, first non-finite iteration */
    /* Data (samples, inputs) and labels, and per-batch work: activations A1 (batch, h1), A2 (batch, h2), the
     * output z3 (batch), and the gradients dZ1, dZ2 in d1, d2. */
    oi_net_buffer x, y, a1, a2, z3, d1, d2;
    size_t data_capacity, batch_capacity;
    size_t steps;       /* optimizer steps since the parameters were set (Adam's t) */
    size_t launches;    /* kernel launches and CLBlast calls enqueued so far */
    double init_std[3]; /* the weights' std at init, for diagnosing divergence */
    oclinit_scheme_kind init_scheme;
};

oclinit_status oi_net_reserve(oclinit_network_t net, size_t samples, size_t batch);
/* Floats of a gradient slot: the parameters' gradients, the cost and the accuracy. */
#define OI_NET_STRIDE(net) ((net)->parameter_count + 2)
/* Room for slots gradient slots. */
oclinit_status oi_net_reserve_slots(oclinit_network_t net, size_t slots);
oclinit_status oi_net_write(oclinit_network_t net, oi_net_buffer *b, size_t offset, const float *from, size_t floats);
oclinit_status oi_net_read(oclinit_network_t net, const oi_net_buffer *b, size_t offset, float *to, size_t floats);
/* The forward pass over rows [first, first + m) of the data: z3 holds the logits. */
oclinit_status oi_net_forward(oclinit_network_t net, size_t first, size_t m);
/* The loss of the m rows at first, then the backward pass: the gradients of those rows' share of a batch of batch
 * rows, their cost and accuracy, in gradient slot `slot`. whole: these rows are the batch and slot 0 its sum, so the
 * result of iteration is set too (backend->result). */
oclinit_status oi_net_backward(oclinit_network_t net, size_t first, size_t m, size_t batch, size_t slot, bool whole,
                               size_t iteration);
oclinit_status oi_net_update(oclinit_network_t net, oclinit_optimizer optimizer, const oclinit_train_options *options);
/* Data-parallel fit (collective): table holds rows [first, first + its rows) of a table of total rows, this rank's
 * oi_dist_rows (or all of them); the statistics are those oclinit_normalizer_fit gives on the whole table. */
oclinit_status oi_normalizer_fit_part(oclinit_runtime_t runtime, oclinit_normalize_method method, double lo, double hi,
                                      oclinit_table_t table, size_t first, size_t total,
                                      oclinit_normalizer_t *normalizer);
/* Data-parallel training (collective): x and y hold rows [first, first + held) of a training set of samples rows,
 * this rank's oi_dist_rows (or all of them); the model is the one oclinit_network_train makes on the whole set. */
oclinit_status oi_network_train_part(oclinit_network_t net, const float *x, const float *y, size_t first, size_t held,
                                     size_t samples, const oclinit_train_options *options,
                                     oclinit_train_result *result);
/* The micro-batches a batch of m rows is cut into (oclinit_train_options.micro_batches; train.c). */
size_t oi_train_micro_batches(const oclinit_train_options *options, size_t m);
/* Probabilities of the m rows of the last oi_net_forward. */
oclinit_status oi_net_probabilities(oclinit_network_t net, size_t m, float *out);

/* ---- Whole models (features/model) ---- */

/* A spec's rule, as the loader matched it against every tensor's name: a rule that matches none is likely a typo,
 * which `oclinit model` warns about. */
typedef struct oi_model_rule {
    const char *match; /* the glob; valid until the model is freed */
    size_t matched;    /* tensors whose name the glob matches, whether or not they took the rule's scheme */
    size_t applied;    /* tensors that took the rule's scheme: no scheme of their own and no earlier rule matching */
} oi_model_rule;

/* The number of rules: the spec's "rules", 0 for a config. On NULL: 0. */
size_t oi_model_rule_count(oclinit_model_t model);
/* Rule index (0 to rule count - 1), in the spec's order. On NULL or out of range: NULL. */
const oi_model_rule *oi_model_get_rule(oclinit_model_t model, size_t index);

#endif
