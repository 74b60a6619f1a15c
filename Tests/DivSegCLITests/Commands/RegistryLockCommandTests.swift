import DivSegTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The registry lock between processes: a change waits for another one, or gives up after
/// --lock-timeout with a clear message; two concurrent changes both happen, one after the other.
@Suite("divseg-registry lock")
struct RegistryLockCommandTests {
    typealias F = RegistryCLIFixture

    @Test("a change waits for the lock holder, or gives up after --lock-timeout naming the holder")
    func waitOrTimeOut() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        #expect(try F.run(["add", bundles.path("giraffe"), "--no-retrain"], registry: registry).status == 0)
        let before = try F.snapshot(registry)

        // The test process itself is the other command: it takes the same flock(2) lock as
        // divseg-registry, so it holds the lock once `FlockHolder` is made, with no waiting.
        let lockFile = registry + "/.lock"
        let holder = try FlockHolder(lockFile, note: "pid \(getpid()), lock test holder")
        defer { holder.release() }

        let impatient = try F.run(["remove", "giraffe", "--no-retrain", "--lock-timeout", "0.5"], registry: registry)
        #expect(impatient.status != 0)
        #expect(impatient.stderr.contains("is being changed by another command") && impatient.stderr.contains("--lock-timeout"),
                "\(impatient.stderr)")
        #expect(impatient.stderr.contains("lock test holder"), "the message names the holder: \(impatient.stderr)")
        #expect(try F.snapshot(registry) == before)

        // A patient one waits, and goes ahead once the holder is done.
        let patient = Process()
        patient.executableURL = CLIRunner.executable
        patient.arguments = ["remove", "giraffe", "--no-retrain", "--lock-timeout", "600", "--registry", registry]
        patient.environment = CLIRunner.environment()
        patient.standardOutput = FileHandle.nullDevice
        patient.standardError = FileHandle.nullDevice
        try patient.run()
        // It has reached the lock once it has the lock file open: divseg-registry opens it
        // right before it starts waiting on it.
        let reached = OpenFiles.waitUntil({ OpenFiles.count(of: lockFile, pid: patient.processIdentifier) > 0 },
                                          unless: { !patient.isRunning })
        #expect(reached, "the patient command opened the lock file")
        #expect(patient.isRunning, "it waits while the lock is held")
        #expect(try F.snapshot(registry) == before)
        holder.release()
        patient.waitUntilExit()
        #expect(patient.terminationStatus == 0)
        #expect(try F.listing(registry).classes.isEmpty)
    }

    @Test("two add commands started together both succeed, one after the other")
    func concurrentAdds() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        try FileManager.default.createDirectory(atPath: registry, withIntermediateDirectories: true)
        // Two real processes at once; stderr goes to files so that neither blocks on a pipe.
        let processes = try ["giraffe", "elephant"].map { name -> (Process, String) in
            let process = Process()
            process.executableURL = CLIRunner.executable
            process.arguments = ["add", bundles.path(name), "--registry", registry, "--cache", F.cache, "--points", "5",
                                 "--data-root", F.dataRoot]
            process.environment = CLIRunner.environment()
            let log = dir.path + "/\(name).log"
            FileManager.default.createFile(atPath: log, contents: nil)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            try process.run()
            return (process, log)
        }
        for (process, log) in processes {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        let listing = try F.listing(registry)
        #expect(listing.classes.keys.sorted() == ["elephant", "giraffe"] && listing.segmenter == "current")
        #expect(try F.run(["verify"], registry: registry).status == 0)
    }
}

/// An exclusive `flock(2)` on a file, taken the way divseg-registry takes its registry lock,
/// with a note naming the holder written into the file (what a waiting command reports).
final class FlockHolder: @unchecked Sendable {
    private var descriptor: Int32

    init(_ path: String, note: String) throws {
        // Close-on-exec: a child started meanwhile by a parallel test must not inherit, and
        // so keep, the lock.
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(descriptor)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        _ = ftruncate(descriptor, 0)
        _ = note.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    /// Lets go (idempotent).
    func release() {
        guard descriptor >= 0 else { return }
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
