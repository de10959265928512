/* init_twin.c's block loop for AVX-512: this file is compiled with -mavx512f (host/CMakeLists.txt), and init_twin.c
 * picks it at run time where the CPU has it. */
#define OI_TWIN_ISA avx512
#define OI_HOST_LANES 16
#include "init_twin.c"
