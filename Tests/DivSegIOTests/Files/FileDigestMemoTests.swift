import DivSegIO
import Foundation
import Testing

/// The remembered weights digest (issue #14): used only while the file is the one hashed.
@Suite("FileDigestMemo")
struct FileDigestMemoTests {
    static func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-digest-memo-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("remembers a settled file's digest and finds it again; a replaced file is hashed again")
    func remembersAndNoticesReplacement() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/weights.bin"
        try Data(repeating: 7, count: 100_000).write(to: URL(fileURLWithPath: file))
        let memo = FileDigestMemo(directory: dir + "/memo", settleSeconds: 0)
        let digest = try memo.sha256(ofFileAt: file)
        #expect(digest == (try FileDigest.sha256(ofFileAt: file)))
        let records = try FileManager.default.contentsOfDirectory(atPath: dir + "/memo")
        #expect(records.count == 1)
        #expect(try memo.sha256(ofFileAt: file) == digest)
        // Same size, other bytes, new inode (as an editor or a download writes it).
        try Data(repeating: 8, count: 100_000).write(to: URL(fileURLWithPath: file), options: .atomic)
        let changed = try memo.sha256(ofFileAt: file)
        #expect(changed == (try FileDigest.sha256(ofFileAt: file)))
        #expect(changed != digest)
    }

    @Test("a record whose file changed size, or a damaged record, is not trusted")
    func distrustsChangedFilesAndDamagedRecords() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/weights.bin"
        try Data(repeating: 1, count: 5000).write(to: URL(fileURLWithPath: file))
        let memo = FileDigestMemo(directory: dir + "/memo", settleSeconds: 0)
        _ = try memo.sha256(ofFileAt: file)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([2]))
        try handle.close()
        #expect(try memo.sha256(ofFileAt: file) == (try FileDigest.sha256(ofFileAt: file)))
        // A record with a digest that is not 64 hex digits is ignored.
        let record = try FileManager.default.contentsOfDirectory(atPath: dir + "/memo").map { dir + "/memo/" + $0 }[0]
        var lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        lines[2] = "not-a-digest"
        try lines.joined(separator: "\n").write(toFile: record, atomically: true, encoding: .utf8)
        #expect(try memo.sha256(ofFileAt: file) == (try FileDigest.sha256(ofFileAt: file)))
    }

    @Test("a file changed moments ago is hashed but not recorded (a write in the same clock tick would go unseen)")
    func freshFilesAreNotRecorded() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/weights.bin"
        try Data(repeating: 3, count: 1000).write(to: URL(fileURLWithPath: file))
        let memo = FileDigestMemo(directory: dir + "/memo", settleSeconds: 3600)
        #expect(try memo.sha256(ofFileAt: file) == (try FileDigest.sha256(ofFileAt: file)))
        #expect(!FileManager.default.fileExists(atPath: dir + "/memo"))
    }

    @Test("a missing file is the digest's error")
    func missingFile() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: FileDigest.DigestError.self) {
            try FileDigestMemo(directory: dir + "/memo").sha256(ofFileAt: dir + "/none.bin")
        }
    }
}
