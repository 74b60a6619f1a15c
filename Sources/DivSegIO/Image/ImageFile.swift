#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic writes with POSIX calls, so that errors can say precisely
/// what went wrong (missing vs. unreadable vs. full disk) instead of a generic failure.
enum ImageFile {
    /// Anything bigger cannot be a ≤ 100-megapixel PNG/JPEG; refusing it up front avoids
    /// reading a stray multi-gigabyte file into memory.
    static let maxFileBytes = 2 << 30

    static func read(_ path: String) throws(ImageError) -> [UInt8] {
        // Only regular files: a FIFO would block the open, /dev/zero would never end.
        let opened: RegularFile.Opened
        do throws(FileAccessError) {
            opened = try RegularFile.openForReading(path, limit: maxFileBytes)
        } catch {
            switch error {
            case .notFound: throw .fileNotFound(path: path)
            case .tooLarge(_, let bytes, _):
                throw .unreadable(path: path, reason: "it is \(bytes >> 20) MiB, larger than any "
                                  + "image this tool decodes could be")
            default: throw .unreadable(path: path, reason: error.reason)
            }
        }
        let fd = opened.descriptor
        defer { close(fd) }
        let expected = opened.size

        // Sized from fstat, but read until EOF anyway: /proc-like files report 0,
        // and a file may grow while being read.
        var bytes = [UInt8](repeating: 0, count: max(expected, 1 << 16))
        var count = 0
        while true {
            if count == bytes.count {
                var probe: UInt8 = 0
                let n = posixRead(fd, &probe, 1)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .unreadable(path: path, reason: message(errno))
                }
                if n == 0 { break }
                if bytes.count >= maxFileBytes {
                    throw .unreadable(path: path, reason: "it is larger than \(maxFileBytes >> 20) MiB")
                }
                bytes.append(probe)
                count += 1
                bytes.append(contentsOf: repeatElement(0, count: bytes.count))
                continue
            }
            let n = bytes.withUnsafeMutableBytes { buffer in
                posixRead(fd, buffer.baseAddress! + count, buffer.count - count)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: message(errno))
            }
            if n == 0 { break }
            count += n
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// Writes via a temporary file in the same directory and `rename`, so that readers (and
    /// a crash at any moment) see either the old file or the complete new one, never a
    /// partial PNG.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ImageError) {
        // Never rename over a device, FIFO or directory (`--out /dev/full`).
        do throws(FileAccessError) { try RegularFile.checkOutput(path) } catch {
            throw .writeFailed(path: path, reason: error.reason)
        }
        guard !path.isEmpty, !path.hasSuffix("/") else {
            throw .writeFailed(path: path, reason: "the path names a directory, not a file")
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temporary = "\(directory).\(base).\(getpid()).\(suffix).tmp"

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        if fd < 0 {
            let code = errno
            let place = directory.isEmpty ? "the current directory" : "'\(directory)'"
            throw .writeFailed(path: path, reason: "cannot create a file in \(place): \(message(code))")
        }
        var failure: String? = nil
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + written, buffer.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                failure = message(errno)
                break
            }
            written += n
        }
        // fsync before rename: otherwise a crash can leave the new name pointing at an
        // empty file on ext4/xfs.
        if failure == nil && fsync(fd) != 0 { failure = message(errno) }
        if close(fd) != 0 && failure == nil { failure = message(errno) }
        if failure == nil && rename(temporary, path) != 0 { failure = message(errno) }
        if let failure {
            unlink(temporary)
            throw .writeFailed(path: path, reason: failure)
        }
        // Make the rename itself durable. Best effort: some file systems refuse fsync on
        // directories, and the file is already complete either way.
        let dirfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }

    private static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// `read` is shadowed inside `ImageFile` by the static method of the same name.
@inline(__always)
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
