// The portable level: the compiler's baseline for the platform (SSE2 on x86-64).
#define DS_NAME(x) x##_scalar
#define DS_WIDTH 8
#include "kernels.inc"
