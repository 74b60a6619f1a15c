import Crypto
import Foundation

/// SHA-256 digests of files, as lowercase hex: the content keys of feature caches and the
/// integrity checks of bundles.
///
/// ```swift
/// let digest = try FileDigest.sha256(ofFileAt: "classes/giraffe/localizer.h5")
/// ```
public enum FileDigest {
    /// Digest of a regular file's bytes, read in 1 MiB chunks. A FIFO, device or directory
    /// is refused before anything is read (a FIFO would block, `/dev/zero` never ends).
    public static func sha256(ofFileAt path: String) throws -> String {
        let opened: RegularFile.Opened
        do throws(FileAccessError) { opened = try RegularFile.openForReading(path) } catch {
            switch error {
            case .notRegular(_, let kind): throw DigestError.notRegularFile(path: path, kind: kind)
            default: throw DigestError.unreadable(path: path)
            }
        }
        let handle = FileHandle(fileDescriptor: opened.descriptor, closeOnDealloc: true)
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw DigestError.unreadable(path: path)
            }
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hex(hasher.finalize())
    }

    /// Digest of bytes in memory.
    public static func sha256(of data: some DataProtocol) -> String {
        hex(SHA256.hash(data: data))
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { byte in
            let s = String(byte, radix: 16)
            return byte < 16 ? "0" + s : s
        }.joined()
    }

    /// A file that could not be read for hashing.
    public enum DigestError: Error, Equatable, CustomStringConvertible {
        case unreadable(path: String)
        /// A FIFO, device, socket or directory where a file was expected.
        case notRegularFile(path: String, kind: String)
        public var description: String {
            switch self {
            case .unreadable(let path):
                return "Cannot read '\(path)' to compute its SHA-256: check that it exists and is readable."
            case .notRegularFile(let path, let kind):
                return "'\(path)' is \(kind), not a regular file, so it cannot be read or hashed; "
                    + "replace it with the regular file that belongs there."
            }
        }
        public var path: String {
            switch self {
            case .unreadable(let path), .notRegularFile(let path, _): return path
            }
        }
    }
}
