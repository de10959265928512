/* Philox4x32-10 known answers from the file tests/kat_vectors in Random123's source (Salmon et al., SC11):
 * counter c0..c3, key k0 k1, then the four output words. One table for the host and the device tests. */
#ifndef OCLINIT_KAT_VECTORS_H
#define OCLINIT_KAT_VECTORS_H

#include <stdint.h>

static const uint32_t philox_kat[][10] = {
    {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c,
     0x9b00dbd8},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6,
     0x6d5451fd},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420,
     0x24126ea1},
};

#define PHILOX_KAT_COUNT (sizeof philox_kat / sizeof philox_kat[0])

#endif
