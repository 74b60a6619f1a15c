import Foundation
import CFuzzDriver
#if canImport(Glibc)
import Glibc
#endif

/// A private scratch folder for one fuzzing process, in /dev/shm when it exists (RAM, so one
/// file write per input costs little), deleted at exit. Loaders that take a path (HDF5 opens
/// files by name; manifests, ledgers, journals and CSVs are read from their registry or
/// dataset folder) are fed by writing the input into it.
public final class Sandbox: @unchecked Sendable {
    public let root: String

    public init(_ label: String) {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        // A fuzzer stopped by a finding exits without running atexit handlers: sandboxes of
        // processes that are gone are removed here.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] where name.hasPrefix("divseg-fuzz-") {
            if let pid = name.split(separator: "-").last.flatMap({ Int32($0) }), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(atPath: base + "/" + name)
            }
        }
        root = "\(base)/divseg-fuzz-\(label)-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        guard mkdir(root, 0o700) == 0 else { fatalError("cannot create \(root): errno \(errno)") }
        let path = root
        Sandbox.cleanup.append(path)
        if Sandbox.cleanup.count == 1 { atexit { for path in Sandbox.cleanup { try? FileManager.default.removeItem(atPath: path) } } }
    }

    nonisolated(unsafe) static var cleanup: [String] = []

    /// `relative` inside the sandbox.
    public func path(_ relative: String) -> String { root + "/" + relative }

    /// Creates the folder `relative` (and its parents).
    @discardableResult
    public func folder(_ relative: String) -> String {
        let full = path(relative)
        try? FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        return full
    }

    /// Writes `bytes` to `relative` (replacing it) and returns the full path.
    @discardableResult
    public func write(_ relative: String, _ bytes: UnsafeRawBufferPointer) -> String {
        let full = path(relative)
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { fatalError("cannot write \(full): errno \(errno)") }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            guard n > 0 else { fatalError("cannot write \(full): errno \(errno)") }
            offset += n
        }
        close(fd)
        return full
    }

    /// Copies a file into the sandbox (seeding fixed parts of a layout, e.g. a bundle's
    /// localizer beside a fuzzed manifest).
    public func copy(_ source: String, to relative: String) {
        let full = path(relative)
        try? FileManager.default.removeItem(atPath: full)
        try? FileManager.default.copyItem(atPath: source, toPath: full)
    }

    /// Empties the folder `relative`, then recreates it.
    public func reset(_ relative: String) {
        try? FileManager.default.removeItem(atPath: path(relative))
        folder(relative)
    }
}

/// The shared data folder (`DIVSEG_SHARED`, else `../shared` beside the package).
public let sharedRoot: String = {
    if let env = ProcessInfo.processInfo.environment["DIVSEG_SHARED"] { return env }
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    return repo.deletingLastPathComponent().appendingPathComponent("shared").path
}()

/// The package's own registry (`classes/`).
public let registryRoot: String = {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    return repo.appendingPathComponent("classes").path
}()

/// The entry point of a fuzz target: libFuzzer's driver on `test` (see CFuzzDriver.h).
public typealias FuzzTest = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ test: FuzzTest) -> CInt {
    divseg_fuzz_main(argc, argv, test)
}
