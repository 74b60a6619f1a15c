import Crypto
import Foundation

/// SHA-256 digests of files, as lowercase hex: the content keys of feature caches and the
/// integrity checks of bundles.
///
/// ```swift
/// let digest = try FileDigest.sha256(ofFileAt: "classes/giraffe/localizer.h5")
/// ```
public enum FileDigest {
    /// Digest of a file's bytes, read in 1 MiB chunks.
    public static func sha256(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DigestError.unreadable(path: path)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
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
        public var description: String {
            "Cannot read '\(path)' to compute its SHA-256: check that it exists and is readable."
        }
        public var path: String {
            switch self { case .unreadable(let path): return path }
        }
    }
}
