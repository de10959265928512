/* Built-in data sets of two classes in the plane, made with Philox so the same seed gives the same points
 * everywhere: scikit-learn's make_circles (factor 0.8) and make_moons, and two interleaved spirals. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/features.h"
#include "philox.h"

static const name_entry dataset_names[] = {
    {"circles", OCLINIT_DATASET_CIRCLES},
    {"moons", OCLINIT_DATASET_MOONS},
    {"spirals", OCLINIT_DATASET_SPIRALS},
};

OI_NAMED_ENUM(oclinit_dataset, dataset_names, "data set")

#define CIRCLES_FACTOR 0.8
#define NOISE_SLICE ((size_t)1 << 20) /* floats of noise made at a time */

/* Point i of class c (0 or 1) among count points of that class. */
static void point(oclinit_dataset dataset, size_t i, size_t count, int c, double *px, double *py) {
    switch (dataset) {
    case OCLINIT_DATASET_CIRCLES: { /* linspace(0, 2 pi, count, endpoint=False); class 1 inside, scaled */
        double angle = 2 * M_PI * (double)i / (double)count, radius = c ? CIRCLES_FACTOR : 1.0;
        *px = radius * cos(angle);
        *py = radius * sin(angle);
        return;
    }
    case OCLINIT_DATASET_MOONS: { /* linspace(0, pi, count); class 1 flipped and shifted */
        double angle = count > 1 ? M_PI * (double)i / (double)(count - 1) : 0;
        *px = c ? 1 - cos(angle) : cos(angle);
        *py = c ? 1 - sin(angle) - 0.5 : sin(angle);
        return;
    }
    case OCLINIT_DATASET_SPIRALS: { /* 1.5 turns each, class 1 rotated by half a turn */
        double t = (double)(i + 1) / (double)count, angle = 3 * M_PI * t + (c ? M_PI : 0);
        *px = t * cos(angle);
        *py = t * sin(angle);
        return;
    }
    }
}

oclinit_status oclinit_dataset_make(oclinit_dataset dataset, size_t samples, double noise, uint64_t seed,
                                    uint64_t stream, float *x, float *y) {
    size_t bytes;
    OI_REQUIRE(x, "x");
    OI_REQUIRE(y, "y");
    if ((unsigned)dataset > OCLINIT_DATASET_SPIRALS)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown data set %d", (int)dataset);
    if (samples < 2)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "a data set needs at least 2 samples, got %zu", samples);
    if (!(noise >= 0 && noise <= FLT_MAX))
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "noise must be a float32 number >= 0, got %g", noise);
    /* x holds 2 floats per sample: a count whose bytes do not fit cannot be a buffer the caller has. */
    oclinit_status status = oi_size_bytes("the data set's points", samples, 2, sizeof(float), &bytes);
    if (status != OCLINIT_SUCCESS) return status;
    size_t first_class = samples / 2, second_class = samples - first_class;
    for (size_t i = 0; i < samples; i++) {
        int c = i >= first_class;
        size_t k = c ? i - first_class : i;
        double px, py;
        point(dataset, k, c ? second_class : first_class, c, &px, &py);
        x[2 * i] = (float)px;
        x[2 * i + 1] = (float)py;
        y[i] = (float)c;
    }
    /* Shuffle the points (Fisher-Yates, Philox words of (seed, stream) block i / 4), then add the noise from the
     * normal stream stream + 1, as make_circles shuffles and then adds noise. */
    for (size_t i = samples - 1; i > 0; i--) {
        oi_philox_words w = oi_philox_block(seed, stream, i / 4);
        size_t j = (size_t)(((uint64_t)w.w[i % 4] * (uint64_t)(i + 1)) >> 32);
        float px = x[2 * i], py = x[2 * i + 1], label = y[i];
        x[2 * i] = x[2 * j], x[2 * i + 1] = x[2 * j + 1], y[i] = y[j];
        x[2 * j] = px, x[2 * j + 1] = py, y[j] = label;
    }
    if (noise > 0) {
        /* In slices: any slice of the noise tensor equals the same slice of the whole (oclinit_init_fill_host). */
        size_t total = 2 * samples, slice = total < NOISE_SLICE ? total : NOISE_SLICE;
        float *offsets = malloc(slice * sizeof(float));
        if (!offsets) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating the noise");
        oclinit_distribution d = {
            .kind = OCLINIT_DISTRIBUTION_NORMAL, .mean = 0, .std = (float)noise, .shape = {2, {(int64_t)samples, 2}}};
        for (size_t first = 0; status == OCLINIT_SUCCESS && first < total; first += slice) {
            size_t n = total - first < slice ? total - first : slice;
            status = oclinit_init_fill_host(NULL, &d, seed, stream + 1, first, n, offsets);
            for (size_t i = 0; status == OCLINIT_SUCCESS && i < n; i++) x[first + i] += offsets[i];
        }
        free(offsets);
    }
    return status;
}
