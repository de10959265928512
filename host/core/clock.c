/* The one clock of oclinit: monotonic, for durations. */
#include <time.h>

#include "core/core.h"

double oi_clock_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
