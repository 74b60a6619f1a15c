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
                    throw .unreadable(path: path, reason: RegularFile.systemMessage(errno))
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
                throw .unreadable(path: path, reason: RegularFile.systemMessage(errno))
            }
            if n == 0 { break }
            count += n
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// Writes via a temporary file in the same directory and `rename`, so that readers (and
    /// a crash at any moment) see either the old file or the complete new one, never a
    /// partial PNG; never over a device, FIFO or directory (`--out /dev/full`).
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ImageError) {
        guard !path.isEmpty else { throw .writeFailed(path: path, reason: "the path is empty") }
        do throws(FileAccessError) { try RegularFile.writeAtomically(bytes, to: path) } catch {
            throw .writeFailed(path: path, reason: error.reason)
        }
    }

}

/// `read` is shadowed inside `ImageFile` by the static method of the same name.
@inline(__always)
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
