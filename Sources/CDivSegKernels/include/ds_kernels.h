// Vector kernels of the hot loops (dense CRF, Winograd F(2×2, 3×3) transforms), compiled for
// several x86-64 instruction-set levels and chosen at run time.
//
// Why C: Swift has no per-function target attributes, and the package must not set global
// target flags (`unsafeFlags` would make it unusable as a dependency; `-mavx2` globally would
// break on older CPUs). Each kernel is written once (kernels.inc) and compiled three times:
// portable (baseline x86-64 = SSE2, or the platform's default elsewhere), AVX2 + FMA, and
// AVX-512 (F, BW, DQ, VL). The level is chosen once, on first use, from cpuid (gcc/clang's
// __builtin_cpu_supports, which also checks that the OS saves the vector state) and can be
// lowered with the environment variable DIVSEG_SIMD=scalar|avx2|avx512 (never raised above
// what the CPU supports; other values are ignored).
//
// Every kernel is safe to call concurrently on disjoint outputs.
#ifndef DS_KERNELS_H
#define DS_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set levels, in increasing order.
enum {
    DS_SIMD_SCALAR = 0,  ///< portable code: baseline SSE2 on x86-64
    DS_SIMD_AVX2 = 1,    ///< AVX2 + FMA (256-bit)
    DS_SIMD_AVX512 = 2,  ///< AVX-512 F/BW/DQ/VL (512-bit)
};

/// The level the kernels run at (after DIVSEG_SIMD and any ds_simd_set_level).
int ds_simd_level(void);
/// The highest level this CPU and OS support.
int ds_simd_supported_level(void);
/// The level chosen at start-up: the supported level, lowered by DIVSEG_SIMD when set.
int ds_simd_default_level(void);
/// Makes `level` (capped at the supported level, floored at scalar) the active level for the
/// whole process and returns the level now in effect. For tests and benchmarks; calls already
/// running finish at the level they started with.
int ds_simd_set_level(int level);
/// A process-wide recursive lock for code that switches levels (ds_simd_set_level … restore),
/// so that two such sections never interleave.
void ds_simd_lock(void);
void ds_simd_unlock(void);

// ---- Permutohedral lattice (rows of floats; vertex row 0 is an all-zero "no neighbour" row)

/// For each of `count` points (value rows of `value_count` floats, consecutive at `values`),
/// adds weights[i·corners + r] × its values to vertex row vertices[i·corners + r] (rows of
/// `row_stride` floats at `rows`), r < corners. Points are processed in order.
void ds_lattice_splat(float *rows, size_t row_stride, const float *values, size_t value_count,
                      size_t count, const int32_t *vertices, const float *weights, size_t corners);

/// For each of `count` vertices with 0-based index `first + j`: row (index + 1) of `out` =
/// its row of `in` + ½ (the rows of its two neighbours, neighbours[2j] and neighbours[2j+1]).
/// `row_stride` floats per row; `neighbours` already points at the first vertex's pair.
void ds_lattice_blur(float *out, const float *in, size_t row_stride, const int32_t *neighbours,
                     size_t first, size_t count);

/// For each of `count` points: Σ_r weights[i·corners + r] × row vertices[i·corners + r], the
/// first `value_count` floats, into consecutive rows of `value_count` floats at `out`
/// (added to what is there when `accumulate` is non-zero).
void ds_lattice_slice(float *out, size_t value_count, size_t count, const float *rows,
                      size_t row_stride, const int32_t *vertices, const float *weights,
                      size_t corners, int accumulate);

// ---- Mean-field update

/// For each of `count` rows (`stride` floats, a positive multiple of 8; only the first `labels` are meaningful, the
/// padding of `messages` is 0 and of `probabilities` is 0): out = p · exp(m − max m),
/// normalised to sum 1. Messages must be ≥ 0 (so padding never raises the max). A row whose
/// products are all below 1e-20 (exp's argument clamped) is recomputed in the log domain.
void ds_meanfield_normalise(float *out, const float *messages, const float *probabilities,
                            size_t count, size_t stride, size_t labels);

/// exp(x) in place for `count` floats: Cephes' expf scheme (relative error < 1e-7 on
/// [−87, 88]); inputs are clamped to [−87.3, 88].
void ds_exp_inplace(float *values, size_t count);

// ---- Winograd F(2×2, 3×3)

/// Bᵀ d B for the tiles of tile rows [tile_row_begin, tile_row_end) of channels
/// [channel_begin, channel_end) of `src` ([channels, h, w]), written as
/// v[e][channel][tile] with e = 0..15 and `channels × tiles` floats per e, tiles counted
/// from tile_row_begin. Returns 0, or -1 when scratch memory cannot be allocated.
int ds_winograd_f2_input(const float *src, size_t channels, size_t h, size_t w,
                         size_t channel_begin, size_t channel_end, size_t tile_row_begin,
                         size_t tile_row_end, size_t tiles_x, float *v);

/// Aᵀ M A + bias, then max(·, floor), for the same band layout as ds_winograd_f2_input,
/// written into the [channels, h, w] output. Returns 0, or -1 when scratch memory cannot be
/// allocated.
int ds_winograd_f2_output(const float *m, const float *bias, size_t channels, size_t h, size_t w,
                          size_t channel_begin, size_t channel_end, size_t tile_row_begin,
                          size_t tile_row_end, size_t tiles_x, float floor, float *out);

#ifdef __cplusplus
}
#endif
#endif
