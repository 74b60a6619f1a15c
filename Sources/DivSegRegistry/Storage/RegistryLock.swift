import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory `flock(2)` lock on a file inside a registry folder. Released by
/// ``release()`` or when the object goes away — and by the kernel when the process dies,
/// so a killed command never leaves the registry locked.
///
/// Two locks exist per registry:
/// - the **mutation lock** (`.lock`, exclusive): held by `add`, `remove` and `retrain` for
///   their whole run, so mutations happen one at a time;
/// - the **commit lock** (`.commit-lock`): held exclusively only while a change is being
///   committed (a few renames), and shared by readers while they read the folder, so a
///   reader never sees half of a commit.
///
/// ```swift
/// let lock = try RegistryLock.acquire(registry: "classes", timeout: 30, purpose: "my tool")
/// defer { lock.release() }
/// // … change the registry through RegistryEditor from this process only …
/// ```
public final class RegistryLock {
    /// The lock file.
    public let path: String
    private var descriptor: Int32

    /// File name of the mutation lock inside the registry folder.
    public static let mutationLockName = ".lock"
    /// File name of the commit lock inside the registry folder.
    public static let commitLockName = ".commit-lock"
    /// The waits (seconds) ``acquire(registry:timeout:purpose:)`` accepts: a NaN, infinite or
    /// negative wait would never end (or never start); a day is longer than any change of a
    /// registry takes.
    public static let timeoutRange: ClosedRange<Double> = 0...86_400

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { release() }

    /// Takes the registry's exclusive mutation lock, waiting up to `timeout` seconds for
    /// another holder to finish, and records `purpose` and this process id in the lock file
    /// (shown to commands that have to wait).
    ///
    /// - Throws: ``RegistryError/notFound(_:)``, ``RegistryError/readOnly(directory:reason:)``
    ///   when the folder cannot be written, ``RegistryError/locked(directory:holder:waited:)``
    ///   when another process still holds the lock after `timeout`,
    ///   ``RegistryError/invalidLockTimeout(_:)`` for a `timeout` outside ``timeoutRange``
    ///   (NaN, infinite, negative), before anything is opened.
    public static func acquire(registry directory: String, timeout: Double, purpose: String = "") throws -> RegistryLock {
        try checkTimeout(timeout)
        try checkWritable(directory)
        let path = (directory as NSString).appendingPathComponent(mutationLockName)
        let lock = try open(path, directory: directory, create: true)!
        try lock.lock(exclusive: true, timeout: timeout, directory: directory)
        let note = "pid \(getpid())" + (purpose.isEmpty ? "" : ", \(purpose)")
            + ", since \(ISO8601DateFormatter().string(from: Date()))"
        _ = ftruncate(lock.descriptor, 0)
        _ = note.withCString { pwrite(lock.descriptor, $0, strlen($0), 0) }
        return lock
    }

    /// The commit lock: exclusive for committing, shared for reading. With `create` false a
    /// missing lock file (a folder that was never changed) gives nil, as does a lock file
    /// that cannot be opened for reading.
    static func commitLock(registry directory: String, exclusive: Bool, timeout: Double,
                           create: Bool) throws -> RegistryLock? {
        try checkTimeout(timeout)
        let path = (directory as NSString).appendingPathComponent(commitLockName)
        guard let lock = try open(path, directory: directory, create: create) else { return nil }
        try lock.lock(exclusive: exclusive, timeout: timeout, directory: directory)
        return lock
    }

    /// Gives the lock up (idempotent).
    public func release() {
        guard descriptor >= 0 else { return }
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    /// Refuses a wait that would never end (NaN, infinity) or means nothing (negative).
    static func checkTimeout(_ timeout: Double) throws {
        guard timeoutRange.contains(timeout) else { throw RegistryError.invalidLockTimeout(timeout) }
    }

    /// Fails with ``RegistryError/readOnly(directory:reason:)`` when the folder cannot be
    /// written. `access(2)` also reports a read-only mount for root (which ignores
    /// permission bits).
    static func checkWritable(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw RegistryError.notFound(directory)
        }
        guard isDirectory.boolValue else {
            throw RegistryError.readOnly(directory: directory, reason: "it is a file, not a folder")
        }
        if access(directory, W_OK) != 0 {
            throw RegistryError.readOnly(directory: directory, reason: DurableFile.message(errno))
        }
    }

    private static func open(_ path: String, directory: String, create: Bool) throws -> RegistryLock? {
        // O_NOFOLLOW: a lock file replaced by a symlink must not make `acquire` write the
        // holder note into the link's target (a file anywhere); O_NONBLOCK: a FIFO put in
        // its place must not block the open. Only a regular file is used.
        let flags = (create ? (O_RDWR | O_CREAT) : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK
        let fd = systemOpen(path, flags, 0o644)
        if fd >= 0 {
            var info = stat()
            guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                close(fd)
                throw RegistryError.writeFailed(path: path, reason: "it is not a regular file (a symlink, folder or device put in place of the registry's lock file); delete it, and the next command creates a new one")
            }
            return RegistryLock(path: path, descriptor: fd)
        }
        let code = errno
        if code == ELOOP || code == ENXIO {
            throw RegistryError.writeFailed(path: path, reason: "it is not a regular file (a symlink, folder or device put in place of the registry's lock file); delete it, and the next command creates a new one")
        }
        if !create { return nil }
        switch code {
        case EROFS, EACCES, EPERM:
            throw RegistryError.readOnly(directory: directory, reason: "cannot create '\(path)': \(DurableFile.message(code))")
        default:
            throw RegistryError.writeFailed(path: path, reason: DurableFile.message(code))
        }
    }

    private func lock(exclusive: Bool, timeout: Double, directory: String) throws {
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB
        let start = Date()
        while true {
            if flock(descriptor, operation) == 0 { return }
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK || code == EAGAIN else {
                release()
                throw RegistryError.writeFailed(path: path, reason: "flock: \(DurableFile.message(code))")
            }
            let waited = Date().timeIntervalSince(start)
            if waited >= timeout {
                // Read through the descriptor: the path is not reopened (it may have been swapped).
                var buffer = [UInt8](repeating: 0, count: 512)
                let count = pread(descriptor, &buffer, buffer.count, 0)
                let holder = count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines) : nil
                release()
                throw RegistryError.locked(directory: directory, holder: holder?.isEmpty == false ? holder : nil,
                                           waited: waited)
            }
            usleep(useconds_t(min(50_000, max(1_000, (timeout - waited) * 1_000_000))))
        }
    }
}

/// `open(2)` (a free function, so that `RegistryLock.open` does not shadow it).
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}
