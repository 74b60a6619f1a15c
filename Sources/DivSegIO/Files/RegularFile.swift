#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CDivSegShims
import Foundation

/// The one place where divseg decides whether a path may be read or written: only regular
/// files are, never a FIFO, a device, a socket or a directory.
///
/// Why: `open(2)` on a FIFO blocks until a writer appears (a hang), `/dev/zero` never ends
/// (a read of gigabytes), and renaming a new file over `/dev/full` replaces the device node.
/// Every reader in the I/O layer (image decoding, HDF5 opening, file digests, small text
/// files) and every atomic writer goes through here, so every caller gets the check.
///
/// ```swift
/// let bytes = try RegularFile.readAll("classes/giraffe/manifest.json", limit: 1 << 20)
/// try RegularFile.checkOutput("out/giraffe.png")    // throws for /dev/full or a directory
/// ```
public enum RegularFile {
    /// What a path names, for messages ("a named pipe (FIFO)", "a directory", …).
    public static func kind(ofMode mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a named pipe (FIFO)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "a special file"
        }
    }

    /// An open regular file: its descriptor (owned by the caller, to `close`) and size.
    public struct Opened {
        public let descriptor: Int32
        public let size: Int
    }

    /// Opens `path` read-only, only if it is a regular file no larger than `limit` bytes.
    ///
    /// The open itself never blocks (`O_NONBLOCK`, so a FIFO without a writer is not waited
    /// for); the type is then checked on the open descriptor (`fstat`), so nothing can swap
    /// the file between check and use. With `followSymlinks == false` a symbolic link at
    /// `path` itself is refused (`O_NOFOLLOW`).
    public static func openForReading(_ path: String, limit: Int? = nil,
                                      followSymlinks: Bool = true) throws(FileAccessError) -> Opened {
        var flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC
        if !followSymlinks { flags |= O_NOFOLLOW }
        let fd = open(path, flags)
        if fd < 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .notFound(path: path) }
            if code == ELOOP && !followSymlinks { throw .notRegular(path: path, kind: "a symbolic link") }
            throw .unreadable(path: path, reason: systemMessage(code))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw .unreadable(path: path, reason: systemMessage(code))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .notRegular(path: path, kind: kind(ofMode: info.st_mode))
        }
        let size = Int(info.st_size)
        if let limit, size > limit {
            close(fd)
            throw .tooLarge(path: path, bytes: size, limit: limit)
        }
        // Regular files never block, but clear the flag so later reads behave as usual.
        let current = fcntl(fd, F_GETFL)
        if current >= 0 { _ = fcntl(fd, F_SETFL, current & ~O_NONBLOCK) }
        return Opened(descriptor: fd, size: size)
    }

    /// Checks that `path` is a regular file (open + `fstat`, without reading), for code that
    /// hands the path to a library opening it itself (HDF5).
    public static func checkReadable(_ path: String, followSymlinks: Bool = true) throws(FileAccessError) {
        let opened = try openForReading(path, followSymlinks: followSymlinks)
        close(opened.descriptor)
    }

    /// Reads a whole regular file of at most `limit` bytes (checked before reading).
    public static func readAll(_ path: String, limit: Int, followSymlinks: Bool = true) throws(FileAccessError) -> [UInt8] {
        let opened = try openForReading(path, limit: limit, followSymlinks: followSymlinks)
        defer { close(opened.descriptor) }
        var bytes = [UInt8](repeating: 0, count: max(opened.size, 4096))
        var count = 0
        while true {
            if count == bytes.count {
                // The file grew since fstat: keep going up to the limit.
                if bytes.count >= limit {
                    var probe: UInt8 = 0
                    let n = posixRead(opened.descriptor, &probe, 1)
                    if n == 0 { break }
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 { throw .unreadable(path: path, reason: systemMessage(errno)) }
                    throw .tooLarge(path: path, bytes: bytes.count + 1, limit: limit)
                }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit - bytes.count)))
            }
            let n = bytes.withUnsafeMutableBytes { buffer in
                posixRead(opened.descriptor, buffer.baseAddress! + count, buffer.count - count)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: systemMessage(errno))
            }
            if n == 0 { break }
            count += n
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// Checks that `path` may be replaced by a new regular file: it does not exist yet, or it
    /// is a regular file (or a symbolic link to one — the link is what a rename replaces).
    /// A device, FIFO, socket or directory there is refused, so `--out /dev/full` fails with
    /// a message instead of replacing the device node.
    public static func checkOutput(_ path: String) throws(FileAccessError) {
        if path.isEmpty { throw .notWritable(path: path, reason: "the path is empty") }
        var info = stat()
        if lstat(path, &info) != 0 {
            let code = errno
            if code == ENOENT { return }
            if code == ENOTDIR { throw .notWritable(path: path, reason: "a component of the path is not a directory") }
            throw .notWritable(path: path, reason: systemMessage(code))
        }
        if (info.st_mode & S_IFMT) == S_IFLNK {
            // A dangling link is fine (the rename replaces the link); a link to a special
            // file is refused like the special file itself.
            var target = stat()
            if stat(path, &target) != 0 { return }
            info = target
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .notRegular(path: path, kind: kind(ofMode: info.st_mode))
        }
    }

    /// The name of a fresh temporary sibling of `path`: `<path>.tmp-<pid>-<random>`. Every
    /// atomic write of divseg stages its file under such a name, so that a registry can
    /// recognise (and clean up) what a killed process left behind.
    public static func temporarySibling(of path: String) -> String {
        path + ".tmp-\(getpid())-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    /// Writes `bytes` to `path` atomically: a ``temporarySibling(of:)``, flushed to disk,
    /// renamed over `path` (after ``checkOutput(_:)``), then the directory entry flushed.
    /// A reader — or a crash — sees the old file or the complete new one; a failure leaves
    /// any previous file unchanged. The one atomic writer of divseg: images, JSON, registry
    /// files and (through ``replace(_:with:)``) HDF5 files all come through here.
    ///
    /// ```swift
    /// try RegularFile.writeAtomically(Array("{}".utf8), to: "classes/labels.json")
    /// ```
    public static func writeAtomically(_ bytes: some Collection<UInt8>, to path: String) throws(FileAccessError) {
        try checkOutput(path)
        if path.hasSuffix("/") { throw .notWritable(path: path, reason: "the path names a directory, not a file") }
        let temporary = temporarySibling(of: path)
        do throws(FileAccessError) {
            try writeDurably(bytes, to: temporary, exclusive: true)
        } catch {
            unlink(temporary)
            let place = directory(of: path)
            throw .notWritable(path: path, reason: "cannot write a temporary file in '\(place)': \(error.reason)")
        }
        try replace(path, with: temporary)
    }

    /// Renames the complete, already synced file `temporary` over `path` and flushes the
    /// directory entry; on failure `temporary` is removed and `path` is unchanged. For
    /// writers that produce the temporary file themselves (HDF5).
    public static func replace(_ path: String, with temporary: String) throws(FileAccessError) {
        guard rename(temporary, path) == 0 else {
            let reason = systemMessage(errno)
            unlink(temporary)
            throw .notWritable(path: path, reason: "cannot rename '\(temporary)' over it: \(reason)")
        }
        syncDirectory(containing: path)
    }

    /// Creates (or, unless `exclusive`, truncates) `path` with `bytes` and flushes it to
    /// disk. Not atomic: for files nobody reads yet (a staging folder, a temporary sibling).
    /// A symbolic link at `path` is never followed.
    public static func writeDurably(_ bytes: some Collection<UInt8>, to path: String,
                                    exclusive: Bool = false) throws(FileAccessError) {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (exclusive ? O_EXCL : O_TRUNC)
        let fd = open(path, flags, 0o666)
        if fd < 0 { throw .notWritable(path: path, reason: systemMessage(errno)) }
        let data = Array(bytes)
        var failure: String?
        var written = 0
        while written < data.count {
            let n = data.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                failure = systemMessage(errno)
                break
            }
            written += n
        }
        if failure == nil && fsync(fd) != 0 { failure = "fsync: " + systemMessage(errno) }
        if close(fd) != 0 && failure == nil { failure = systemMessage(errno) }
        if let failure { throw .notWritable(path: path, reason: failure) }
    }

    /// Flushes an existing file's data to disk (a file another library wrote and closed).
    public static func sync(_ path: String) throws(FileAccessError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 { throw .notWritable(path: path, reason: "cannot reopen it to sync it: " + systemMessage(errno)) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw .notWritable(path: path, reason: "fsync: " + systemMessage(errno)) }
    }

    /// Flushes a directory's entries (renames, creations) to disk. Some file systems refuse
    /// to sync directories; that leaves correct contents, so it is not an error.
    public static func syncDirectory(_ directory: String) {
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// Flushes the entries of the directory that holds `path`.
    public static func syncDirectory(containing path: String) {
        syncDirectory(directory(of: path))
    }

    /// The directory part of `path` ("." for a bare name, "/" for a file in the root).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Swaps two existing paths in one step (Linux `renameat2(RENAME_EXCHANGE)`), so that a
    /// directory can be replaced with no moment at which neither version exists. Returns
    /// false, changing nothing, where the system or file system cannot exchange; throws for
    /// any other failure.
    public static func exchange(_ a: String, _ b: String) throws(FileAccessError) -> Bool {
        if ds_rename_exchange(a, b) == 0 { return true }
        let code = errno
        if code == ENOSYS || code == EINVAL || code == EOPNOTSUPP { return false }
        throw .notWritable(path: b, reason: "cannot swap in '\(a)': \(systemMessage(code))")
    }

    /// `strerror` text for an errno value.
    public static func systemMessage(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// Why a path could not be used as an input or an output file. Every message names the
/// path, the problem and what to give instead.
public enum FileAccessError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// Nothing at the path (or a directory on the way is missing).
    case notFound(path: String)
    /// The path names a FIFO, device, socket, directory (or, where links are not followed,
    /// a symbolic link): only regular files are read or replaced.
    case notRegular(path: String, kind: String)
    /// Larger than the caller's sane limit for this kind of file.
    case tooLarge(path: String, bytes: Int, limit: Int)
    /// The operating system refused to open or read it.
    case unreadable(path: String, reason: String)
    /// It cannot be written (or replaced) as an output.
    case notWritable(path: String, reason: String)

    public var path: String {
        switch self {
        case .notFound(let p), .notRegular(let p, _), .tooLarge(let p, _, _), .unreadable(let p, _),
             .notWritable(let p, _):
            return p
        }
    }

    /// The problem alone, without the path (for wrapping into another error's message).
    public var reason: String {
        switch self {
        case .notFound: return "no such file"
        case .notRegular(_, let kind):
            return "it is \(kind), not a regular file; only regular files are read or written"
        case .tooLarge(_, let bytes, let limit):
            return "it is \(bytes) bytes, more than the \(limit) bytes such a file can sensibly have"
        case .unreadable(_, let reason), .notWritable(_, let reason): return reason
        }
    }

    public var description: String {
        switch self {
        case .notFound(let path):
            return "No such file: '\(path)'. Check the path."
        case .notRegular(let path, let kind):
            return "'\(path)' is \(kind), not a regular file: divseg reads and writes only regular "
                + "files (a pipe or device could block or never end). Give the path of a regular file."
        case .tooLarge(let path, let bytes, let limit):
            return "'\(path)' is \(bytes) bytes, more than the \(limit) bytes such a file can "
                + "sensibly have; check that the path names the right file."
        case .unreadable(let path, let reason):
            return "Cannot read '\(path)': \(reason). Check that it exists and is readable."
        case .notWritable(let path, let reason):
            return "Cannot write '\(path)': \(reason). Check that its folder exists and is writable; "
                + "any previous file there is unchanged."
        }
    }

    public var errorDescription: String? { description }
}

/// `read(2)` under a name that cannot be confused with a method named `read`.
@inline(__always)
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
