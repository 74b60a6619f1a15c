import ArgumentParser
import DivSeg
import DivSegCore
import Foundation

extension DivSegRegistry {
    /// `divseg-registry doctor [--json]`: what this machine gives divseg, and what slows it.
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the CPU's features, the BLAS library and kernel in use, and anything that makes divseg run below this CPU's speed.",
            discussion: """
                divseg chooses OpenBLAS's kernel from the CPU's features (AVX2/FMA → Haswell, \
                AVX-512 → SkylakeX, with BF16 → Cooperlake) unless OPENBLAS_CORETYPE is set, \
                which is always respected. Exit status 1 if the BLAS library cannot be loaded.
                """)

        @Flag(help: "Print JSON: {version, cpu: {vendor, brand, family, model, features}, blas: {library, kernel, requested, source, configuration, threads, error?}, warnings, notes}.")
        var json = false

        func run() throws {
            let blas = BLASRuntime.current
            let warnings = [blas.loadError, blas.performanceWarning].compactMap { $0 }
            let notes = warnings.isEmpty ? [blas.upgradeNote].compactMap { $0 } : []
            let threads = blas.loadError == nil ? BLAS.threadCount : 0
            let convolution = Self.convolutionImplementation()
            if json {
                struct Report: Encodable {
                    struct CPU: Encodable { var vendor, brand: String; var family, model: Int; var features: [String] }
                    struct Library: Encodable {
                        var library, kernel, requested, source, configuration: String
                        var threads: Int
                        var error: String?
                    }
                    struct Convolution: Encodable { var engine, implementation: String }
                    var version: String
                    var cpu: CPU
                    var blas: Library
                    var convolution: Convolution
                    var warnings, notes: [String]
                }
                let cpu = blas.cpu
                let report = Report(
                    version: DivSegVersion.number,
                    cpu: .init(vendor: cpu.vendor, brand: cpu.brand, family: cpu.family, model: cpu.model,
                               features: cpu.features.names),
                    blas: .init(library: blas.library, kernel: blas.coreName, requested: blas.requestedCore,
                                source: blas.source.rawValue, configuration: blas.configuration, threads: threads,
                                error: blas.loadError),
                    convolution: .init(engine: convolution.engine.rawValue, implementation: convolution.implementation),
                    warnings: warnings, notes: notes)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                let cpu = blas.cpu
                print(DivSegVersion.tool)
                print("cpu       \(cpu.brand) (\(cpu.vendor), family \(cpu.family) model \(cpu.model))")
                print("features  \(cpu.features.names.joined(separator: " "))")
                if blas.loadError == nil {
                    print("blas      \(blas.library): kernel \(blas.coreName) (\(blas.source.rawValue)), \(threads) threads")
                    print("          \(blas.configuration)")
                }
                print("conv      \(convolution.engine.rawValue)\(convolution.implementation.isEmpty ? "" : ": " + convolution.implementation)")
                for note in notes { print("note: \(note)") }
                for warning in warnings { printError("warning: \(warning)") }
            }
            if blas.loadError != nil { throw ExitCode(1) }
        }

        /// The backbone's convolution engine, and the kernels oneDNN picks on this CPU for a
        /// representative VGG-16 layer (64 → 64 channels on a 64×84 map).
        static func convolutionImplementation() -> (engine: ConvolutionEngine, implementation: String) {
            let engine = ConvolutionEngine.default
            guard engine == .oneDNN else { return (engine, "Winograd F(2×2) and im2col over BLAS") }
            let layer = Conv3x3(kernelOIHW: [Float](repeating: 0, count: 64 * 64 * 9), bias: [Float](repeating: 0, count: 64),
                                inChannels: 64, outChannels: 64)
            guard let stack = try? ConvolutionStack(layers: [layer], poolBefore: []) else {
                return (.builtin, "oneDNN unavailable: Winograd F(2×2) and im2col over BLAS")
            }
            return (engine, stack.implementation(height: 64, width: 84))
        }
    }
}
