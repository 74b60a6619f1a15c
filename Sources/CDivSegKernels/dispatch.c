// Run-time choice of the kernels' instruction-set level; see ds_kernels.h.
#include "ds_kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DS_DECLARE(suffix)                                                                          \
    void ds_lattice_splat_##suffix(float *, size_t, const float *, size_t, size_t, const int32_t *, \
                                   const float *, size_t);                                          \
    void ds_lattice_blur_##suffix(float *, const float *, size_t, const int32_t *, size_t, size_t); \
    void ds_lattice_slice_##suffix(float *, size_t, size_t, const float *, size_t, const int32_t *, \
                                   const float *, size_t, int);                                     \
    void ds_meanfield_normalise_##suffix(float *, const float *, const float *, size_t, size_t, size_t); \
    void ds_exp_inplace_##suffix(float *, size_t);                                                  \
    int ds_winograd_f2_input_##suffix(const float *, size_t, size_t, size_t, size_t, size_t, size_t, \
                                      size_t, size_t, float *);                                     \
    int ds_winograd_f2_output_##suffix(const float *, const float *, size_t, size_t, size_t, size_t, \
                                       size_t, size_t, size_t, size_t, float, float *);

struct ds_kernel_table {
    void (*splat)(float *, size_t, const float *, size_t, size_t, const int32_t *, const float *, size_t);
    void (*blur)(float *, const float *, size_t, const int32_t *, size_t, size_t);
    void (*slice)(float *, size_t, size_t, const float *, size_t, const int32_t *, const float *, size_t, int);
    void (*normalise)(float *, const float *, const float *, size_t, size_t, size_t);
    void (*exp_inplace)(float *, size_t);
    int (*f2_input)(const float *, size_t, size_t, size_t, size_t, size_t, size_t, size_t, size_t, float *);
    int (*f2_output)(const float *, const float *, size_t, size_t, size_t, size_t, size_t, size_t, size_t,
                     size_t, float, float *);
};

#define DS_TABLE(suffix)                                                                        \
    {ds_lattice_splat_##suffix, ds_lattice_blur_##suffix, ds_lattice_slice_##suffix,            \
     ds_meanfield_normalise_##suffix, ds_exp_inplace_##suffix, ds_winograd_f2_input_##suffix, \
     ds_winograd_f2_output_##suffix}

DS_DECLARE(scalar)
#if defined(__x86_64__)
#define DS_HAVE_X86 1
DS_DECLARE(avx2)
DS_DECLARE(avx512)
static const struct ds_kernel_table tables[] = {DS_TABLE(scalar), DS_TABLE(avx2), DS_TABLE(avx512)};
#else
static const struct ds_kernel_table tables[] = {DS_TABLE(scalar)};
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int supported = DS_SIMD_SCALAR;
static int chosen = DS_SIMD_SCALAR;
static _Atomic int active = DS_SIMD_SCALAR;

static void detect(void) {
#if DS_HAVE_X86
    // __builtin_cpu_supports also requires the OS to save the registers (XCR0), so a
    // kernel without AVX state support reports no AVX.
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) supported = DS_SIMD_AVX2;
    if (supported == DS_SIMD_AVX2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        supported = DS_SIMD_AVX512;
#endif
    int level = supported;
    const char *request = getenv("DIVSEG_SIMD");
    if (request && *request) {
        int wanted = level;
        if (!strcmp(request, "scalar")) wanted = DS_SIMD_SCALAR;
        else if (!strcmp(request, "avx2")) wanted = DS_SIMD_AVX2;
        else if (!strcmp(request, "avx512")) wanted = DS_SIMD_AVX512;
        level = wanted < supported ? wanted : supported;
    }
    chosen = level;
    atomic_store(&active, level);
}

int ds_simd_supported_level(void) {
    pthread_once(&once, detect);
    return supported;
}

int ds_simd_default_level(void) {
    pthread_once(&once, detect);
    return chosen;
}

int ds_simd_level(void) {
    pthread_once(&once, detect);
    return atomic_load_explicit(&active, memory_order_relaxed);
}

int ds_simd_set_level(int level) {
    pthread_once(&once, detect);
    if (level < DS_SIMD_SCALAR) level = DS_SIMD_SCALAR;
    if (level > supported) level = supported;
    atomic_store(&active, level);
    return level;
}

static pthread_once_t lock_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t level_lock;

static void make_lock(void) {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&level_lock, &attributes);
    pthread_mutexattr_destroy(&attributes);
}

void ds_simd_lock(void) {
    pthread_once(&lock_once, make_lock);
    pthread_mutex_lock(&level_lock);
}

void ds_simd_unlock(void) { pthread_mutex_unlock(&level_lock); }

static inline const struct ds_kernel_table *table(void) { return &tables[ds_simd_level()]; }

void ds_lattice_splat(float *rows, size_t row_stride, const float *values, size_t value_count, size_t count,
                      const int32_t *vertices, const float *weights, size_t corners) {
    table()->splat(rows, row_stride, values, value_count, count, vertices, weights, corners);
}

void ds_lattice_blur(float *out, const float *in, size_t row_stride, const int32_t *neighbours, size_t first,
                     size_t count) {
    table()->blur(out, in, row_stride, neighbours, first, count);
}

void ds_lattice_slice(float *out, size_t value_count, size_t count, const float *rows, size_t row_stride,
                      const int32_t *vertices, const float *weights, size_t corners, int accumulate) {
    table()->slice(out, value_count, count, rows, row_stride, vertices, weights, corners, accumulate);
}

void ds_meanfield_normalise(float *out, const float *messages, const float *probabilities, size_t count,
                            size_t stride, size_t labels) {
    table()->normalise(out, messages, probabilities, count, stride, labels);
}

void ds_exp_inplace(float *values, size_t count) { table()->exp_inplace(values, count); }

int ds_winograd_f2_input(const float *src, size_t channels, size_t h, size_t w, size_t channel_begin,
                         size_t channel_end, size_t tile_row_begin, size_t tile_row_end, size_t tiles_x,
                         float *v) {
    return table()->f2_input(src, channels, h, w, channel_begin, channel_end, tile_row_begin, tile_row_end,
                             tiles_x, v);
}

int ds_winograd_f2_output(const float *m, const float *bias, size_t channels, size_t h, size_t w,
                          size_t channel_begin, size_t channel_end, size_t tile_row_begin, size_t tile_row_end,
                          size_t tiles_x, float floor, float *out) {
    return table()->f2_output(m, bias, channels, h, w, channel_begin, channel_end, tile_row_begin, tile_row_end,
                              tiles_x, floor, out);
}
