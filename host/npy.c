/* The .npy format, version 1.0 (numpy.lib.format): magic "\x93NUMPY", version 1 0, a little-endian uint16
 * header length, then a Python dict literal padded with spaces and ended by '\n' so the data starts at a
 * multiple of 64 bytes. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

size_t oi_npy_header(char *header, int64_t rows, int64_t columns, const char *descr) {
    static const char magic[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
    char dict[OI_NPY_HEADER_MAX];
    int length = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%lld, %lld), }",
                          descr, (long long)rows, (long long)columns);
    size_t total = sizeof magic + 2 + (size_t)length + 1;
    size_t padded = (total + 63) / 64 * 64;
    size_t dict_length = padded - sizeof magic - 2;
    memcpy(header, magic, sizeof magic);
    header[8] = (char)(dict_length & 0xff);
    header[9] = (char)(dict_length >> 8);
    memcpy(header + 10, dict, (size_t)length);
    memset(header + 10 + length, ' ', padded - 10 - (size_t)length - 1);
    header[padded - 1] = '\n';
    return padded;
}
