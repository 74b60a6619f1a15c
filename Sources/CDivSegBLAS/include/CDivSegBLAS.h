// The BLAS entry points divseg uses, bound at run time to OpenBLAS.
//
// Why not link OpenBLAS directly: a DYNAMIC_ARCH OpenBLAS picks its kernels from a table of
// CPU *models* in a load-time constructor, before any of our code runs. A model newer than
// the library (Debian 12 ships 0.3.21) silently gets the generic SSE3 "Prescott" kernels,
// 2–6× slower on an AVX-512 Xeon. Loading the library ourselves lets us choose the kernel
// from the CPU's *features* (cpuid) first, through the library's own OPENBLAS_CORETYPE
// switch, for every program that uses divseg (command line or application).
#ifndef CDIVSEG_BLAS_H
#define CDIVSEG_BLAS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// CPU feature bits, as found by cpuid and enabled by the operating system (xgetbv).
enum {
    DS_CPU_SSE42 = 1u << 0,
    DS_CPU_AVX = 1u << 1,
    DS_CPU_AVX2 = 1u << 2,
    DS_CPU_FMA = 1u << 3,
    DS_CPU_F16C = 1u << 4,
    DS_CPU_AVX512F = 1u << 5,
    DS_CPU_AVX512BW = 1u << 6,
    DS_CPU_AVX512DQ = 1u << 7,
    DS_CPU_AVX512VL = 1u << 8,
    DS_CPU_AVX512CD = 1u << 9,
    DS_CPU_AVX512_BF16 = 1u << 10,
    DS_CPU_AVX512_FP16 = 1u << 11,
    DS_CPU_AVX512_VNNI = 1u << 12,
    DS_CPU_AMX_TILE = 1u << 13,
    DS_CPU_AMX_BF16 = 1u << 14,
};

/// Where the kernel choice came from.
typedef enum {
    /// divseg chose OPENBLAS_CORETYPE from the CPU's features.
    DS_BLAS_CHOSEN_FROM_FEATURES = 0,
    /// OPENBLAS_CORETYPE was already set in the environment; divseg kept it.
    DS_BLAS_FROM_ENVIRONMENT = 1,
    /// The CPU has no AVX, so the library's own detection was left to decide.
    DS_BLAS_LIBRARY_DETECTION = 2,
    /// OpenBLAS was already loaded in this process (by someone else) before divseg used it.
    DS_BLAS_ALREADY_LOADED = 3,
} ds_blas_choice_source;

typedef struct {
    char vendor[16];          ///< "GenuineIntel", "AuthenticAMD", …
    char brand[64];           ///< e.g. "Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz"
    unsigned family, model;   ///< display family and model (extended fields folded in)
    uint32_t features;        ///< DS_CPU_* bits usable by programs (OS state checked)
} ds_cpu_info;

typedef struct {
    ds_cpu_info cpu;
    /// The OPENBLAS_CORETYPE in force when the library was loaded ("" if none).
    char requested_core[32];
    ds_blas_choice_source source;
    /// The kernel family the library reports (openblas_get_corename), "" if not loaded.
    char core_name[32];
    /// The library's build configuration (openblas_get_config), "" if not loaded.
    char config[160];
    /// The file that was loaded, or the candidates that were tried.
    char library[256];
    /// Empty when loaded; otherwise why the library could not be loaded.
    char error[512];
} ds_blas_runtime;

/// Reads cpuid (no side effects); usable before and without the BLAS library.
void ds_cpu_detect(ds_cpu_info *info);

/// The OpenBLAS core type divseg selects for a set of DS_CPU_* features, or NULL when the
/// CPU has nothing better than what any kernel table detects (no AVX).
const char *ds_blas_core_for_features(uint32_t features);

/// Loads the library once (thread-safe) and returns what was found. Never fails; check
/// `error`. `DIVSEG_BLAS_LIBRARY` names another OpenBLAS file to load instead.
const ds_blas_runtime *ds_blas_runtime_info(void);

/// 1 when the BLAS functions below can be called.
int ds_blas_available(void);

/// Row-major single-precision products (CBLAS semantics). Calling them when
/// ds_blas_available() is 0 terminates with the loader's message.
void ds_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
void ds_sgemv(int trans, int rows, int columns, float alpha, const float *a, int lda,
              const float *x, float beta, float *y);
int ds_blas_thread_count(void);
void ds_blas_set_thread_count(int n);
/// Brackets a region in which OpenBLAS uses `n` threads per product (its process-wide count,
/// restored by the end call). The calling thread holds the thread count exclusively until
/// then: other threads' products wait, so none of them runs with the changed count. Regions
/// nest on one thread (up to 8 deep; 0 is returned beyond, and nothing is changed — do not
/// call the end function then). Worker threads the region's owner waits for call
/// ds_sgemm_in_region. Used for thread-count-independent products (BLAS.gemmFixedBlocks).
int ds_blas_begin_threads(int n);
void ds_blas_end_threads(void);
/// ds_sgemm without taking the thread-count lock: only on worker threads of a region's owner.
void ds_sgemm_in_region(int trans_a, int trans_b, int m, int n, int k, float alpha,
                        const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

#ifdef __cplusplus
}
#endif
#endif
