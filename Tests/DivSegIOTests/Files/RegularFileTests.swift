import DivSegIO
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on its own thread and gives its result, or nil if it has not finished after
/// `seconds`: a regression that hangs (a FIFO open waiting for a writer) then fails the test
/// instead of hanging the suite. A correct implementation returns at once; the bound is
/// only a hang detector, generous enough for any machine.
final class HangBox<T>: @unchecked Sendable {
    let lock = NSLock()
    var value: T?
}

func finishing<T: Sendable>(within seconds: Double = 60, _ body: @escaping @Sendable () -> T) -> T? {
    let box = HangBox<T>()
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        let value = body()
        box.lock.lock()
        box.value = value
        box.lock.unlock()
        done.signal()
    }
    guard done.wait(timeout: .now() + seconds) == .success else { return nil }
    box.lock.lock()
    defer { box.lock.unlock() }
    return box.value
}

/// A temporary folder with a FIFO, a symbolic link to /dev/full and a real PNG in it.
struct SpecialFiles {
    let directory: String
    var fifo: String { directory + "/pipe.png" }
    var fullLink: String { directory + "/full.png" }
    var realPNG: String { directory + "/real.png" }

    static func with(_ body: (SpecialFiles) throws -> Void) throws {
        let directory = NSTemporaryDirectory() + "/divseg-special-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = SpecialFiles(directory: directory)
        #expect(mkfifo(files.fifo, 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: files.fullLink, withDestinationPath: "/dev/full")
        try FileManager.default.copyItem(atPath: HDF5Fixtures.pngPath, toPath: files.realPNG)
        try body(files)
    }

    func kind(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }
}

@Suite("Only regular files are read or written (issue #10: 2, 12)")
struct RegularFileTests {
    @Test("a FIFO as an image is refused at once, named, instead of hanging")
    func fifoImage() throws {
        try SpecialFiles.with { files in
            let path = files.fifo
            let result = finishing { () -> ImageError? in
                do throws(ImageError) { _ = try ImageDecoder.decodeRGB(contentsOf: path); return nil } catch { return error }
            }
            guard let result else { Issue.record("decoding a FIFO hung"); return }
            guard case .unreadable(path, let reason)? = result else {
                Issue.record("expected unreadable, got \(String(describing: result))"); return
            }
            #expect(reason.contains("named pipe"), "\(reason)")
            #expect(result?.description.contains(path) == true)
        }
    }

    @Test("/dev/zero as an image is refused before any byte is read")
    func devZeroImage() throws {
        let result = finishing { () -> ImageError? in
            do throws(ImageError) { _ = try ImageDecoder.decodeRGB(contentsOf: "/dev/zero"); return nil } catch { return error }
        }
        guard let outcome = result else { Issue.record("reading /dev/zero did not end"); return }
        guard case .unreadable("/dev/zero", let reason)? = outcome else {
            Issue.record("expected unreadable, got \(String(describing: result))"); return
        }
        // Before the fix, 2 GiB were read first and the message spoke of the size.
        #expect(reason.contains("character device"), "\(reason)")
    }

    @Test("a FIFO or a device as an HDF5 file is refused before HDF5 opens it")
    func hdf5SpecialFiles() throws {
        try SpecialFiles.with { files in
            for path in [files.fifo, "/dev/zero", files.directory] {
                let result = finishing { () -> HDF5Error? in
                    do { _ = try HDF5File.open(path); return nil } catch { return error as? HDF5Error }
                }
                guard let result else { Issue.record("opening \(path) hung"); continue }
                guard case .notRegularFile(path, let kind)? = result else {
                    Issue.record("\(path): expected notRegularFile, got \(String(describing: result))"); continue
                }
                #expect(!kind.isEmpty)
                #expect(result?.description.contains(path) == true)
            }
        }
    }

    @Test("the file digest refuses a FIFO, /dev/zero and a directory instead of hanging or reading for ever")
    func digestSpecialFiles() throws {
        try SpecialFiles.with { files in
            for path in [files.fifo, "/dev/zero", files.directory] {
                let result = finishing { () -> FileDigest.DigestError? in
                    do { _ = try FileDigest.sha256(ofFileAt: path); return nil } catch {
                        return error as? FileDigest.DigestError
                    }
                }
                guard let result else { Issue.record("hashing \(path) hung"); continue }
                guard case .notRegularFile(path, _)? = result else {
                    Issue.record("\(path): expected notRegularFile, got \(String(describing: result))"); continue
                }
            }
            // A regular file still hashes.
            let original = try FileDigest.sha256(ofFileAt: HDF5Fixtures.pngPath)
            #expect(try FileDigest.sha256(ofFileAt: files.realPNG) == original)
        }
    }

    @Test("PNG and HDF5 outputs refuse a FIFO, a link to /dev/full and a directory, and leave them as they were")
    func specialOutputs() throws {
        try SpecialFiles.with { files in
            let image = try ImageDecoder.decodeRGB(contentsOf: files.realPNG)
            for path in [files.fifo, files.fullLink, files.directory] {
                let before = files.kind(path)
                do throws(ImageError) {
                    try PNGEncoder.write(image, to: path)
                    Issue.record("PNG written over \(path)")
                } catch {
                    guard case .writeFailed(path, let reason) = error else {
                        Issue.record("expected writeFailed, got \(error)"); continue
                    }
                    #expect(reason.contains("not a regular file"), "\(reason)")
                }
                #expect(throws: HDF5Error.self) {
                    try HDF5File.writeAtomically(to: path) { try $0.writeFloats("x", [1], shape: [1]) }
                }
                #expect(throws: FileAccessError.self) { try RegularFile.writeAtomically([1, 2, 3], to: path) }
                #expect(files.kind(path) == before, "\(path) was replaced")
            }
            // /dev/full itself is still the device.
            var info = stat()
            #expect(stat("/dev/full", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR)
            // No temporary files left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: files.directory).sorted()
                    == ["full.png", "pipe.png", "real.png"])
        }
    }

    @Test("readAll checks the size before reading")
    func readAllLimit() throws {
        try SpecialFiles.with { files in
            let size = try HDF5Fixtures.fileSize(files.realPNG)
            #expect(throws: FileAccessError.tooLarge(path: files.realPNG, bytes: size, limit: 100)) {
                try RegularFile.readAll(files.realPNG, limit: 100)
            }
            let expected = try ImageTestSupport.bytes(files.realPNG)
            #expect(try RegularFile.readAll(files.realPNG, limit: 1 << 30) == expected)
            #expect(throws: FileAccessError.notRegular(path: files.fullLink, kind: "a symbolic link")) {
                try RegularFile.readAll(files.fullLink, limit: 1 << 20, followSymlinks: false)
            }
        }
    }
}

@Suite("Output plans: no output replaces an input or another output (issue #10: 3)")
struct OutputPlanTests {
    @Test("an output that is an input, however spelled or linked, is refused")
    func outputIsInput() throws {
        try SpecialFiles.with { files in
            let dir = files.directory
            let spelled = dir + "/./sub/../real.png"
            try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
            #expect(throws: OutputClashError.self) { try OutputPlan.check([(input: files.realPNG, output: spelled)]) }
            // Through a symbolic link to the folder, and through a hard link.
            try FileManager.default.createSymbolicLink(atPath: dir + "/alias", withDestinationPath: dir)
            #expect(throws: OutputClashError.self) { try OutputPlan.check([(input: files.realPNG, output: dir + "/alias/real.png")]) }
            #expect(link(files.realPNG, dir + "/hard.png") == 0)
            #expect(throws: OutputClashError.self) { try OutputPlan.check([(input: files.realPNG, output: dir + "/hard.png")]) }
            // Another input's output hitting an input.
            #expect(throws: OutputClashError.overwritesInput(output: dir + "/real.png", input: files.realPNG, producedFrom: "b.jpg")) {
                try OutputPlan.check([(input: files.realPNG, output: dir + "/out1.png"), (input: "b.jpg", output: dir + "/real.png")])
            }
        }
    }

    @Test("two outputs that are the same file are refused; distinct ones pass")
    func sameOutput() throws {
        try SpecialFiles.with { files in
            let dir = files.directory
            #expect(throws: OutputClashError.sameOutput(output: dir + "/o/x.png", first: "a/x.png", second: "b/x.png")) {
                try OutputPlan.check([(input: "a/x.png", output: dir + "/o/x.png"), (input: "b/x.png", output: dir + "/o/x.png")])
            }
            try OutputPlan.check([(input: "a/x.png", output: dir + "/o/x.png"), (input: "b/y.png", output: dir + "/o/y.png")])
            // A special file as an output is refused by the same check.
            #expect(throws: FileAccessError.self) { try OutputPlan.check([(input: "a/x.png", output: files.fifo)]) }
        }
    }
}
