/* Model files: a network, its shape and activation, and the normalization fitted on its training data.
 *
 * Little-endian binary (README.md, "The command line": model files):
 *   0   8  magic "OCLINITM"
 *   8   4  format version (1)
 *   12  8  inputs       20  8  hidden1       28  8  hidden2
 *   36  4  activation (0 relu, 1 leaky_relu, 2 tanh, 3 sigmoid)   40  4  negative slope (float32)
 *   44  8  parameter count P     52  8  length L of the normalization text (0: none)
 *   60  L  the normalization statistics, in the text format of oclinit_normalizer_save
 *   60+L  4P  the parameters (float32): W1, b1, W2, b2, W3, b3, each W (fan_out, fan_in) row-major
 *   end-4  4  CRC-32 (zlib) of everything before it */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "features/features.h"

#define MODEL_MAGIC "OCLINITM"
#define MODEL_VERSION 1
#define MODEL_HEADER 60

static void put(unsigned char *p, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(value >> (8 * i));
}

static uint64_t get(const unsigned char *p, int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; i++) value |= (uint64_t)p[i] << (8 * i);
    return value;
}

/* The first parameter that is NaN or infinite, as "parameter 17 of 61 (W1 row 3, column 2) is nan", or false. */
static bool non_finite_parameter(oclinit_network_t net, const float *params, char *text, size_t size) {
    static const char *const names[OI_NET_PARTS] = {"W1", "b1", "W2", "b2", "W3", "b3"};
    const size_t fan_in[OI_NET_PARTS] = {net->shape.inputs, 1, net->shape.hidden1, 1, net->shape.hidden2, 1};
    for (size_t k = 0; k < net->parameter_count; k++) {
        if (isfinite(params[k])) continue;
        int part = OI_NET_PARTS - 1;
        while (k < net->offsets[part]) part--;
        size_t i = k - net->offsets[part];
        if (part % 2 == 0)
            snprintf(text, size, "parameter %zu of %zu (%s row %zu, column %zu) is %g", k + 1, net->parameter_count,
                     names[part], i / fan_in[part] + 1, i % fan_in[part] + 1, params[k]);
        else
            snprintf(text, size, "parameter %zu of %zu (%s entry %zu) is %g", k + 1, net->parameter_count, names[part],
                     i + 1, params[k]);
        return true;
    }
    return false;
}

oclinit_status oclinit_network_save(oclinit_network_t net, oclinit_normalizer_t normalizer, const char *path) {
    oclinit_status status = OCLINIT_SUCCESS;
    char *text = NULL;
    size_t text_length = 0;
    unsigned char *data = NULL;
    float *params = NULL;
    OI_REQUIRE(net, "network");
    OI_REQUIRE(path, "path");
    if (normalizer) {
        if (oclinit_normalizer_get_features(normalizer) != net->shape.inputs)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the normalization has %zu features, the network %zu inputs",
                           oclinit_normalizer_get_features(normalizer), net->shape.inputs);
        OI_CHECK(oi_normalizer_text(normalizer, &text, &text_length));
    }
    size_t size = MODEL_HEADER + text_length + 4 * net->parameter_count + 4;
    data = malloc(size);
    params = malloc(net->parameter_count * sizeof(float));
    if (!data || !params) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating %zu bytes for the model", size);
        goto cleanup;
    }
    OI_CHECK(oclinit_network_get_parameters(net, params));
    char bad[128];
    if (non_finite_parameter(net, params, bad, sizeof bad)) { /* loading would refuse it */
        status = oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "the network's %s; it is not saved", bad);
        goto cleanup;
    }
    memcpy(data, MODEL_MAGIC, 8);
    put(data + 8, MODEL_VERSION, 4);
    put(data + 12, net->shape.inputs, 8);
    put(data + 20, net->shape.hidden1, 8);
    put(data + 28, net->shape.hidden2, 8);
    put(data + 36, (uint64_t)net->shape.activation, 4);
    put(data + 40, oi_float_bits(net->shape.negative_slope), 4);
    put(data + 44, net->parameter_count, 8);
    put(data + 52, text_length, 8);
    if (text_length) memcpy(data + MODEL_HEADER, text, text_length);
    unsigned char *p = data + MODEL_HEADER + text_length;
    for (size_t k = 0; k < net->parameter_count; k++) put(p + 4 * k, oi_float_bits(params[k]), 4);
    put(data + size - 4, crc32(0L, data, (uInt)(size - 4)), 4);
    OI_CHECK(oi_output_write_bytes(path, data, size));
cleanup:
    free(params);
    free(data);
    free(text);
    return status;
}

static oclinit_status bad_model(const char *path, const char *why) {
    return oi_fail(OCLINIT_ERROR_BAD_MODEL, "%s: %s", path, why);
}

/* Whether a network of shape has at most count parameters, found without making it: a short file's header could
 * otherwise have buffers of terabytes allocated before its count is compared. */
static bool shape_fits(const oclinit_network_shape *s, uint64_t count) {
    size_t w1, w2, total = 1; /* b3 */
    const size_t *parts[] = {&w1, &s->hidden1, &w2, &s->hidden2, &s->hidden2};
    if (!oi_size_mul(s->hidden1, s->inputs, &w1) || !oi_size_mul(s->hidden2, s->hidden1, &w2)) return false;
    for (size_t i = 0; i < OI_COUNT(parts); i++)
        if (__builtin_add_overflow(total, *parts[i], &total)) return false;
    return total <= count;
}

/* OCLINIT_ERROR_BAD_MODEL, "<path>: <what>: <the detail of the call that failed>". The detail is copied first:
 * formatting the detail buffer into itself repeats it. */
static oclinit_status bad_model_because(const char *path, const char *what) {
    char cause[1024];
    snprintf(cause, sizeof cause, "%s", oclinit_error_get_detail());
    return oi_fail(OCLINIT_ERROR_BAD_MODEL, "%s: %s: %s", path, what, cause);
}

oclinit_status oclinit_network_load(oclinit_runtime_t runtime, const char *path, oclinit_network_t *network,
                                    oclinit_normalizer_t *normalizer) {
    char *data = NULL;
    size_t size = 0;
    OI_REQUIRE(path, "path");
    OI_REQUIRE(network, "network");
    OI_REQUIRE(normalizer, "normalizer");
    *network = NULL;
    *normalizer = NULL;
    oclinit_status status = oi_read_file(path, &data, &size);
    if (status == OCLINIT_SUCCESS) status = oi_model_parse(path, data, size, runtime, network, normalizer);
    free(data);
    return status;
}

oclinit_status oi_model_parse(const char *path, const char *data, size_t size, oclinit_runtime_t runtime,
                              oclinit_network_t *network, oclinit_normalizer_t *normalizer) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_network_t net = NULL;
    oclinit_normalizer_t norm = NULL;
    float *params = NULL;
    const unsigned char *b = (const unsigned char *)data;
    *network = NULL;
    *normalizer = NULL;
    if (size < 12 || memcmp(b, MODEL_MAGIC, 8) != 0) {
        status = bad_model(path, "not an oclinit model (it does not start with OCLINITM)");
        goto cleanup;
    }
    uint64_t version = get(b + 8, 4);
    if (version > MODEL_VERSION) {
        status = oi_fail(OCLINIT_ERROR_BAD_MODEL,
                         "%s: model format version %llu was written by a newer oclinit; this "
                         "one reads version %d",
                         path, (unsigned long long)version, MODEL_VERSION);
        goto cleanup;
    }
    if (version == 0 || size < MODEL_HEADER + 4) {
        status = bad_model(path, version == 0 ? "format version 0 does not exist" : "the file is truncated");
        goto cleanup;
    }
    oclinit_network_shape shape = {(size_t)get(b + 12, 8), (size_t)get(b + 20, 8), (size_t)get(b + 28, 8),
                                   (oclinit_activation)get(b + 36, 4), oi_bits_float((uint32_t)get(b + 40, 4))};
    uint64_t count = get(b + 44, 8), text_length = get(b + 52, 8);
    /* Sizes come from the file: check them before trusting any (no overflow, no reading past the end). */
    if (text_length > size || count > size / 4 || MODEL_HEADER + text_length + 4 * count + 4 != size) {
        status =
            bad_model(path, MODEL_HEADER + text_length + 4 * count + 4 > size || text_length > size || count > size / 4
                                ? "the file is truncated (it is shorter than its header says)"
                                : "the file is longer than its header says");
        goto cleanup;
    }
    if ((uint32_t)get(b + size - 4, 4) != (uint32_t)crc32(0L, b, (uInt)(size - 4))) {
        status = bad_model(path, "the checksum does not match: the file is corrupted");
        goto cleanup;
    }
    if (!shape_fits(&shape, count) || !isfinite(shape.negative_slope)) {
        status = bad_model(path, isfinite(shape.negative_slope) ? "the parameter count does not match the shapes"
                                                                : "its negative slope is not a finite number");
        goto cleanup;
    }
    status = oclinit_network_create(runtime, &shape, &net);
    if (status != OCLINIT_SUCCESS) {
        status = bad_model_because(path, "its network cannot be made");
        goto cleanup;
    }
    if (net->parameter_count != count) {
        status = bad_model(path, "the parameter count does not match the shapes");
        goto cleanup;
    }
    if (text_length) {
        char *text = malloc(text_length + 1);
        if (!text) {
            status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "reading %s", path);
            goto cleanup;
        }
        memcpy(text, data + MODEL_HEADER, text_length);
        text[text_length] = '\0';
        status = oi_normalizer_parse(path, text, text_length, &norm);
        free(text);
        if (status != OCLINIT_SUCCESS) {
            status = bad_model_because(path, "its normalization statistics are invalid");
            goto cleanup;
        }
        if (oclinit_normalizer_get_features(norm) != shape.inputs) {
            status = bad_model(path, "its normalization statistics do not match the network's inputs");
            goto cleanup;
        }
    }
    params = malloc(count * sizeof(float));
    if (!params) {
        status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "reading %s", path);
        goto cleanup;
    }
    const unsigned char *p = b + MODEL_HEADER + text_length;
    for (size_t k = 0; k < count; k++) params[k] = oi_bits_float((uint32_t)get(p + 4 * k, 4));
    char bad[128];
    if (non_finite_parameter(net, params, bad, sizeof bad)) {
        status = oi_fail(OCLINIT_ERROR_BAD_MODEL, "%s: its %s; the model cannot be used", path, bad);
        goto cleanup;
    }
    OI_CHECK(oclinit_network_set_parameters(net, params));
    *network = net;
    *normalizer = norm;
    net = NULL;
    norm = NULL;
cleanup:
    free(params);
    oclinit_normalizer_free(norm);
    oclinit_network_free(net);
    return status;
}
