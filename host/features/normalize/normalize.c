/* Normalization: fitting per-feature statistics (kernels/normalize.cl or the host twin, both through
 * kernels/normalize.h), merging them in double, and applying min-max or z-score with given statistics. */
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "features/features.h"
#include "normalize.h"

extern const char oi_kernel_normalize[];
const oi_program oi_program_normalize = {"kernels/normalize.cl", oi_kernel_normalize, 0};
const oi_program oi_program_normalize_one_lane = {"kernels/normalize.cl", oi_kernel_normalize, 1};

_Static_assert(OI_FIT_CHUNK_ROWS == OI_DIST_ROW_BLOCK, "a rank's rows are whole fit chunks");

/* Host data pass through the device in chunks of at most this many bytes. */
#define DEVICE_CHUNK_BYTES ((size_t)256 << 20)

struct oclinit_normalizer {
    oclinit_normalize_method method;
    double lo, hi;
    size_t features;
    oclinit_stats *stats;
    char **names; /* per feature, or NULL */
    char *label;  /* header name or 1-based index, or NULL */
};

static const name_entry method_names[] = {
    {"minmax", OCLINIT_NORMALIZE_MINMAX},  {"min-max", OCLINIT_NORMALIZE_MINMAX},  {"zscore", OCLINIT_NORMALIZE_ZSCORE},
    {"z-score", OCLINIT_NORMALIZE_ZSCORE}, {"standard", OCLINIT_NORMALIZE_ZSCORE},
};

OI_NAMED_ENUM(oclinit_normalize_method, method_names, "method")

/* ---- Fitting ------------------------------------------------------------------------------------------------ */

typedef struct accumulator {
    double count, mean, m2, min, max;
} accumulator;

/* Chan et al.'s merge of one chunk's statistics, in chunk order (the same order on device and host). The
 * chunk's shift, mean and m2 are in units of its scale, a power of two: dividing it out in double is exact. */
static void merge_partials(accumulator *acc, const float *partials, size_t chunks, size_t features, size_t rows) {
    for (size_t c = 0; c < chunks; c++) {
        double n = (double)(rows - c * OI_FIT_CHUNK_ROWS < OI_FIT_CHUNK_ROWS ? rows - c * OI_FIT_CHUNK_ROWS
                                                                             : OI_FIT_CHUNK_ROWS);
        for (size_t f = 0; f < features; f++) {
            const float *p = partials + (c * features + f) * OI_CHUNK_STATS_FIELDS;
            accumulator *a = &acc[f];
            double unit = 1.0 / (double)p[5];
            double mean = ((double)p[0] + (double)p[1]) * unit, total = a->count + n, delta = mean - a->mean;
            a->m2 += (double)p[2] * unit * unit + delta * delta * a->count * n / total;
            a->mean += delta * n / total;
            a->count = total;
            a->min = p[3] < a->min ? p[3] : a->min;
            a->max = p[4] > a->max ? p[4] : a->max;
        }
    }
}

static float inverse(size_t n) {
    return (float)(1.0 / (double)n);
}

/* The host twin of oi_fit_chunks: groups of 16 features as vectors (host/normalize_twin.c), the rest here. */
static void fit_chunks_host(const float *x, size_t rows, size_t features, float *partials) {
    size_t chunks = (rows + OI_FIT_CHUNK_ROWS - 1) / OI_FIT_CHUNK_ROWS;
    size_t last = rows - (chunks - 1) * OI_FIT_CHUNK_ROWS;
    size_t done = oi_normalize_twin_fit(x, rows, features, inverse(OI_FIT_CHUNK_ROWS), inverse(last), partials);
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < (int64_t)chunks; c++) {
        size_t first = (size_t)c * OI_FIT_CHUNK_ROWS;
        oi_u32 n = (oi_u32)(rows - first < OI_FIT_CHUNK_ROWS ? rows - first : OI_FIT_CHUNK_ROWS);
        for (size_t f = done; f < features; f++) {
            oi_chunk_stats s = oi_fit_chunk(x + first * features, features, f, n, inverse(n));
            float *out = partials + ((size_t)c * features + f) * OI_CHUNK_STATS_FIELDS;
            out[0] = s.shift, out[1] = s.mean, out[2] = s.m2, out[3] = s.min, out[4] = s.max, out[5] = s.scale;
        }
    }
}

static oclinit_status fit_chunks_device(oclinit_runtime_t rt, cl_mem x, size_t rows, size_t features, float *partials) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_kernel kernel;
    cl_mem out = NULL;
    size_t chunks = (rows + OI_FIT_CHUNK_ROWS - 1) / OI_FIT_CHUNK_ROWS;
    size_t bytes = chunks * features * OI_CHUNK_STATS_FIELDS * sizeof(float);
    cl_ulong rows_arg = rows, features_arg = features;
    size_t last = rows - (chunks - 1) * OI_FIT_CHUNK_ROWS;
    cl_float inverse_full = inverse(OI_FIT_CHUNK_ROWS), inverse_last = inverse(last);
    size_t lanes = features >= rt->lanes ? rt->lanes : 1; /* lanes are features: narrower data take one lane */
    size_t items[2] = {(features + lanes - 1) / lanes, chunks};
    OI_CHECK(oi_runtime_kernel(rt, lanes > 1 ? &oi_program_normalize : &oi_program_normalize_one_lane, "oi_fit_chunks",
                               &kernel));
    OI_CHECK(oi_buffer_create(rt, bytes, &out));
    OI_CHECK(oi_set_kernel_args(kernel, 6, sizeof x, &x, sizeof rows_arg, &rows_arg, sizeof features_arg, &features_arg,
                                sizeof inverse_full, &inverse_full, sizeof inverse_last, &inverse_last, sizeof out,
                                &out));
    OI_CL_CHECK(clEnqueueNDRangeKernel(rt->queue, kernel, 2, NULL, items, NULL, 0, NULL, NULL));
    OI_CL_CHECK(clEnqueueReadBuffer(rt->queue, out, CL_TRUE, 0, bytes, partials, 0, NULL, NULL));
cleanup:
    if (out) clReleaseMemObject(out);
    return status;
}

static oclinit_status check_range(oclinit_normalize_method method, double lo, double hi) {
    if (method != OCLINIT_NORMALIZE_MINMAX && method != OCLINIT_NORMALIZE_ZSCORE)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown normalization method %d", (int)method);
    if (!(lo < hi) || !isfinite(lo) || !isfinite(hi) || !isfinite((float)lo) || !isfinite((float)hi))
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the range needs finite LO < HI, got %g, %g", lo, hi);
    return OCLINIT_SUCCESS;
}

static oclinit_status check_fit_shape(size_t rows, size_t features) {
    if (features == 0) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "there is no feature column to fit");
    if (rows < 2)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                       "fitting needs at least 2 rows (the std of one sample is not a fit); the data have %zu", rows);
    return OCLINIT_SUCCESS;
}

static oclinit_status normalizer_new(oclinit_normalize_method method, double lo, double hi, size_t features,
                                     oclinit_normalizer_t *out) {
    oclinit_normalizer_t n = calloc(1, sizeof *n);
    if (n) n->stats = calloc(features, sizeof *n->stats);
    if (!n || !n->stats) {
        free(n);
        return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating statistics for %zu features", features);
    }
    n->method = method;
    n->lo = lo;
    n->hi = hi;
    n->features = features;
    *out = n;
    return OCLINIT_SUCCESS;
}

/* Finite data have finite statistics (the chunks' scales keep every partial in range), so a non-finite one
 * means a NaN or an infinity in the data. */
static oclinit_status finish_stats(oclinit_normalizer_t n, const accumulator *acc) {
    for (size_t f = 0; f < n->features; f++) {
        oclinit_stats *s = &n->stats[f];
        s->count = (uint64_t)acc[f].count;
        s->mean = acc[f].mean;
        s->std = sqrt(acc[f].m2 / acc[f].count);
        s->min = acc[f].min;
        s->max = acc[f].max;
        if (!isfinite(s->mean) || !isfinite(s->std) || !isfinite(s->min) || !isfinite(s->max))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "feature %zu holds a NaN or an infinity (its statistics came out as mean %g, std %g, "
                           "min %g, max %g); fitting needs finite data",
                           f + 1, s->mean, s->std, s->min, s->max);
        /* Rounding may leave the mean of a nearly constant feature a hair outside [min, max], where no mean can
         * be (and where the statistics file's reader refuses it). */
        s->mean = fmin(fmax(s->mean, s->min), s->max);
    }
    return OCLINIT_SUCCESS;
}

static accumulator *new_accumulators(size_t features) {
    accumulator *acc = malloc(features * sizeof *acc);
    for (size_t f = 0; acc && f < features; f++) acc[f] = (accumulator){0, 0, 0, INFINITY, -INFINITY};
    return acc;
}

/* Rows per pass through the device: whole fit chunks, within the device's largest buffer. */
static size_t device_chunk_rows(oclinit_runtime_t rt, size_t rows, size_t features) {
    size_t limit = rt->info.max_allocation < DEVICE_CHUNK_BYTES ? (size_t)rt->info.max_allocation : DEVICE_CHUNK_BYTES;
    size_t chunk = limit / (features * sizeof(float)) / OI_FIT_CHUNK_ROWS * OI_FIT_CHUNK_ROWS;
    if (chunk == 0) chunk = OI_FIT_CHUNK_ROWS;
    return chunk < rows ? chunk : rows;
}

/* The chunks' statistics of rows [first, end) (first at a chunk's start; x holds them from row first on) into partials,
 * through the device in steps of rows or with the host twin. */
static oclinit_status fit_rows(oclinit_runtime_t rt, const float *x, size_t first, size_t end, size_t features,
                               float *partials) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_mem buffer = NULL;
    if (first >= end) return OCLINIT_SUCCESS;
    size_t step = !oi_runtime_on_host(rt) ? device_chunk_rows(rt, end - first, features) : end - first;
    if (!oi_runtime_on_host(rt)) OI_CHECK(oi_buffer_create(rt, step * features * sizeof(float), &buffer));
    for (size_t at = first; at < end; at += step) {
        size_t n = end - at < step ? end - at : step;
        const float *part = x + (at - first) * features;
        float *out = partials + at / OI_FIT_CHUNK_ROWS * features * OI_CHUNK_STATS_FIELDS;
        if (buffer) {
            OI_CL_CHECK(clEnqueueWriteBuffer(rt->queue, buffer, CL_FALSE, 0, n * features * sizeof(float), part, 0,
                                             NULL, NULL));
            OI_CHECK(fit_chunks_device(rt, buffer, n, features, out));
        } else {
            fit_chunks_host(part, n, features, out);
        }
    }
cleanup:
    if (buffer) clReleaseMemObject(buffer);
    return status;
}

/* Fits host data: every chunk's statistics, then their merge in chunk order. Under mpirun (collective) each rank fits
 * the chunks of its oi_dist_rows and the ranks exchange them, so the merge, and the statistics, are those of one
 * process. x holds rows [first, first + held) of total: all of them, or (data-parallel) exactly this rank's. */
static oclinit_status fit_host_data(oclinit_runtime_t rt, const float *x, size_t first, size_t held, size_t total,
                                    size_t features, accumulator *acc) {
    oclinit_status status = OCLINIT_SUCCESS;
    size_t chunks = (total + OI_FIT_CHUNK_ROWS - 1) / OI_FIT_CHUNK_ROWS;
    uint64_t mine = 0, end = total;
    float *partials = malloc(chunks * features * OI_CHUNK_STATS_FIELDS * sizeof(float));
    if (oi_dist_active()) oi_dist_rows(total, oi_dist_rank(), oi_dist_size(), &mine, &end);
    if (!partials)
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating partial statistics");
    else if (held == total)
        status = fit_rows(rt, x + mine * features, (size_t)mine, (size_t)end, features, partials);
    else if (first != mine || first + held != end)
        status =
            oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "rank %d holds rows [%zu, %zu) of %zu, not its share [%llu, %llu)",
                    oi_dist_rank(), first, first + held, total, (unsigned long long)mine, (unsigned long long)end);
    else
        status = fit_rows(rt, x, first, first + held, features, partials);
    OI_CHECK(oi_dist_status(status));
    OI_CHECK(oi_dist_gather(partials, chunks, features * OI_CHUNK_STATS_FIELDS));
    merge_partials(acc, partials, chunks, features, total);
cleanup:
    free(partials);
    return status;
}

static char *copy_string(const char *text) {
    char *copy = text ? malloc(strlen(text) + 1) : NULL;
    if (copy) strcpy(copy, text);
    return copy;
}

oclinit_status oclinit_normalizer_fit(oclinit_runtime_t runtime, oclinit_normalize_method method, double lo, double hi,
                                      oclinit_table_t table, oclinit_normalizer_t *normalizer) {
    OI_REQUIRE(table, "table");
    OI_REQUIRE(normalizer, "normalizer");
    return oi_normalizer_fit_part(runtime, method, lo, hi, table, 0, table->rows, normalizer);
}

oclinit_status oi_normalizer_fit_part(oclinit_runtime_t runtime, oclinit_normalize_method method, double lo, double hi,
                                      oclinit_table_t table, size_t first, size_t total,
                                      oclinit_normalizer_t *normalizer) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_normalizer_t n = NULL;
    accumulator *acc = NULL;
    OI_REQUIRE(table, "table");
    OI_REQUIRE(normalizer, "normalizer");
    OI_CHECK(check_range(method, lo, hi));
    OI_CHECK(check_fit_shape(total, table->features));
    OI_CHECK(normalizer_new(method, lo, hi, table->features, &n));
    acc = new_accumulators(table->features);
    if (!acc) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating statistics");
        goto cleanup;
    }
    OI_CHECK(fit_host_data(runtime, table->data, first, table->rows, total, table->features, acc));
    OI_CHECK(finish_stats(n, acc));
    if (table->names) {
        n->names = calloc(n->features, sizeof *n->names);
        for (size_t f = 0; n->names && f < n->features; f++)
            n->names[f] = copy_string(oclinit_table_get_feature_name(table, f));
    }
    if (table->label_column != OI_NO_LABEL) {
        char index[24];
        snprintf(index, sizeof index, "%zu", table->label_column + 1);
        n->label = copy_string(table->names ? table->names[table->label_column] : index);
    }
    *normalizer = n;
    n = NULL;
cleanup:
    free(acc);
    oclinit_normalizer_free(n);
    return status;
}

oclinit_status oclinit_normalizer_fit_buffer(oclinit_runtime_t runtime, oclinit_normalize_method method, double lo,
                                             double hi, cl_mem data, size_t rows, size_t features,
                                             oclinit_normalizer_t *normalizer) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_normalizer_t n = NULL;
    accumulator *acc = NULL;
    float *partials = NULL;
    if (oi_runtime_on_host(runtime))
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "fitting a cl_mem needs an OpenCL device");
    OI_REQUIRE(data, "data");
    OI_REQUIRE(normalizer, "normalizer");
    OI_CHECK(check_range(method, lo, hi));
    OI_CHECK(check_fit_shape(rows, features));
    OI_CHECK(normalizer_new(method, lo, hi, features, &n));
    size_t chunks = (rows + OI_FIT_CHUNK_ROWS - 1) / OI_FIT_CHUNK_ROWS;
    acc = new_accumulators(features);
    partials = malloc(chunks * features * OI_CHUNK_STATS_FIELDS * sizeof(float));
    if (!acc || !partials) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating partial statistics");
        goto cleanup;
    }
    OI_CHECK(fit_chunks_device(runtime, data, rows, features, partials));
    merge_partials(acc, partials, chunks, features, rows);
    OI_CHECK(finish_stats(n, acc));
    *normalizer = n;
    n = NULL;
cleanup:
    free(partials);
    free(acc);
    oclinit_normalizer_free(n);
    return status;
}

/* ---- Applying ----------------------------------------------------------------------------------------------- */

/* A feature index given to an accessor: false, with the detail recorded, when there is no such feature. */
static bool has_feature(const char *function, oclinit_normalizer_t n, size_t feature) {
    if (n && feature < n->features) return true;
    if (!n)
        oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: normalizer is NULL", function);
    else
        oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s: feature %zu does not exist; the normalizer has %zu", function,
                feature, n->features);
    return false;
}

bool oclinit_normalizer_is_constant(oclinit_normalizer_t n, size_t f) {
    if (!has_feature(__func__, n, f)) return false;
    return !(n->stats[f].max > n->stats[f].min);
}

/* The parameters of OI_NORMALIZE for each feature, params[k * stride + f], from the statistics in double.
 * Fitted statistics always give finite ones; statistics from a file may not fit float32. */
static oclinit_status transform_params(oclinit_normalizer_t n, float *params, size_t stride) {
    for (size_t f = 0; f < n->features; f++) {
        const oclinit_stats *s = &n->stats[f];
        bool minmax = n->method == OCLINIT_NORMALIZE_MINMAX;
        /* A constant feature: lo for min-max, 0 for z-score, as scikit-learn, whatever x is (prescale 0). */
        float threshold = INFINITY, low_anchor = 0, low_offset = minmax ? (float)n->lo : 0.0f, high_anchor = 0,
              high_offset = low_offset, scale = 0, prescale = 0;
        if (!oclinit_normalizer_is_constant(n, f)) {
            /* The range times prescale in [1, 2), prescale kept to float's normal powers of two (the range is at
             * least 2^-149 and under 2^129, so the scaled range stays within [2^-22, 8)). */
            int exponent = ilogb(s->max - s->min);
            prescale = ldexpf(1.0f, exponent > 126 ? -126 : exponent < -127 ? 127 : -exponent);
            if (minmax) {
                /* Anchored at (min, lo) below the middle and at (max, hi) above: both ends map exactly. */
                low_anchor = (float)s->min * prescale, low_offset = (float)n->lo;
                high_anchor = (float)s->max * prescale, high_offset = (float)n->hi;
                scale = (float)((n->hi - n->lo) / ((s->max - s->min) * prescale));
                threshold = (float)((s->min + s->max) / 2);
            } else {
                /* (x - c) / std + (c - mean) / std with c the float nearest the mean: x - c loses nothing. */
                low_anchor = high_anchor = (float)s->mean * prescale;
                scale = (float)(1.0 / (s->std * prescale));
                low_offset = high_offset = (float)(((double)low_anchor / prescale - s->mean) / s->std);
            }
        }
        float values[OI_PARAM_COUNT] = {[OI_PARAM_THRESHOLD] = threshold,     [OI_PARAM_LOW_ANCHOR] = low_anchor,
                                        [OI_PARAM_LOW_OFFSET] = low_offset,   [OI_PARAM_HIGH_ANCHOR] = high_anchor,
                                        [OI_PARAM_HIGH_OFFSET] = high_offset, [OI_PARAM_SCALE] = scale,
                                        [OI_PARAM_PRESCALE] = prescale};
        for (int k = OI_PARAM_THRESHOLD + 1; k < OI_PARAM_COUNT; k++)
            if (!isfinite(values[k]))
                return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                               "feature %zu: its statistics (mean %g, std %g, min %g, max %g) cannot be applied in "
                               "float32",
                               f + 1, s->mean, s->std, s->min, s->max);
        for (int k = 0; k < OI_PARAM_COUNT; k++) params[k * stride + f] = values[k];
    }
    return OCLINIT_SUCCESS;
}

/* The host twin of oi_normalize_apply. */
static void apply_host(const float *params, size_t features, float *x, size_t rows) {
    const float *p[OI_PARAM_COUNT];
    for (int k = 0; k < OI_PARAM_COUNT; k++) p[k] = params + k * features;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < (int64_t)rows; r++) {
        float *row = x + (size_t)r * features;
        for (size_t f = 0; f < features; f++)
            row[f] = OI_NORMALIZE(row[f], p[OI_PARAM_THRESHOLD][f], p[OI_PARAM_LOW_ANCHOR][f],
                                  p[OI_PARAM_LOW_OFFSET][f], p[OI_PARAM_HIGH_ANCHOR][f], p[OI_PARAM_HIGH_OFFSET][f],
                                  p[OI_PARAM_SCALE][f], p[OI_PARAM_PRESCALE][f]);
    }
}

/* The first row of normalized data with a value beyond float32's range, or rows: a vectorized scan of blocks, then
 * the exact place in a block that has one. */
static size_t first_overflow(const float *x, size_t rows, size_t features) {
    const size_t count = rows * features, block = 1 << 14;
    size_t first = count;
#pragma omp parallel for schedule(static) reduction(min : first)
    for (int64_t b = 0; b < (int64_t)((count + block - 1) / block); b++) {
        size_t begin = (size_t)b * block, end = begin + block < count ? begin + block : count;
        int beyond = 0;
#pragma omp simd reduction(| : beyond)
        for (size_t i = begin; i < end; i++) beyond |= !(fabsf(x[i]) <= FLT_MAX);
        for (size_t i = begin; beyond && i < end; i++)
            if (!(fabsf(x[i]) <= FLT_MAX)) {
                if (i < first) first = i;
                break;
            }
    }
    return first == count ? rows : first / features;
}

/* Data far enough outside the fitted range normalize beyond float32's range (e.g. 1e38 with a training std of
 * 0.1): refused, never written as infinity. row is 0-based in the table. */
static oclinit_status overflowed(oclinit_normalizer_t n, oclinit_table_t t, size_t row) {
    size_t f = 0;
    while (f + 1 < t->features && fabsf(t->data[row * t->features + f]) <= FLT_MAX) f++;
    const oclinit_stats *s = &n->stats[f];
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                   "row %zu, feature %zu (column %zu): the value lies so far outside the fitted statistics (mean %g, "
                   "std %g, min %g, max %g) that its normalized value is beyond float32's range",
                   row + 1, f + 1, oclinit_table_get_feature_column(t, f), s->mean, s->std, s->min, s->max);
}

/* The device's parameter buffer: each array extended to features + lanes - 1 entries, entry m holding
 * feature m mod features (kernels/normalize.cl). */
static oclinit_status device_params(oclinit_runtime_t rt, oclinit_normalizer_t n, cl_mem *buffer, size_t *stride) {
    *stride = n->features + rt->lanes - 1;
    float *params = malloc(OI_PARAM_COUNT * *stride * sizeof(float));
    if (!params) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating normalization parameters");
    oclinit_status status = transform_params(n, params, *stride);
    for (int k = 0; k < OI_PARAM_COUNT; k++)
        for (size_t m = n->features; m < *stride; m++) params[k * *stride + m] = params[k * *stride + m % n->features];
    if (status == OCLINIT_SUCCESS) status = oi_buffer_create(rt, OI_PARAM_COUNT * *stride * sizeof(float), buffer);
    if (status == OCLINIT_SUCCESS) {
        cl_int error = clEnqueueWriteBuffer(rt->queue, *buffer, CL_TRUE, 0, OI_PARAM_COUNT * *stride * sizeof(float),
                                            params, 0, NULL, NULL);
        if (error != CL_SUCCESS) {
            clReleaseMemObject(*buffer);
            *buffer = NULL;
            status = oi_fail((oclinit_status)error, "uploading normalization parameters: %s",
                             oclinit_status_str((oclinit_status)error));
        }
    }
    free(params);
    return status;
}

static oclinit_status apply_device(oclinit_runtime_t rt, cl_mem in, cl_mem out, size_t count, size_t features,
                                   cl_mem params, size_t stride) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_kernel kernel;
    cl_ulong count_arg = count, features_arg = features, stride_arg = stride;
    size_t per_item = 16 * (size_t)rt->lanes; /* OI_APPLY_VECTORS vectors of OI_LANES */
    size_t items = (count + per_item - 1) / per_item;
    if (count == 0) return OCLINIT_SUCCESS;
    OI_CHECK(oi_runtime_kernel(rt, &oi_program_normalize, "oi_normalize_apply", &kernel));
    OI_CHECK(oi_set_kernel_args(kernel, 6, sizeof in, &in, sizeof out, &out, sizeof count_arg, &count_arg,
                                sizeof features_arg, &features_arg, sizeof params, &params, sizeof stride_arg,
                                &stride_arg));
    OI_CL_CHECK(clEnqueueNDRangeKernel(rt->queue, kernel, 1, NULL, &items, NULL, 0, NULL, NULL));
cleanup:
    return status;
}

static oclinit_status check_table_matches(oclinit_normalizer_t n, oclinit_table_t t) {
    if (t->features != n->features)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the data have %zu feature columns, the statistics %zu",
                       t->features, n->features);
    for (size_t f = 0; n->names && t->names && f < n->features; f++) {
        const char *name = oclinit_table_get_feature_name(t, f);
        if (n->names[f] && strcmp(name, n->names[f]) != 0)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "feature %zu is \"%s\" in the data but \"%s\" in the statistics (column %zu of the file)",
                           f + 1, name, n->names[f], oclinit_table_get_feature_column(t, f));
    }
    return OCLINIT_SUCCESS;
}

oclinit_status oclinit_normalizer_apply(oclinit_runtime_t runtime, oclinit_normalizer_t normalizer,
                                        oclinit_table_t table) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_mem params = NULL, buffer = NULL;
    float *host_params = NULL;
    size_t stride;
    OI_REQUIRE(normalizer, "normalizer");
    OI_REQUIRE(table, "table");
    OI_CHECK(check_table_matches(normalizer, table));
    size_t rows = table->rows, features = table->features;
    if (rows == 0) return OCLINIT_SUCCESS;
    if (oi_runtime_on_host(runtime)) {
        host_params = malloc(OI_PARAM_COUNT * features * sizeof(float));
        if (!host_params) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating normalization parameters");
        OI_CHECK(transform_params(normalizer, host_params, features));
        apply_host(host_params, features, table->data, rows);
    } else {
        OI_CHECK(device_params(runtime, normalizer, &params, &stride));
        size_t step = device_chunk_rows(runtime, rows, features);
        OI_CHECK(oi_buffer_create(runtime, step * features * sizeof(float), &buffer));
        for (size_t first = 0; first < rows; first += step) {
            size_t n = rows - first < step ? rows - first : step, bytes = n * features * sizeof(float);
            float *part = table->data + first * features;
            OI_CL_CHECK(clEnqueueWriteBuffer(runtime->queue, buffer, CL_FALSE, 0, bytes, part, 0, NULL, NULL));
            OI_CHECK(apply_device(runtime, buffer, buffer, n * features, features, params, stride));
            OI_CL_CHECK(clEnqueueReadBuffer(runtime->queue, buffer, CL_TRUE, 0, bytes, part, 0, NULL, NULL));
        }
    }
    size_t overflow = first_overflow(table->data, rows, features);
    if (overflow < rows) status = overflowed(normalizer, table, overflow);
cleanup:
    if (buffer) clReleaseMemObject(buffer);
    if (params) clReleaseMemObject(params);
    free(host_params);
    return status;
}

oclinit_status oclinit_normalizer_apply_buffer(oclinit_runtime_t runtime, oclinit_normalizer_t normalizer, cl_mem in,
                                               cl_mem out, size_t rows) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_mem params = NULL;
    size_t stride;
    if (oi_runtime_on_host(runtime))
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "applying to a cl_mem needs an OpenCL device");
    OI_REQUIRE(normalizer, "normalizer");
    OI_REQUIRE(in, "in");
    OI_REQUIRE(out, "out");
    OI_CHECK(device_params(runtime, normalizer, &params, &stride));
    OI_CHECK(apply_device(runtime, in, out, rows * normalizer->features, normalizer->features, params, stride));
    OI_CL_CHECK(clFinish(runtime->queue));
cleanup:
    if (params) clReleaseMemObject(params);
    return status;
}

/* ---- Accessors ---------------------------------------------------------------------------------------------- */

void oclinit_normalizer_free(oclinit_normalizer_t n) {
    if (!n) return;
    for (size_t f = 0; n->names && f < n->features; f++) free(n->names[f]);
    free(n->names);
    free(n->label);
    free(n->stats);
    free(n);
}

oclinit_normalize_method oclinit_normalizer_get_method(oclinit_normalizer_t n) {
    OI_REQUIRE_OR(n, "normalizer", OCLINIT_NORMALIZE_MINMAX);
    return n->method;
}

void oclinit_normalizer_get_range(oclinit_normalizer_t n, double *lo, double *hi) {
    if (lo) *lo = NAN;
    if (hi) *hi = NAN;
    OI_REQUIRE_OR(n, "normalizer", );
    OI_REQUIRE_OR(lo, "lo", );
    OI_REQUIRE_OR(hi, "hi", );
    *lo = n->lo;
    *hi = n->hi;
}

size_t oclinit_normalizer_get_features(oclinit_normalizer_t n) {
    OI_REQUIRE_OR(n, "normalizer", 0);
    return n->features;
}

oclinit_stats oclinit_normalizer_get_stats(oclinit_normalizer_t n, size_t feature) {
    const oclinit_stats none = {0, NAN, NAN, NAN, NAN};
    return has_feature(__func__, n, feature) ? n->stats[feature] : none;
}

const char *oclinit_normalizer_get_feature_name(oclinit_normalizer_t n, size_t feature) {
    return has_feature(__func__, n, feature) && n->names ? n->names[feature] : NULL;
}

const char *oclinit_normalizer_get_label(oclinit_normalizer_t n) {
    OI_REQUIRE_OR(n, "normalizer", NULL);
    return n->label;
}

/* ---- The statistics file -------------------------------------------------------------------------------------
 * Text, one item per line, '#' starts a comment:
 *   oclinit-normalization 1
 *   method zscore                      (or minmax)
 *   range 0 1                          (min-max's target range)
 *   label "species"                    (the label column: header name, or 1-based index; or none)
 *   features 2
 *   feature 1 "sepal length" 150 5.8433333333333337 0.82530064... 4.3 7.9
 *                                      (index, name or -, count, mean, std, min, max; %.17g round-trips) */

#define STATS_MAGIC "oclinit-normalization"
#define STATS_VERSION 1

/* A growing string; the first failed allocation sticks in ok. */
typedef struct text {
    char *data;
    size_t length, capacity;
    bool ok;
} text;

static void append(text *t, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void append(text *t, const char *format, ...) {
    for (int attempt = 0; attempt < 2 && t->ok; attempt++) {
        va_list args;
        va_start(args, format);
        int length =
            vsnprintf(t->data ? t->data + t->length : NULL, t->data ? t->capacity - t->length : 0, format, args);
        va_end(args);
        if (length < 0) t->ok = false;
        if (!t->ok || (t->data && t->length + (size_t)length < t->capacity)) {
            if (t->ok) t->length += (size_t)length;
            return;
        }
        size_t capacity = 2 * (t->capacity + (size_t)length + 64);
        char *grown = realloc(t->data, capacity);
        if (!grown)
            t->ok = false;
        else
            t->data = grown, t->capacity = capacity;
    }
}

/* "text" with \" and \\ escaped, and line breaks as spaces (one item per line). */
static void append_quoted(text *t, const char *value) {
    append(t, "\"");
    for (; *value; value++) {
        if (*value == '"' || *value == '\\')
            append(t, "\\%c", *value);
        else
            append(t, "%c", *value == '\n' || *value == '\r' ? ' ' : *value);
    }
    append(t, "\"");
}

oclinit_status oi_normalizer_text(oclinit_normalizer_t n, char **result, size_t *length) {
    text t = {NULL, 0, 0, true};
    /* What is written must read back: the reader takes finite numbers only. */
    for (size_t f = 0; f < n->features; f++) {
        const oclinit_stats *s = &n->stats[f];
        if (!isfinite(s->mean) || !isfinite(s->std) || !isfinite(s->min) || !isfinite(s->max))
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "feature %zu's statistics are not finite (mean %g, std %g, min %g, max %g); they are not "
                           "written",
                           f + 1, s->mean, s->std, s->min, s->max);
    }
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!c_locale) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "creating the C locale");
    locale_t previous = uselocale(c_locale);
    append(&t,
           "# oclinit normalization statistics, fitted on the training data.\n"
           "# minmax: lo + (x - min) (hi - lo) / (max - min); zscore: (x - mean) / std (ddof 0).\n"
           "%s %d\nmethod %s\nrange %.17g %.17g\nlabel ",
           STATS_MAGIC, STATS_VERSION, oclinit_normalize_method_str(n->method), n->lo, n->hi);
    if (n->label)
        append_quoted(&t, n->label);
    else
        append(&t, "none");
    append(&t, "\nfeatures %zu\n# index name count mean std min max\n", n->features);
    for (size_t f = 0; f < n->features; f++) {
        const oclinit_stats *s = &n->stats[f];
        append(&t, "feature %zu ", f + 1);
        if (n->names && n->names[f])
            append_quoted(&t, n->names[f]);
        else
            append(&t, "-");
        append(&t, " %llu %.17g %.17g %.17g %.17g\n", (unsigned long long)s->count, s->mean, s->std, s->min, s->max);
    }
    uselocale(previous);
    freelocale(c_locale);
    if (!t.ok) {
        free(t.data);
        return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "writing the statistics");
    }
    *result = t.data;
    *length = t.length;
    return OCLINIT_SUCCESS;
}

oclinit_status oi_normalizer_writer(const void *normalizer, oi_output *out) {
    char *data;
    size_t length;
    oclinit_status status = oi_normalizer_text((oclinit_normalizer_t)normalizer, &data, &length);
    if (status != OCLINIT_SUCCESS) return status;
    status = oi_output_write(out, data, length);
    free(data);
    return status;
}

oclinit_status oclinit_normalizer_save(oclinit_normalizer_t normalizer, const char *path) {
    OI_REQUIRE(normalizer, "normalizer");
    OI_REQUIRE(path, "path");
    return oi_output_write_file(path, oi_normalizer_writer, normalizer);
}

/* Splits a line into at most max tokens: bare words, or "quoted" text with \ escapes (unescaped in place). */
static int tokenize(char *line, char **tokens, int max, bool *quoted) {
    int count = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r') p++;
        if (!*p || *p == '#') return count;
        if (count == max) return -1;
        quoted[count] = *p == '"';
        if (*p == '"') {
            char *dst = ++p;
            tokens[count++] = dst;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1]) p++;
                *dst++ = *p++;
            }
            if (*p != '"') return -1;
            p++;
            *dst = '\0';
            if (*p && *p != ' ' && *p != '\t' && *p != '\r') return -1;
        } else {
            tokens[count++] = p;
            while (*p && *p != ' ' && *p != '\t' && *p != '\r') p++;
        }
        if (*p) *p++ = '\0';
    }
}

/* In the C locale (the caller switched this thread to it). */
static bool parse_finite(const char *text, double *value) {
    char *end;
    *value = strtod(text, &end);
    return end != text && *end == '\0' && isfinite(*value);
}

oclinit_status oi_normalizer_parse(const char *path, char *data, size_t size, oclinit_normalizer_t *normalizer) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_normalizer_t n = NULL;
    size_t line_number = 0, features_seen = 0;
    locale_t c_locale = (locale_t)0, previous = (locale_t)0;
    bool have_magic = false, have_method = false, have_range = false, have_label = false;
    oclinit_normalize_method method = OCLINIT_NORMALIZE_ZSCORE;
    double lo = 0, hi = 1;
    char *label = NULL;

    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!c_locale) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "creating the C locale");
        goto cleanup;
    }
    previous = uselocale(c_locale);
    if (memchr(data, '\0', size)) {
        status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "%s is not a statistics file (it holds binary data)", path);
        goto cleanup;
    }
    for (char *line = data, *next; line < data + size; line = next) {
        line_number++;
        next = strchr(line, '\n');
        next = next ? (*next = '\0', next + 1) : data + size;
        char *tokens[8];
        bool quoted[8];
        int count = tokenize(line, tokens, 8, quoted);
        if (count == 0) continue;
        if (count < 0) goto malformed;
        if (!have_magic) {
            long version;
            char *end;
            if (count != 2 || strcmp(tokens[0], STATS_MAGIC) != 0) {
                status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                                 "%s is not an oclinit statistics file (its first line should be \"%s %d\")", path,
                                 STATS_MAGIC, STATS_VERSION);
                goto cleanup;
            }
            version = strtol(tokens[1], &end, 10);
            if (*end || version < 1) goto malformed;
            if (version > STATS_VERSION) {
                status = oi_fail(OCLINIT_ERROR_NOT_SUPPORTED,
                                 "%s has format version %ld, written by a newer oclinit; this one reads version %d",
                                 path, version, STATS_VERSION);
                goto cleanup;
            }
            have_magic = true;
        } else if (strcmp(tokens[0], "method") == 0 && count == 2 && !have_method) {
            if (oclinit_normalize_method_parse(tokens[1], &method) != OCLINIT_SUCCESS) goto malformed;
            have_method = true;
        } else if (strcmp(tokens[0], "range") == 0 && count == 3 && !have_range) {
            if (!parse_finite(tokens[1], &lo) || !parse_finite(tokens[2], &hi) || !(lo < hi)) goto malformed;
            have_range = true;
        } else if (strcmp(tokens[0], "label") == 0 && count == 2 && !have_label) {
            if (quoted[1] || strcmp(tokens[1], "none") != 0) {
                label = copy_string(tokens[1]);
                if (!label) goto out_of_memory;
            }
            have_label = true;
        } else if (strcmp(tokens[0], "features") == 0 && count == 2 && !n && have_method && have_range) {
            char *end;
            unsigned long long features = strtoull(tokens[1], &end, 10);
            if (*end || features == 0 || features > (1u << 24) || tokens[1][0] == '-') goto malformed;
            OI_CHECK(normalizer_new(method, lo, hi, (size_t)features, &n));
            n->names = calloc(n->features, sizeof *n->names);
            if (!n->names) goto out_of_memory;
        } else if (strcmp(tokens[0], "feature") == 0 && count == 8 && n && features_seen < n->features) {
            char *end;
            unsigned long long index = strtoull(tokens[1], &end, 10), rows;
            oclinit_stats *s = &n->stats[features_seen];
            if (*end || index != features_seen + 1) goto malformed;
            rows = strtoull(tokens[3], &end, 10);
            if (*end || rows < 2 || tokens[3][0] == '-') goto malformed;
            s->count = rows;
            if (!parse_finite(tokens[4], &s->mean) || !parse_finite(tokens[5], &s->std) ||
                !parse_finite(tokens[6], &s->min) || !parse_finite(tokens[7], &s->max) || s->std < 0 ||
                s->min > s->max || s->mean < s->min || s->mean > s->max)
                goto malformed;
            if (quoted[2] || strcmp(tokens[2], "-") != 0) {
                n->names[features_seen] = copy_string(tokens[2]);
                if (!n->names[features_seen]) goto out_of_memory;
            }
            features_seen++;
        } else {
            goto malformed;
        }
    }
    if (!have_magic || !have_method || !have_range || !n || features_seen != n->features) {
        status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                         "%s is incomplete: it needs the magic line, method, range, features and one feature line each",
                         path);
        goto cleanup;
    }
    n->label = label;
    label = NULL;
    *normalizer = n;
    n = NULL;
    goto cleanup;
malformed:
    status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                     "%s: line %zu is not valid statistics (see README.md, "
                     "\"The command line\", the statistics file)",
                     path, line_number);
    goto cleanup;
out_of_memory:
    status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "reading %s", path);
cleanup:
    if (previous) uselocale(previous);
    if (c_locale) freelocale(c_locale);
    free(label);
    oclinit_normalizer_free(n);
    return status;
}

oclinit_status oclinit_normalizer_load(const char *path, oclinit_normalizer_t *normalizer) {
    char *data;
    size_t size;
    OI_REQUIRE(path, "path");
    OI_REQUIRE(normalizer, "normalizer");
    *normalizer = NULL;
    oclinit_status status = oi_read_file(path, &data, &size);
    if (status != OCLINIT_SUCCESS) return status;
    status = oi_normalizer_parse(path, data, size, normalizer);
    free(data);
    return status;
}
