/* init_twin.c's block loop for AVX2: this file is compiled with -mavx2 (host/CMakeLists.txt), and init_twin.c
 * picks it at run time where the CPU has it. */
#define OI_TWIN_ISA avx2
#define OI_HOST_LANES 8
#include "init_twin.c"
