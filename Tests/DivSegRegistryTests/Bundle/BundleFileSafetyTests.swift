import DivSeg
import DivSegIO
import DivSegRegistry
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on its own thread; nil if it has not finished after `seconds` (a hang
/// detector for FIFO regressions — a correct implementation returns at once).
private final class HangBox<T>: @unchecked Sendable {
    let lock = NSLock()
    var value: T?
}

private func finishing<T: Sendable>(within seconds: Double = 60, _ body: @escaping @Sendable () -> T) -> T? {
    let box = HangBox<T>()
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        let value = body()
        box.lock.lock(); box.value = value; box.lock.unlock()
        done.signal()
    }
    guard done.wait(timeout: .now() + seconds) == .success else { return nil }
    box.lock.lock(); defer { box.lock.unlock() }
    return box.value
}

/// Outcome of opening a registry, as plain values (Sendable across the hang detector).
private struct Opened: Sendable {
    var healthy: [String] = []
    var refused: [String] = []
    var failure: String?
}

private func open(_ registry: String) -> Opened? {
    finishing {
        do {
            let r = try Registry.open(registry, backbone: testBackbone)
            return Opened(healthy: r.bundles.map(\.name), refused: r.problems.map(\.description))
        } catch {
            return Opened(failure: "\(error)")
        }
    }
}

@Suite("Bundle files that are not regular files (issue #10: 12, 14)")
struct BundleSpecialFileTests {
    /// A registry of two bundles, `giraffe` with its localizer.h5 replaced by `damage`.
    private func registry(damage: (String) throws -> Void, check: (Opened) -> Void) throws {
        let dir = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(at: dir) }
        let giraffe = try makeBundle(in: dir, name: "giraffe")
        _ = try makeBundle(in: dir, name: "zebra")
        try FileManager.default.removeItem(atPath: giraffe.localizerPath)
        try damage(giraffe.localizerPath)
        guard let opened = open(dir.path) else { Issue.record("opening the registry hung"); return }
        check(opened)
    }

    @Test("localizer.h5 replaced by a directory: that bundle is refused by name, the rest stays usable")
    func directoryLocalizer() throws {
        try registry(damage: { try FileManager.default.createDirectory(atPath: $0, withIntermediateDirectories: false) }) { opened in
            #expect(opened.failure == nil, "\(opened.failure ?? "")")
            #expect(opened.healthy == ["zebra"])
            #expect(opened.refused.count == 1)
            #expect(opened.refused.first?.contains("giraffe") == true)
            #expect(opened.refused.first?.contains("directory") == true, "\(opened.refused)")
            #expect(opened.refused.first?.contains("NSCocoaErrorDomain") == false)
        }
    }

    @Test("localizer.h5 as a FIFO or a link to /dev/zero: refused at once, no hang")
    func fifoAndDeviceLocalizer() throws {
        try registry(damage: { #expect(mkfifo($0, 0o644) == 0) }) { opened in
            #expect(opened.healthy == ["zebra"])
            #expect(opened.refused.first?.contains("named pipe") == true, "\(opened.refused) \(opened.failure ?? "")")
        }
        try registry(damage: { try FileManager.default.createSymbolicLink(atPath: $0, withDestinationPath: "/dev/zero") }) { opened in
            #expect(opened.healthy == ["zebra"])
            #expect(opened.refused.first?.contains("character device") == true, "\(opened.refused) \(opened.failure ?? "")")
        }
    }

    @Test("manifest.json as a FIFO: that bundle is refused, no hang")
    func fifoManifest() throws {
        let dir = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(at: dir) }
        let giraffe = try makeBundle(in: dir, name: "giraffe")
        _ = try makeBundle(in: dir, name: "zebra")
        let manifest = giraffe.directory + "/manifest.json"
        try FileManager.default.removeItem(atPath: manifest)
        #expect(mkfifo(manifest, 0o644) == 0)
        guard let opened = open(dir.path) else { Issue.record("opening the registry hung"); return }
        #expect(opened.healthy == ["zebra"])
        #expect(opened.refused.first?.contains("named pipe") == true, "\(opened.refused) \(opened.failure ?? "")")
    }

    @Test("a corpus that is not UTF-8 is reported as such, with its line and byte, not as missing")
    func nonUTF8Corpus() throws {
        let dir = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bundle = try makeBundle(in: dir, name: "giraffe")
        var bytes = Array("path,tags,sha256\na.jpg,giraffe,00\nb".utf8)
        let offset = bytes.count
        bytes += [0xFF, 0xFE] + Array(".jpg,dog,11\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: bundle.corpusPath))
        do {
            _ = try bundle.corpus()
            Issue.record("a non-UTF-8 corpus was accepted")
        } catch let error as BundleError {
            guard case .badCorpus(bundle.directory, let detail) = error else {
                Issue.record("expected badCorpus, got \(error)"); return
            }
            #expect(detail.contains("UTF-8"), "\(detail)")
            #expect(detail.contains("line 3"), "\(detail)")
            #expect(detail.contains("offset \(offset)"), "\(detail)")
        }
    }
}

@Suite("Where a bundle may be written (issue #10: 1)")
struct BundleTargetTests {
    private func manifest(seed: UInt64) throws -> (BundleManifest, CorpusFile) {
        let scratch = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let bundle = try makeBundle(in: scratch, name: "giraffe")
        var manifest = bundle.manifest
        manifest.training.seed = seed
        return (manifest, try bundle.corpus())
    }

    private func write(_ target: String, seed: UInt64 = 1, replace: Bool = false) throws -> ClassBundle {
        let (manifest, corpus) = try manifest(seed: seed)
        return try ClassBundle.write(to: target, manifest: manifest, corpus: corpus, replace: replace) { path in
            try MaxPooledLocalizer(randomWithHiddenUnits: 4, className: "giraffe", seed: seed).save(to: path, storage: .float16)
        }
    }

    @Test("an existing folder of other files, or a file, is refused and left as it was")
    func foreignTargets() throws {
        let dir = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("photos").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: folder + "/holiday.txt"))
        let file = dir.appendingPathComponent("passwd").path
        try Data("root:x:0:0".utf8).write(to: URL(fileURLWithPath: file))
        for target in [folder, file] {
            for replace in [false, true] {
                #expect {
                    try write(target, replace: replace)
                } throws: { error in
                    guard case .notABundle(target, _)? = error as? BundleTargetError else { return false }
                    return "\(error)".contains(target)
                }
            }
        }
        #expect(try String(contentsOfFile: folder + "/holiday.txt", encoding: .utf8) == "mine")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "root:x:0:0")
        // A bundle folder with an extra user file is not replaced either.
        let bundle = try write(dir.appendingPathComponent("giraffe").path)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: bundle.directory + "/notes.txt"))
        #expect(throws: BundleTargetError.self) { try write(bundle.directory, replace: true) }
        #expect(FileManager.default.fileExists(atPath: bundle.directory + "/notes.txt"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["giraffe", "passwd", "photos"])
    }

    @Test("an existing bundle is replaced only when asked, atomically, with nothing left beside it")
    func replaceBundle() throws {
        let dir = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("giraffe").path
        let first = try write(target, seed: 1)
        #expect(throws: BundleTargetError.bundleExists(path: target, name: "giraffe")) { try write(target, seed: 2) }
        #expect(try ClassBundle(at: target, backbone: nil).manifest.training.seed == 1)
        let second = try write(target, seed: 2, replace: true)
        #expect(second.manifest.training.seed == 2)
        #expect(second.manifest.localizer.sha256 != first.manifest.localizer.sha256)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["giraffe"])
        // An empty folder (made beforehand) is fine.
        let empty = dir.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        #expect(try write(empty).manifest.name == "giraffe")
    }

    @Test("a target inside a registry is refused with a pointer to `divseg-registry add`")
    func insideRegistry() throws {
        let dir = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try makeBundle(in: dir, name: "zebra")
        _ = try Registry.open(dir.path, backbone: testBackbone)   // a registry: it has its .lock now
        for marker in ["labels.json", "segmenter.h5"] {
            try Data("{}".utf8).write(to: dir.appendingPathComponent(marker))
        }
        for target in [dir.appendingPathComponent("giraffe").path, dir.appendingPathComponent("zebra").path, dir.path] {
            #expect {
                try write(target, replace: true)
            } throws: { error in
                guard case .insideRegistry? = error as? BundleTargetError else { return false }
                return "\(error)".contains("divseg-registry add")
            }
        }
        let contents = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!contents.contains("giraffe") && !contents.contains { $0.contains(".tmp-") }, "\(contents)")
        #expect(try ClassBundle(at: dir.appendingPathComponent("zebra").path, backbone: nil).name == "zebra")
    }
}
