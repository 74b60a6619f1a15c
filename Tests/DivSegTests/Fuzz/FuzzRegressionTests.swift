import DivSeg
import DivSegIO
import Foundation
import Testing

/// Every input the libFuzzer targets of `Fuzz/` (scripts/fuzz.sh) found, fed to the same API
/// as its target: a typed error, never a crash, a hang or a memory blow-up. The inputs live in
/// `Tests/DivSegTests/FuzzRegressions/<target>/` (small synthetic files; see
/// docs/RELIABILITY.md for what each one exposed).
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("FuzzRegressions").path

    static func inputs(_ target: String) -> [String] {
        let folder = root + "/" + target
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { folder + "/" + $0 }
    }

    @Test("FuzzModelFiles: every model-file loader refuses the input", arguments: inputs("FuzzModelFiles"))
    func modelFiles(_ path: String) throws {
        #expect(throws: (any Error).self) { try KerasWeights(contentsOf: path) }
        #expect(throws: (any Error).self) { try LocalizerFile.load(contentsOf: path) }
        #expect(throws: (any Error).self) { try Segmenter(contentsOf: path) }
    }

    @Test("FuzzImageDecoder: both decoders refuse the input", arguments: inputs("FuzzImageDecoder"))
    func images(_ path: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(throws: ImageError.self) { try ImageDecoder.decodeRGB(data: bytes, name: path) }
        #expect(throws: ImageError.self) { try ImageDecoder.decodeLabels(data: bytes, name: path) }
    }

    /// A global heap collection whose object claims 164 GiB: libhdf5 1.10 would copy that much
    /// (a crash; under the fuzzer a 10 s timeout). The shim checks every collection first.
    @Test("an HDF5 global heap object larger than its collection is refused before libhdf5 reads it")
    func globalHeapObjectPastCollection() throws {
        let path = Self.root + "/FuzzModelFiles/gcol-object-past-collection.h5"
        do {
            _ = try HDF5File.open(path)
            Issue.record("opened")
        } catch let error as HDF5Error {
            guard case .corrupt(let file, let detail) = error else { Issue.record("\(error)"); return }
            #expect(file == path)
            #expect(detail.contains("global heap"), "\(detail)")
        }
    }

    @Test("the real model files pass the global heap check")
    func realFilesPass() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let localizer = repo.appendingPathComponent("classes/aeroplane/localizer.h5").path
        if FileManager.default.fileExists(atPath: localizer) { _ = try LocalizerFile.load(contentsOf: localizer) }
        if FileManager.default.fileExists(atPath: SharedData.weights) { try HDF5File.open(SharedData.weights).close() }
    }
}
