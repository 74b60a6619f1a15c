import CDivSegBLAS

/// Which OpenBLAS kernels this process runs, and why.
///
/// OpenBLAS chooses its kernels from a table of CPU *models* when it loads; a CPU newer than
/// the library gets its generic SSE3 kernels, 2–6× slower. divseg therefore loads OpenBLAS
/// itself, on the first product, after choosing the kernel from the CPU's *features*
/// (``kernel(for:)``), unless `OPENBLAS_CORETYPE` is already set in the environment, which is
/// always respected.
///
/// ```swift
/// let blas = BLASRuntime.current
/// print(blas.coreName, blas.source)          // "Cooperlake", chosenFromFeatures
/// if let warning = blas.performanceWarning { print(warning) }
/// ```
public struct BLASRuntime: Sendable, Equatable {
    /// Where the kernel choice came from.
    public enum Source: String, Sendable, Equatable {
        /// divseg set `OPENBLAS_CORETYPE` from the CPU's features before loading the library.
        case chosenFromFeatures = "chosen from CPU features"
        /// `OPENBLAS_CORETYPE` was set in the environment; divseg kept it.
        case environment = "OPENBLAS_CORETYPE from the environment"
        /// No AVX: the library's own model table decided.
        case libraryDetection = "the library's own CPU detection"
        /// The library was already loaded in this process before divseg used it.
        case alreadyLoaded = "already loaded by the application"
    }

    public var cpu: CPUInfo
    /// The `OPENBLAS_CORETYPE` in force when the library loaded ("" if none).
    public var requestedCore: String
    public var source: Source
    /// The kernel family the library reports (`openblas_get_corename`), e.g. "Haswell".
    public var coreName: String
    /// The library's build configuration (`openblas_get_config`).
    public var configuration: String
    /// The library file loaded (a name the dynamic loader resolved, or `DIVSEG_BLAS_LIBRARY`).
    public var library: String
    /// Why the library could not be loaded, with the fix; nil when it works.
    public var loadError: String?

    public init(cpu: CPUInfo, requestedCore: String, source: Source, coreName: String, configuration: String,
                library: String, loadError: String?) {
        self.cpu = cpu; self.requestedCore = requestedCore; self.source = source; self.coreName = coreName
        self.configuration = configuration; self.library = library; self.loadError = loadError
    }

    /// Loads the library if that has not happened yet, and describes it.
    public static var current: BLASRuntime {
        let info = ds_blas_runtime_info()!.pointee
        let source: Source
        switch info.source {
        case DS_BLAS_FROM_ENVIRONMENT: source = .environment
        case DS_BLAS_LIBRARY_DETECTION: source = .libraryDetection
        case DS_BLAS_ALREADY_LOADED: source = .alreadyLoaded
        default: source = .chosenFromFeatures
        }
        let error = cString(info.error)
        return BLASRuntime(cpu: CPUInfo(info.cpu), requestedCore: cString(info.requested_core), source: source,
                           coreName: cString(info.core_name), configuration: cString(info.config),
                           library: cString(info.library), loadError: error.isEmpty ? nil : error)
    }

    /// The OpenBLAS kernel family divseg picks for CPU features: "Cooperlake" (AVX-512 with
    /// BF16), "SkylakeX" (AVX-512 F/BW/DQ/VL/CD), "Haswell" (AVX2 + FMA), "Sandybridge" (AVX),
    /// or nil (leave it to the library).
    public static func kernel(for features: CPUInfo.Features) -> String? {
        ds_blas_core_for_features(features.rawValue).map { String(cString: $0) }
    }

    /// The kernel families that use at most SSE: "generic" for a CPU with AVX2.
    static let genericKernels: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "athlon", "opteron",
        "opteron_sse3", "barcelona", "bobcat", "katmai", "coppermine", "northwood", "banias",
        "generic",
    ]

    /// True when the library runs SSE-only kernels on a CPU that has AVX2 and FMA.
    public var isGenericOnCapableCPU: Bool {
        cpu.features.isSuperset(of: .avx2Class) && BLASRuntime.genericKernels.contains(coreName.lowercased())
    }

    /// A warning to show once when products will run far below the CPU's speed, else nil.
    public var performanceWarning: String? {
        guard isGenericOnCapableCPU else { return nil }
        let better = BLASRuntime.kernel(for: cpu.features) ?? "Haswell"
        let cause = source == .environment
            ? "OPENBLAS_CORETYPE=\(requestedCore) is set in the environment: unset it (divseg then picks \(better) from the CPU's features) or set it to \(better)"
            : "set OPENBLAS_CORETYPE=\(better) before starting the program"
        return "OpenBLAS runs its generic \(coreName) kernels on this \(cpu.features.isSuperset(of: .avx512Class) ? "AVX-512" : "AVX2") CPU (\(cpu.brand)); products run 2–6× slower. Fix: \(cause). `divseg-registry doctor` shows the details."
    }

    /// A note when the kernel in use is below the best this CPU can run (for `doctor`), else nil.
    public var upgradeNote: String? {
        guard loadError == nil, let best = BLASRuntime.kernel(for: cpu.features),
              best.lowercased() != coreName.lowercased() else { return nil }
        let order = ["sandybridge", "haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"]
        let rank = { (name: String) in order.firstIndex(of: name.lowercased()) ?? -1 }
        guard rank(coreName) < rank(best) else { return nil }
        return "this CPU could run OpenBLAS's \(best) kernels (\(source == .environment ? "unset OPENBLAS_CORETYPE=\(requestedCore)" : "set OPENBLAS_CORETYPE=\(best)") to use them)"
    }
}
