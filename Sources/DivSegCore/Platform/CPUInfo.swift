import CDivSegBLAS

/// The processor the process runs on, as cpuid reports it, with the vector features the
/// operating system has enabled (a feature the OS does not save on context switches is
/// left out, since using it would fault).
///
/// ```swift
/// let cpu = CPUInfo.current
/// print(cpu.brand, cpu.features.names.joined(separator: " "))
/// // AMD EPYC 9B45  sse4.2 avx avx2 fma f16c avx512f avx512bw …
/// ```
public struct CPUInfo: Sendable, Equatable {
    /// Vector features relevant to divseg's kernels.
    public struct Features: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let sse42 = Features(rawValue: UInt32(DS_CPU_SSE42))
        public static let avx = Features(rawValue: UInt32(DS_CPU_AVX))
        public static let avx2 = Features(rawValue: UInt32(DS_CPU_AVX2))
        public static let fma = Features(rawValue: UInt32(DS_CPU_FMA))
        public static let f16c = Features(rawValue: UInt32(DS_CPU_F16C))
        public static let avx512f = Features(rawValue: UInt32(DS_CPU_AVX512F))
        public static let avx512bw = Features(rawValue: UInt32(DS_CPU_AVX512BW))
        public static let avx512dq = Features(rawValue: UInt32(DS_CPU_AVX512DQ))
        public static let avx512vl = Features(rawValue: UInt32(DS_CPU_AVX512VL))
        public static let avx512cd = Features(rawValue: UInt32(DS_CPU_AVX512CD))
        public static let avx512bf16 = Features(rawValue: UInt32(DS_CPU_AVX512_BF16))
        public static let avx512fp16 = Features(rawValue: UInt32(DS_CPU_AVX512_FP16))
        public static let avx512vnni = Features(rawValue: UInt32(DS_CPU_AVX512_VNNI))
        public static let amxTile = Features(rawValue: UInt32(DS_CPU_AMX_TILE))
        public static let amxBF16 = Features(rawValue: UInt32(DS_CPU_AMX_BF16))

        /// AVX2 with FMA: what OpenBLAS's Haswell kernels (and divseg's AVX2 paths) need.
        public static let avx2Class: Features = [.avx, .avx2, .fma]
        /// The AVX-512 subset OpenBLAS's SkylakeX kernels need.
        public static let avx512Class: Features = [.avx512f, .avx512bw, .avx512dq, .avx512vl, .avx512cd]

        /// The features' lower-case names, in the order above (as Linux's /proc/cpuinfo spells them).
        public var names: [String] {
            let all: [(Features, String)] = [
                (.sse42, "sse4.2"), (.avx, "avx"), (.avx2, "avx2"), (.fma, "fma"), (.f16c, "f16c"),
                (.avx512f, "avx512f"), (.avx512bw, "avx512bw"), (.avx512dq, "avx512dq"),
                (.avx512vl, "avx512vl"), (.avx512cd, "avx512cd"), (.avx512bf16, "avx512_bf16"),
                (.avx512fp16, "avx512_fp16"), (.avx512vnni, "avx512_vnni"), (.amxTile, "amx_tile"),
                (.amxBF16, "amx_bf16"),
            ]
            return all.filter { contains($0.0) }.map(\.1)
        }
    }

    /// "GenuineIntel", "AuthenticAMD", …
    public var vendor: String
    /// The marketing name, e.g. "Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz".
    public var brand: String
    /// Display family and model (e.g. 6 and 207 for 5th-generation Xeon Scalable).
    public var family: Int
    public var model: Int
    public var features: Features

    public init(vendor: String, brand: String, family: Int, model: Int, features: Features) {
        self.vendor = vendor; self.brand = brand; self.family = family; self.model = model
        self.features = features
    }

    /// The CPU of this process (read with cpuid each time; cheap).
    public static var current: CPUInfo {
        var info = ds_cpu_info()
        ds_cpu_detect(&info)
        return CPUInfo(info)
    }

    init(_ info: ds_cpu_info) {
        self.init(vendor: cString(info.vendor), brand: cString(info.brand), family: Int(info.family),
                  model: Int(info.model), features: Features(rawValue: info.features))
    }
}

/// A Swift string from a fixed-size C character array (a tuple in Swift).
func cString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}
