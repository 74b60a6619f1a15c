// Run-time binding of OpenBLAS with a kernel chosen from CPU features (see CDivSegBLAS.h).
#define _GNU_SOURCE
#include "CDivSegBLAS.h"

#include <cpuid.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

// CBLAS enum values are fixed by the CBLAS standard; spelled out so that no cblas.h (and no
// link-time dependency) is needed.
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);
typedef void (*sgemv_fn)(int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);
typedef char *(*string_fn)(void);
typedef int (*get_threads_fn)(void);
typedef void (*set_threads_fn)(int);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static ds_blas_runtime runtime;
static sgemm_fn p_sgemm;
static sgemv_fn p_sgemv;
static get_threads_fn p_get_threads;
static set_threads_fn p_set_threads;

static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

void ds_cpu_detect(ds_cpu_info *info) {
    memset(info, 0, sizeof *info);
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    unsigned max_leaf = a;
    memcpy(info->vendor, &b, 4);
    memcpy(info->vendor + 4, &d, 4);
    memcpy(info->vendor + 8, &c, 4);

    __get_cpuid(1, &a, &b, &c, &d);
    unsigned base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
    info->family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
    info->model = (base_family == 0x6 || base_family == 0xf) ? (((a >> 16) & 0xf) << 4) | base_model
                                                              : base_model;
    uint32_t f = 0;
    if (c & bit_SSE4_2) f |= DS_CPU_SSE42;
    int osxsave = (c & bit_OSXSAVE) != 0;
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    // The OS must save the wide registers on context switches, or the instructions fault.
    int ymm_state = (xcr0 & 0x6) == 0x6;
    int zmm_state = ymm_state && (xcr0 & 0xe0) == 0xe0;
    int amx_state = (xcr0 & 0x60000) == 0x60000;
    if (ymm_state && (c & bit_AVX)) f |= DS_CPU_AVX;
    if (ymm_state && (c & bit_FMA)) f |= DS_CPU_FMA;
    if (ymm_state && (c & bit_F16C)) f |= DS_CPU_F16C;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if (ymm_state && (b & bit_AVX2)) f |= DS_CPU_AVX2;
        if (zmm_state) {
            if (b & bit_AVX512F) f |= DS_CPU_AVX512F;
            if (b & bit_AVX512BW) f |= DS_CPU_AVX512BW;
            if (b & bit_AVX512DQ) f |= DS_CPU_AVX512DQ;
            if (b & bit_AVX512VL) f |= DS_CPU_AVX512VL;
            if (b & bit_AVX512CD) f |= DS_CPU_AVX512CD;
            if (c & (1u << 11)) f |= DS_CPU_AVX512_VNNI;
            if (d & (1u << 23)) f |= DS_CPU_AVX512_FP16;
        }
        if (amx_state && (d & (1u << 24))) f |= DS_CPU_AMX_TILE;
        if (amx_state && (d & (1u << 22))) f |= DS_CPU_AMX_BF16;
        __cpuid_count(7, 1, a, b, c, d);
        if (zmm_state && (a & (1u << 5))) f |= DS_CPU_AVX512_BF16;
    }
    info->features = f;

    __get_cpuid(0x80000000, &a, &b, &c, &d);
    if (a >= 0x80000004) {
        unsigned regs[12];
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
        memcpy(info->brand, regs, 48);
        info->brand[48] = 0;
        // Brand strings are padded with leading spaces on some CPUs.
        char *s = info->brand;
        while (*s == ' ') s++;
        memmove(info->brand, s, strlen(s) + 1);
    }
}

const char *ds_blas_core_for_features(uint32_t f) {
    const uint32_t avx512 = DS_CPU_AVX512F | DS_CPU_AVX512BW | DS_CPU_AVX512DQ | DS_CPU_AVX512VL |
                            DS_CPU_AVX512CD;
    // Kernel names of OpenBLAS's DYNAMIC_ARCH table (0.3.21 and later). Cooperlake adds bf16
    // routines to SkylakeX's AVX-512 float kernels; Haswell is the AVX2/FMA family.
    if ((f & avx512) == avx512) return (f & DS_CPU_AVX512_BF16) ? "Cooperlake" : "SkylakeX";
    if ((f & (DS_CPU_AVX2 | DS_CPU_FMA)) == (DS_CPU_AVX2 | DS_CPU_FMA)) return "Haswell";
    if (f & DS_CPU_AVX) return "Sandybridge";
    return NULL;
}

static void copy_string(char *dst, size_t size, const char *src) {
    snprintf(dst, size, "%s", src ? src : "");
}

static void load(void) {
    ds_cpu_detect(&runtime.cpu);
    const char *override = getenv("DIVSEG_BLAS_LIBRARY");
    const char *candidates[] = {override, "libopenblas.so.0", "libopenblas.so"};
    size_t first = (override && *override) ? 0 : 1, last = (override && *override) ? 1 : 3;

    // Already in the process (linked by the application, or loaded by another library):
    // its kernel is fixed; report it as found.
    void *handle = NULL;
    for (size_t i = first; i < last && !handle; i++)
        if ((handle = dlopen(candidates[i], RTLD_NOW | RTLD_NOLOAD))) copy_string(runtime.library, sizeof runtime.library, candidates[i]);
    const char *env = getenv("OPENBLAS_CORETYPE");
    copy_string(runtime.requested_core, sizeof runtime.requested_core, env);
    if (handle) {
        runtime.source = DS_BLAS_ALREADY_LOADED;
    } else {
        const char *chosen = ds_blas_core_for_features(runtime.cpu.features);
        int we_set = 0;
        if (env && *env) {
            runtime.source = DS_BLAS_FROM_ENVIRONMENT;
        } else if (chosen) {
            runtime.source = DS_BLAS_CHOSEN_FROM_FEATURES;
            // Read by the library's constructor during dlopen; removed again afterwards so
            // that child processes are not affected.
            setenv("OPENBLAS_CORETYPE", chosen, 1);
            copy_string(runtime.requested_core, sizeof runtime.requested_core, chosen);
            we_set = 1;
        } else {
            runtime.source = DS_BLAS_LIBRARY_DETECTION;
        }
        char tried[256] = "";
        for (size_t i = first; i < last && !handle; i++) {
            handle = dlopen(candidates[i], RTLD_NOW | RTLD_GLOBAL);
            if (handle) copy_string(runtime.library, sizeof runtime.library, candidates[i]);
            else {
                size_t used = strlen(tried);
                snprintf(tried + used, sizeof tried - used, "%s%s", used ? ", " : "", candidates[i]);
            }
        }
        if (we_set) unsetenv("OPENBLAS_CORETYPE");
        if (!handle) {
            snprintf(runtime.error, sizeof runtime.error,
                     "OpenBLAS could not be loaded (tried %s: %s). Install it (Debian/Ubuntu: "
                     "apt-get install libopenblas0), or set DIVSEG_BLAS_LIBRARY to the path of "
                     "a libopenblas.so.",
                     tried, dlerror());
            return;
        }
    }
    p_sgemm = (sgemm_fn)dlsym(handle, "cblas_sgemm");
    p_sgemv = (sgemv_fn)dlsym(handle, "cblas_sgemv");
    p_get_threads = (get_threads_fn)dlsym(handle, "openblas_get_num_threads");
    p_set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
    string_fn corename = (string_fn)dlsym(handle, "openblas_get_corename");
    string_fn config = (string_fn)dlsym(handle, "openblas_get_config");
    if (!p_sgemm || !p_sgemv || !p_get_threads || !p_set_threads || !corename) {
        snprintf(runtime.error, sizeof runtime.error,
                 "%s is not an OpenBLAS library (cblas_sgemm, cblas_sgemv or openblas_get_corename "
                 "missing). Point DIVSEG_BLAS_LIBRARY at libopenblas.so, or unset it.",
                 runtime.library);
        p_sgemm = NULL;
        return;
    }
    copy_string(runtime.core_name, sizeof runtime.core_name, corename());
    if (config) copy_string(runtime.config, sizeof runtime.config, config());
}

const ds_blas_runtime *ds_blas_runtime_info(void) {
    pthread_once(&load_once, load);
    return &runtime;
}

int ds_blas_available(void) { return ds_blas_runtime_info()->error[0] == 0; }

static void require(void) {
    // pthread_once's fast path is one acquire load: cheap beside any BLAS call, and it makes
    // the function pointers safely visible to every thread.
    if (!ds_blas_available()) {
        fprintf(stderr, "divseg: %s\n", runtime.error);
        abort();
    }
}

// OpenBLAS (pthreads build) has one process-wide thread count, and its products round
// differently with it. Regions that change it (ds_blas_begin_threads: the fixed-block products
// that must not depend on it, a test comparing thread counts, ds_blas_set_thread_count) hold
// this lock exclusively; every other product holds it shared, so no product ever runs while
// another thread has changed the count for its own purpose. The thread that owns a region
// may nest regions and call products freely (exclusive_depth); worker threads it waits for
// run their blocks with ds_sgemm_in_region, without taking the lock.
static pthread_rwlock_t thread_count_lock = PTHREAD_RWLOCK_INITIALIZER;
static __thread int exclusive_depth;
enum { MAX_REGION_DEPTH = 8 };
static int saved_counts[MAX_REGION_DEPTH];

static void sgemm_call(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc) {
    p_sgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, alpha, a, lda,
            b, ldb, beta, c, ldc);
}

void ds_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc) {
    require();
    if (exclusive_depth > 0) {
        sgemm_call(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    pthread_rwlock_rdlock(&thread_count_lock);
    sgemm_call(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    pthread_rwlock_unlock(&thread_count_lock);
}

void ds_sgemm_in_region(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                        const float *b, int ldb, float beta, float *c, int ldc) {
    require();
    sgemm_call(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void ds_sgemv(int trans, int rows, int columns, float alpha, const float *a, int lda, const float *x,
              float beta, float *y) {
    require();
    if (exclusive_depth == 0) pthread_rwlock_rdlock(&thread_count_lock);
    p_sgemv(ROW_MAJOR, trans ? TRANS : NO_TRANS, rows, columns, alpha, a, lda, x, 1, beta, y, 1);
    if (exclusive_depth == 0) pthread_rwlock_unlock(&thread_count_lock);
}

int ds_blas_thread_count(void) {
    require();
    return p_get_threads();
}

void ds_blas_set_thread_count(int n) {
    require();
    if (exclusive_depth == 0) pthread_rwlock_wrlock(&thread_count_lock);
    p_set_threads(n);
    if (exclusive_depth == 0) pthread_rwlock_unlock(&thread_count_lock);
}

int ds_blas_begin_threads(int n) {
    require();
    if (exclusive_depth >= MAX_REGION_DEPTH) return 0;
    if (exclusive_depth == 0) pthread_rwlock_wrlock(&thread_count_lock);
    saved_counts[exclusive_depth++] = p_get_threads();
    if (p_get_threads() != n) p_set_threads(n);
    return 1;
}

void ds_blas_end_threads(void) {
    if (exclusive_depth == 0) return;
    int saved = saved_counts[--exclusive_depth];
    if (p_get_threads() != saved) p_set_threads(saved);
    if (exclusive_depth == 0) pthread_rwlock_unlock(&thread_count_lock);
}

