import DivSegCore
import DivSegTestSupport
import Foundation
import Testing

@Suite("divseg-registry doctor and the BLAS kernel check")
struct DoctorCommandTests {
    struct Report: Decodable {
        struct CPU: Decodable { var features: [String] }
        struct Library: Decodable { var kernel, requested, source: String }
        var cpu: CPU
        var blas: Library
        var warnings: [String]
    }

    func doctor(_ environment: [String: String]) throws -> Report {
        let result = try CLIRunner.run(["doctor", "--json"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
    }

    @Test("without OPENBLAS_CORETYPE the kernel is chosen from the CPU's features")
    func chosenFromFeatures() throws {
        // An empty value counts as unset (the test runner's own environment may set one).
        let report = try doctor(["OPENBLAS_CORETYPE": ""])
        let cpu = CPUInfo.current
        #expect(report.cpu.features == cpu.features.names)
        if let expected = BLASRuntime.kernel(for: cpu.features) {
            #expect(report.blas.source == BLASRuntime.Source.chosenFromFeatures.rawValue)
            #expect(report.blas.kernel.lowercased() == expected.lowercased())
        }
        #expect(report.warnings.isEmpty, "\(report.warnings)")
    }

    @Test("a generic kernel forced on an AVX2 CPU is reported, and other commands warn about it once")
    func genericKernelWarns() throws {
        let report = try doctor(["OPENBLAS_CORETYPE": "Prescott"])
        #expect(report.blas.kernel == "Prescott")
        #expect(report.blas.source == BLASRuntime.Source.environment.rawValue)
        let capable = CPUInfo.current.features.isSuperset(of: .avx2Class)
        #expect(report.warnings.count == (capable ? 1 : 0), "\(report.warnings)")

        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let list = try CLIRunner.run(["list", "--registry", dir.path], environment: ["OPENBLAS_CORETYPE": "Prescott"])
        let warnings = list.stderr.components(separatedBy: "\n").filter { $0.contains("generic Prescott kernels") }
        #expect(warnings.count == (capable ? 1 : 0), "\(list.stderr)")
    }

    @Test("a missing BLAS library stops every command with the fix, not a crash")
    func missingLibrary() throws {
        let result = try CLIRunner.run(["list", "--registry", "/nonexistent-registry"],
                                       environment: ["DIVSEG_BLAS_LIBRARY": "/nonexistent/libopenblas.so"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("OpenBLAS could not be loaded") && result.stderr.contains("DIVSEG_BLAS_LIBRARY"),
                "\(result.stderr)")
    }
}
