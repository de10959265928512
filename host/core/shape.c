/* Tensor shapes: parsing "64,3,3,3", printing "(64, 3, 3, 3)", counting elements without overflow. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* A float32 tensor's bytes must fit 2^63, and Philox blocks of 4 elements stay below 2^61 (the contract keeps
 * blocks from 2^62 up for per-tensor choices, e.g. sparse's). */
#define MAX_ELEMENTS ((uint64_t)1 << 61)

oclinit_shape oclinit_shape_matrix(int64_t rows, int64_t columns) {
    oclinit_shape shape;
    memset(&shape, 0, sizeof shape);
    shape.rank = 2;
    shape.dims[0] = rows;
    shape.dims[1] = columns;
    return shape;
}

oclinit_status oclinit_shape_get_elements(const oclinit_shape *shape, uint64_t *elements) {
    OI_REQUIRE(shape, "shape");
    OI_REQUIRE(elements, "elements");
    if (shape->rank < 1 || shape->rank > OCLINIT_MAX_RANK)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "a shape has 1 to %d dimensions, got %d", OCLINIT_MAX_RANK,
                       shape->rank);
    uint64_t n = 1;
    for (int d = 0; d < shape->rank; d++) {
        if (shape->dims[d] < 1) {
            char text[OCLINIT_MAX_RANK * 24];
            oclinit_shape_format(shape, text, sizeof text);
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "shape %s: every dimension must be at least 1", text);
        }
        if (__builtin_mul_overflow(n, (uint64_t)shape->dims[d], &n) || n > MAX_ELEMENTS) {
            char text[OCLINIT_MAX_RANK * 24];
            oclinit_shape_format(shape, text, sizeof text);
            return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW, "shape %s has more than 2^61 elements", text);
        }
    }
    *elements = n;
    return OCLINIT_SUCCESS;
}

oclinit_status oclinit_shape_parse(const char *text, oclinit_shape *shape) {
    oclinit_shape parsed;
    uint64_t unused;
    OI_REQUIRE(text, "text");
    OI_REQUIRE(shape, "shape");
    memset(&parsed, 0, sizeof parsed);
    const char *p = text;
    for (;;) {
        char *end;
        if (parsed.rank == OCLINIT_MAX_RANK)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "shape \"%s\": at most %d dimensions", text,
                           OCLINIT_MAX_RANK);
        errno = 0;
        long long d = *p >= '0' && *p <= '9' ? strtoll(p, &end, 10) : (end = (char *)p, 0);
        if (end == p || errno == ERANGE || d < 1)
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "shape \"%s\": expected positive whole numbers separated by commas, e.g. 64,3,3,3", text);
        parsed.dims[parsed.rank++] = d;
        p = end;
        if (*p == '\0') break;
        if (*p != ',' && *p != 'x')
            return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT,
                           "shape \"%s\": expected positive whole numbers separated by commas, e.g. 64,3,3,3", text);
        p++;
    }
    oclinit_status status = oclinit_shape_get_elements(&parsed, &unused);
    if (status == OCLINIT_SUCCESS) *shape = parsed;
    return status;
}

void oclinit_shape_format(const oclinit_shape *shape, char *text, size_t size) {
    OI_REQUIRE_OR(text || size == 0, "text", );
    if (size > 0) text[0] = '\0';
    OI_REQUIRE_OR(shape, "shape", );
    int rank = shape->rank < 0 ? 0 : shape->rank > OCLINIT_MAX_RANK ? OCLINIT_MAX_RANK : shape->rank;
    size_t used = (size_t)snprintf(text, size, "(");
    for (int d = 0; d < rank && used < size; d++)
        used += (size_t)snprintf(text + used, size - used, "%s%lld", d ? ", " : "", (long long)shape->dims[d]);
    if (used < size) snprintf(text + used, size - used, rank == 1 ? ",)" : ")");
}
