// AVX-512 (F, BW, DQ, VL), 16 floats per vector. See kernels_avx2.c for why an attribute.
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")
#endif
#define DS_NAME(x) x##_avx512
#define DS_WIDTH 16
#include "kernels.inc"
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
