// AVX2 + FMA. A per-function target attribute (applied to every function of the included
// file) rather than a global -mavx2: the rest of the package must run on any x86-64.
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#define DS_NAME(x) x##_avx2
#define DS_WIDTH 8
#include "kernels.inc"
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
