// swift-tools-version:6.0
import PackageDescription

// Layering (the README's layering table): C shims → DivSegCore (numerics) → DivSegIO →
// DivSegDatasets → DivSeg (the method) → DivSegRegistry → DivSegExperiments → divseg-registry
// (CLI); DivSegKit re-exports the library layers. Lower layers never import higher ones.
let package = Package(
    name: "divseg",
    // Linux only: the C shims and file handling use Glibc (O_NOFOLLOW, flock, dlopen), the
    // native libraries come from Debian packages.
    products: [
        // The one import applications need: the façade (`Backbone`, `ClassRegistry`) and the
        // layers below it.
        .library(name: "DivSegKit", targets: ["DivSegKit"]),
        .library(name: "DivSegExperiments", targets: ["DivSegExperiments"]),
        .library(name: "DivSegRegistry", targets: ["DivSegRegistry"]),
        .library(name: "DivSeg", targets: ["DivSeg"]),
        .library(name: "DivSegDatasets", targets: ["DivSegDatasets"]),
        .library(name: "DivSegIO", targets: ["DivSegIO"]),
        .library(name: "DivSegCore", targets: ["DivSegCore"]),
        .executable(name: "divseg-registry", targets: ["divseg-registry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/google/swift-benchmark", from: "0.1.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // RFC 4180 field splitting of the tags and labels CSV files.
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        // `swift package generate-documentation --target DivSegKit` (the DocC catalogue).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // System libraries (Debian: libhdf5-dev, libpng-dev, libjpeg62-turbo-dev).
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        // glibc's allocator controls (mallopt), for executables; part of libc, no pkg-config.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg62-turbo-dev"])]),
        // C glue Swift cannot express: HDF5 macro constants, setjmp/longjmp error handling of
        // libpng and libjpeg (a longjmp must never cross Swift frames).
        .target(name: "CDivSegShims", dependencies: ["CHDF5", "CPNG", "CJPEG"]),

        // OpenBLAS (Debian: libopenblas0), loaded at run time with a kernel chosen from the
        // CPU's features rather than linked: see Sources/CDivSegBLAS/include/CDivSegBLAS.h.
        .target(name: "CDivSegBLAS", linkerSettings: [.linkedLibrary("dl")]),

        // oneDNN (Debian: libdnnl-dev) for the convolution stack: it dispatches on CPU features.
        .target(name: "CDivSegDNNL", linkerSettings: [.linkedLibrary("dnnl")]),

        // Hot loops compiled per instruction-set level (SSE2, AVX2+FMA, AVX-512) with
        // per-function target attributes, chosen at run time: no global target flags.
        .target(name: "CDivSegKernels"),

        .target(name: "DivSegCore", dependencies: ["CDivSegBLAS", "CDivSegDNNL", "CDivSegKernels", "CMalloc"]),
        .target(name: "DivSegIO", dependencies: [
            "DivSegCore", "CDivSegShims", "CHDF5",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Datasets (COCO, VOC, tags CSV) and their ground truth: what the method trains and is
        // scored on, not the method itself.
        .target(name: "DivSegDatasets", dependencies: [
            "DivSegCore", "DivSegIO", .product(name: "CSV", package: "CSV.swift"),
        ]),
        .target(name: "DivSeg", dependencies: ["DivSegDatasets", "DivSegCore", "DivSegIO"]),
        .target(name: "DivSegRegistry", dependencies: ["DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore"]),
        // The paper's tables, the CAM peer and the diagnostics: measurements around the method.
        .target(name: "DivSegExperiments", dependencies: ["DivSegRegistry", "DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore"]),
        // Umbrella module (as swift-numerics' `Numerics`): re-exports the library layers.
        .target(name: "DivSegKit", dependencies: ["DivSegRegistry", "DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore"]),
        .executableTarget(name: "divseg-registry", dependencies: [
            "DivSegExperiments", "DivSegRegistry", "DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "BackboneBenchmark", dependencies: [
            "DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore",
            .product(name: "Benchmark", package: "swift-benchmark"),
        ], path: "Benchmarks/BackboneBenchmark"),
        .executableTarget(name: "LocalizerBenchmark", dependencies: [
            "DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore",
            .product(name: "Benchmark", package: "swift-benchmark"),
        ], path: "Benchmarks/LocalizerBenchmark"),
        .executableTarget(name: "SegmenterBenchmark", dependencies: [
            "DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore",
            .product(name: "Benchmark", package: "swift-benchmark"),
        ], path: "Benchmarks/SegmenterBenchmark"),
        .executableTarget(name: "StreamingTrainingBenchmark", dependencies: ["DivSeg", "DivSegCore"],
                          path: "Benchmarks/StreamingTrainingBenchmark"),
        .executableTarget(name: "CAMStateBenchmark", dependencies: ["DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore"],
                          path: "Benchmarks/CAMStateBenchmark"),
        .executableTarget(name: "CRFBenchmark", dependencies: [
            "DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore",
            .product(name: "Benchmark", package: "swift-benchmark"),
        ], path: "Benchmarks/CRFBenchmark"),
        .executableTarget(name: "ExtractFeatures", dependencies: ["DivSeg", "DivSegIO"],
                          path: "Examples/ExtractFeatures"),
        .executableTarget(name: "SegmentImage", dependencies: ["DivSegKit"], path: "Examples/SegmentImage"),
        .executableTarget(name: "AddClass", dependencies: ["DivSegKit"], path: "Examples/AddClass"),

        // Test-only helpers every test target shares: where the shared data is, running child processes.
        .target(name: "DivSegTestSupport", path: "Tests/DivSegTestSupport"),
        // …and the real-image fixtures of the method's tests (localizers, baselines, diagnostics).
        .target(name: "DivSegMethodTestSupport", dependencies: ["DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore", "DivSegTestSupport"],
                path: "Tests/DivSegMethodTestSupport"),
        .testTarget(name: "DivSegCoreTests", dependencies: ["DivSegCore"]),
        .testTarget(name: "DivSegIOTests", dependencies: ["DivSegIO", "DivSegCore", "DivSegTestSupport"]),
        .testTarget(name: "DivSegDatasetsTests", dependencies: ["DivSegDatasets", "DivSegIO", "DivSegCore", "DivSegTestSupport"]),
        .testTarget(name: "DivSegTests", dependencies: ["DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore", "DivSegTestSupport", "DivSegMethodTestSupport"],
                    exclude: ["FuzzRegressions"]),  // inputs found by Fuzz/ (read by path)
        .testTarget(name: "DivSegRegistryTests", dependencies: ["DivSegRegistry", "DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore", "DivSegTestSupport"]),
        .testTarget(name: "DivSegExperimentsTests", dependencies: ["DivSegExperiments", "DivSegRegistry", "DivSeg", "DivSegDatasets", "DivSegIO", "DivSegCore", "DivSegTestSupport", "DivSegMethodTestSupport"]),
        .testTarget(name: "DivSegKitTests", dependencies: ["DivSegKit", "DivSegTestSupport"],
                    exclude: ["Golden"]),  // the shipped registry's label maps (read by path)
        // Test-only (no product): a registry change that ends the process at a commit step, for
        // the crash tests; crash injection stays out of `divseg-registry`.
        .executableTarget(name: "RegistryCrashHarness", dependencies: ["DivSegRegistry", "DivSeg"],
                          path: "Tests/RegistryCrashHarness"),
        .testTarget(name: "DivSegCLITests", dependencies: ["divseg-registry", "RegistryCrashHarness", "DivSegIO", "DivSegTestSupport"]),
    ]
)
