import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 digests of large, rarely changing files (the 58 MB backbone weights, hashed by
/// every command that checks what features were computed with) remembered in a folder, so
/// that a command does not read the whole file again each time it starts.
///
/// A remembered digest is used only while the file is provably the one that was hashed: the
/// record holds the file's device, inode, size, modification time and status-change time (in
/// nanoseconds), and any difference means the file is hashed again. The status-change time
/// cannot be set by users (`touch -d` changes it too), so a file rewritten in place with its
/// old size and modification time still misses. A digest is recorded only when the file did
/// not change while it was read and was last changed at least ``settleSeconds`` earlier —
/// a write in the same clock tick as the hashing would leave the times unchanged (the
/// "racy timestamp" problem of Git's index). Records are written atomically; a damaged or
/// foreign record is ignored and replaced.
///
/// ```swift
/// let memo = FileDigestMemo(directory: ".divseg-cache/features/file-digests")
/// let digest = try memo.sha256(ofFileAt: "models/vgg16_imagenet_notop.h5")   // hashed once, then remembered
/// ```
public struct FileDigestMemo: Sendable {
    /// Where the records are (one small text file per hashed path; created when needed).
    public let directory: String
    /// How long ago (seconds) a file must have last changed for its digest to be recorded:
    /// by default 2, beyond any file system's timestamp granularity.
    public let settleSeconds: Int64
    /// The first line of a record.
    static let formatLine = "divseg-file-digest-1"

    public init(directory: String, settleSeconds: Int64 = 2) {
        self.directory = directory
        self.settleSeconds = settleSeconds
    }

    /// The SHA-256 of the regular file at `path` (as ``FileDigest/sha256(ofFileAt:)``):
    /// remembered when the file is unchanged since it was recorded, else computed and
    /// recorded. A record that cannot be written only costs the next call a recomputation.
    ///
    /// - Throws: ``FileDigest/DigestError`` as ``FileDigest/sha256(ofFileAt:)``.
    public func sha256(ofFileAt path: String) throws -> String {
        let before = Self.identity(of: path)
        let record = recordPath(for: path)
        if let before, let remembered = Self.read(record, path: Self.absolute(path), identity: before) {
            return remembered
        }
        let digest = try FileDigest.sha256(ofFileAt: path)
        if let before, Self.identity(of: path) == before, before.settled(now: Self.now(), after: settleSeconds) {
            let text = [Self.formatLine, before.line, digest, Self.absolute(path)].joined(separator: "\n") + "\n"
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try? RegularFile.writeAtomically(Array(text.utf8), to: record)
        }
        return digest
    }

    /// The record file of a path: named by the SHA-256 of its absolute path.
    func recordPath(for path: String) -> String {
        "\(directory)/\(FileDigest.sha256(of: Array(Self.absolute(path).utf8))).digest"
    }

    /// What identifies one version of a file.
    struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: (seconds: Int64, nanoseconds: Int64)
        var changed: (seconds: Int64, nanoseconds: Int64)

        static func == (a: Identity, b: Identity) -> Bool {
            a.line == b.line
        }

        var line: String {
            "\(device) \(inode) \(size) \(modified.seconds).\(modified.nanoseconds) \(changed.seconds).\(changed.nanoseconds)"
        }

        /// Whether the file last changed at least `seconds` before `now`.
        func settled(now: Int64, after seconds: Int64) -> Bool {
            max(modified.seconds, changed.seconds) + seconds <= now
        }
    }

    /// The identity of the regular file at `path` (symbolic links followed), nil when it is
    /// not a readable regular file.
    static func identity(of path: String) -> Identity? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                        modified: (Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec)),
                        changed: (Int64(info.st_ctim.tv_sec), Int64(info.st_ctim.tv_nsec)))
    }

    /// The digest of a record that names `path` with `identity`, else nil.
    static func read(_ record: String, path: String, identity: Identity) -> String? {
        guard let bytes = try? RegularFile.readAll(record, limit: 1 << 16) else { return nil }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, lines[0] == formatLine, lines[1] == identity.line, lines[3] == path else { return nil }
        let digest = String(lines[2])
        guard digest.utf8.count == 64, digest.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            return nil
        }
        return digest
    }

    static func absolute(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return (absolute as NSString).standardizingPath
    }

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec)
    }
}
