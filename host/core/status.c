/* Status codes, their names, and the per-thread detail of the last failure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

static _Thread_local char detail[1024];

oclinit_status oi_fail(oclinit_status status, const char *format, ...) {
    char message[sizeof detail]; /* the arguments may quote the previous detail: never format into it */
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    memcpy(detail, message, sizeof detail);
    return status;
}

void oi_clear_error(void) {
    detail[0] = '\0';
}

const char *oclinit_error_get_detail(void) {
    return detail;
}

static const char *opencl_status_str(int code) {
    switch (code) {
    case CL_DEVICE_NOT_FOUND: return "CL_DEVICE_NOT_FOUND";
    case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE";
    case CL_COMPILER_NOT_AVAILABLE: return "CL_COMPILER_NOT_AVAILABLE";
    case CL_MEM_OBJECT_ALLOCATION_FAILURE: return "CL_MEM_OBJECT_ALLOCATION_FAILURE (device memory exhausted)";
    case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES";
    case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY";
    case CL_BUILD_PROGRAM_FAILURE: return "CL_BUILD_PROGRAM_FAILURE";
    case CL_INVALID_VALUE: return "CL_INVALID_VALUE";
    case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE";
    case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT";
    case CL_INVALID_COMMAND_QUEUE: return "CL_INVALID_COMMAND_QUEUE";
    case CL_INVALID_MEM_OBJECT: return "CL_INVALID_MEM_OBJECT";
    case CL_INVALID_BUILD_OPTIONS: return "CL_INVALID_BUILD_OPTIONS";
    case CL_INVALID_PROGRAM_EXECUTABLE: return "CL_INVALID_PROGRAM_EXECUTABLE";
    case CL_INVALID_KERNEL_NAME: return "CL_INVALID_KERNEL_NAME";
    case CL_INVALID_KERNEL_ARGS: return "CL_INVALID_KERNEL_ARGS";
    case CL_INVALID_ARG_INDEX: return "CL_INVALID_ARG_INDEX";
    case CL_INVALID_ARG_VALUE: return "CL_INVALID_ARG_VALUE";
    case CL_INVALID_ARG_SIZE: return "CL_INVALID_ARG_SIZE";
    case CL_INVALID_WORK_GROUP_SIZE: return "CL_INVALID_WORK_GROUP_SIZE";
    case CL_INVALID_GLOBAL_WORK_SIZE: return "CL_INVALID_GLOBAL_WORK_SIZE";
    case CL_INVALID_BUFFER_SIZE: return "CL_INVALID_BUFFER_SIZE";
    case CL_INVALID_OPERATION: return "CL_INVALID_OPERATION";
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR (no OpenCL platform installed)";
    default: return NULL;
    }
}

const char *oclinit_status_str(oclinit_status status) {
    switch (status) {
    case OCLINIT_SUCCESS: return "success";
    case OCLINIT_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case OCLINIT_ERROR_OUT_OF_HOST_MEMORY: return "out of host memory";
    case OCLINIT_ERROR_NO_PLATFORM: return "no OpenCL platform";
    case OCLINIT_ERROR_DEVICE_NOT_FOUND: return "device not found";
    case OCLINIT_ERROR_KERNEL_BUILD: return "kernel build failed";
    case OCLINIT_ERROR_OUT_OF_DEVICE_MEMORY: return "out of device memory";
    case OCLINIT_ERROR_SIZE_OVERFLOW: return "size too large";
    case OCLINIT_ERROR_IO: return "input/output error";
    case OCLINIT_ERROR_NO_SPACE: return "no space left";
    case OCLINIT_ERROR_CANCELLED: return "cancelled";
    case OCLINIT_ERROR_NOT_SUPPORTED: return "not supported";
    case OCLINIT_ERROR_DIVERGED: return "training diverged";
    case OCLINIT_ERROR_BLAS: return "CLBlast failed";
    case OCLINIT_ERROR_BAD_MODEL: return "not a usable model file";
    }
    const char *name = opencl_status_str((int)status);
    if (name) return name;
    return (int)status < 0 && (int)status > -2000 ? "OpenCL error" : "unknown status";
}

bool oi_size_mul(size_t a, size_t b, size_t *product) {
    return !__builtin_mul_overflow(a, b, product);
}

oclinit_status oi_size_bytes(const char *what, size_t rows, size_t columns, size_t item, size_t *bytes) {
    size_t count;
    if (oi_size_mul(rows, columns, &count) && oi_size_mul(count, item, bytes)) return OCLINIT_SUCCESS;
    return oi_fail(OCLINIT_ERROR_SIZE_OVERFLOW,
                   "%s: %zu x %zu values of %zu bytes are more than this machine can address", what, rows, columns,
                   item);
}

oclinit_status oi_host_memory_fits(const char *what, size_t bytes) {
    double memory = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGE_SIZE);
    if (memory <= 0 || (double)bytes <= memory) return OCLINIT_SUCCESS;
    return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "%s needs %.1f GiB, more than the %.1f GiB of memory here", what,
                   (double)bytes / 1073741824.0, memory / 1073741824.0);
}

uint64_t oi_fnv1a(uint64_t hash, const void *data, size_t bytes) {
    const unsigned char *p = data;
    for (size_t i = 0; i < bytes; i++) hash = (hash ^ p[i]) * 0x100000001b3u;
    return hash;
}

void oi_printable(const char *text, size_t length, char *out, size_t size) {
    size_t n = 0;
    for (size_t i = 0; i < length && n + 4 < size; i++) {
        unsigned char c = (unsigned char)text[i];
        out[n++] = c >= 0x20 && c != 0x7f ? (char)c : '?';
    }
    if (n + 4 >= size && length > n) out[n++] = '.', out[n++] = '.', out[n++] = '.';
    out[n] = '\0';
}
