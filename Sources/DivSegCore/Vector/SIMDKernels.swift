import CDivSegKernels

/// Which vector instruction set the hot loops run with: the dense CRF's lattice splat,
/// blur and slice and its mean-field update (exp and normalisation), and the Winograd
/// F(2×2, 3×3) input and output transforms. Swift code in this package is compiled for
/// baseline x86-64 (SSE2); these kernels are C compiled once per level and picked at run
/// time, so the package needs no target flags and still runs on any x86-64 CPU.
///
/// The level is chosen on first use: the highest the CPU and operating system support,
/// lowered by the environment variable `DIVSEG_SIMD=scalar|avx2|avx512` when set (a level
/// above what the machine supports is capped, never faulted on; other values are ignored). All levels compute the
/// same formulas; they differ only by float rounding (fused multiply-adds, summation order).
///
/// ```swift
/// print("vector kernels: \(SIMDKernels.activeLevel) (CPU supports \(SIMDKernels.supportedLevel))")
/// // vector kernels: avx512 (CPU supports avx512)
/// ```
public enum SIMDKernels {
    /// An instruction-set level of the kernels, in increasing order.
    public enum Level: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
        /// Portable code: the platform's baseline (SSE2 on x86-64).
        case scalar = 0
        /// AVX2 with FMA, 8 floats per vector.
        case avx2 = 1
        /// AVX-512 (F, BW, DQ, VL), 16 floats per vector.
        case avx512 = 2

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        /// The name `DIVSEG_SIMD` accepts: `scalar`, `avx2` or `avx512`.
        public var description: String {
            switch self {
            case .scalar: "scalar"
            case .avx2: "avx2"
            case .avx512: "avx512"
            }
        }
    }

    /// The level the kernels currently run at.
    public static var activeLevel: Level { Level(rawValue: Int(ds_simd_level())) ?? .scalar }

    /// The level chosen at start-up: ``supportedLevel``, lowered by `DIVSEG_SIMD` when set.
    /// ``activeLevel`` equals it except inside ``withLevel(_:_:)``.
    public static var defaultLevel: Level { Level(rawValue: Int(ds_simd_default_level())) ?? .scalar }

    /// The highest level this CPU and operating system support.
    public static var supportedLevel: Level { Level(rawValue: Int(ds_simd_supported_level())) ?? .scalar }

    /// The levels this machine can run, lowest first (what tests compare against each other).
    public static var availableLevels: [Level] { Level.allCases.filter { $0 <= supportedLevel } }

    /// Runs `body` with the kernels at `level` (capped at ``supportedLevel``), then restores
    /// the previous level. The level is process-wide, so concurrent `withLevel` calls wait
    /// for each other (nesting is allowed); kernels called meanwhile from elsewhere run at
    /// `level` too — harmless, as every level computes the same results up to rounding. For
    /// tests and benchmarks.
    public static func withLevel<T>(_ level: Level, _ body: () throws -> T) rethrows -> T {
        ds_simd_lock()
        defer { ds_simd_unlock() }
        let previous = ds_simd_level()
        ds_simd_set_level(Int32(level.rawValue))
        defer { ds_simd_set_level(previous) }
        return try body()
    }
}
