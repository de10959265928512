/* Built-in data sets of two classes in the plane, made with Philox so the same seed gives the same points
 * everywhere: scikit-learn's make_circles (factor 0.8) and make_moons, and two interleaved spirals. */
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
    if ((unsigned)dataset > OCLINIT_DATASET_SPIRALS) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown data set");
    if (samples < 2 || !x || !y) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "a data set needs at least 2 samples");
    if (!(noise >= 0) || !isfinite(noise)) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "noise must be >= 0");
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
        float *offsets = malloc(2 * samples * sizeof(float));
        if (!offsets) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating noise");
        oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_NORMAL,
                                  .mean = 0,
                                  .std = (float)noise,
                                  .rows = (int64_t)samples,
                                  .columns = 2};
        oclinit_status status = oclinit_init_fill_host(NULL, &d, seed, stream + 1, 0, 2 * samples, offsets);
        for (size_t i = 0; status == OCLINIT_SUCCESS && i < 2 * samples; i++) x[i] += offsets[i];
        free(offsets);
        if (status != OCLINIT_SUCCESS) return status;
    }
    return OCLINIT_SUCCESS;
}
