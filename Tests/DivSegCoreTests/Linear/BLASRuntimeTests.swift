import DivSegCore
import Foundation
import Testing

@Suite("BLAS runtime: kernel chosen from CPU features")
struct BLASRuntimeTests {
    typealias F = CPUInfo.Features

    @Test("features map to the OpenBLAS kernel family that uses them")
    func kernelForFeatures() {
        let avx2: F = [.sse42, .avx, .avx2, .fma, .f16c]
        // 5th-generation Xeon (family 6 model 207): unknown to OpenBLAS 0.3.21's model table.
        let emeraldRapids = avx2.union(F.avx512Class).union([.avx512bf16, .avx512fp16, .avx512vnni, .amxTile, .amxBF16])
        #expect(BLASRuntime.kernel(for: emeraldRapids) == "Cooperlake")
        #expect(BLASRuntime.kernel(for: avx2.union(F.avx512Class)) == "SkylakeX")
        #expect(BLASRuntime.kernel(for: avx2) == "Haswell")
        // AVX-512F alone (Knights Landing) is not enough for the SkylakeX kernels.
        #expect(BLASRuntime.kernel(for: avx2.union(.avx512f)) == "Haswell")
        #expect(BLASRuntime.kernel(for: [.sse42, .avx]) == "Sandybridge")
        #expect(BLASRuntime.kernel(for: [.sse42]) == nil)
    }

    @Test("this process's library loads, and its kernel is the one chosen or the one requested")
    func currentRuntime() {
        let blas = BLASRuntime.current
        #expect(blas.loadError == nil, "\(blas.loadError ?? "")")
        #expect(!blas.coreName.isEmpty)
        switch blas.source {
        case .chosenFromFeatures:
            #expect(blas.coreName.lowercased() == BLASRuntime.kernel(for: blas.cpu.features)?.lowercased())
        case .environment:
            #expect(blas.requestedCore == ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"])
        case .libraryDetection:
            #expect(BLASRuntime.kernel(for: blas.cpu.features) == nil)
        case .alreadyLoaded:
            break
        }
        // The features cpuid reports are consistent: no AVX2 kernel class without AVX.
        if blas.cpu.features.contains(.avx2) { #expect(blas.cpu.features.contains(.avx)) }
    }

    @Test("a generic kernel on an AVX2 CPU warns with the fix; a matching kernel does not")
    func performanceWarning() {
        let avx512CPU = CPUInfo(vendor: "GenuineIntel", brand: "Test Xeon", family: 6, model: 207,
                                features: F.avx2Class.union(F.avx512Class).union(.avx512bf16))
        var blas = BLASRuntime(cpu: avx512CPU, requestedCore: "Prescott", source: .environment, coreName: "Prescott",
                               configuration: "", library: "libopenblas.so.0", loadError: nil)
        let warning = blas.performanceWarning
        #expect(warning?.contains("Prescott") == true)
        #expect(warning?.contains("unset") == true && warning?.contains("Cooperlake") == true, "\(warning ?? "")")
        blas.source = .libraryDetection
        blas.requestedCore = ""
        #expect(blas.performanceWarning?.contains("OPENBLAS_CORETYPE=Cooperlake") == true)

        blas.coreName = "Cooperlake"
        #expect(blas.performanceWarning == nil)
        #expect(blas.upgradeNote == nil)
        blas.coreName = "Haswell"
        #expect(blas.performanceWarning == nil, "an AVX2 kernel is not generic")
        #expect(blas.upgradeNote?.contains("Cooperlake") == true)

        let oldCPU = CPUInfo(vendor: "GenuineIntel", brand: "Test Core 2", family: 6, model: 23, features: [.sse42])
        blas = BLASRuntime(cpu: oldCPU, requestedCore: "", source: .libraryDetection, coreName: "Penryn",
                           configuration: "", library: "libopenblas.so.0", loadError: nil)
        #expect(blas.performanceWarning == nil, "SSE kernels are right for an SSE-only CPU")
    }
}
