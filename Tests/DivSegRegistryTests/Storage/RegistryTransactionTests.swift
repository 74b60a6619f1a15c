import DivSegRegistry
import Foundation
import Testing

@Suite("Registry transactions")
struct RegistryTransactionTests {
    /// Old state: bundle `a`, segmenter "old", labels "old". New state: bundle `b` instead
    /// of `a`, segmenter "new", labels "new".
    private func setUp(_ dir: String, id: String) throws -> [RegistryTransaction.Operation] {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/a", withIntermediateDirectories: true)
        try Data("a".utf8).write(to: URL(fileURLWithPath: dir + "/a/manifest.json"))
        try Data("old".utf8).write(to: URL(fileURLWithPath: dir + "/segmenter.h5"))
        try Data("old".utf8).write(to: URL(fileURLWithPath: dir + "/labels.json"))
        let staging = ".tmp-" + id
        try fm.createDirectory(atPath: dir + "/\(staging)/b", withIntermediateDirectories: true)
        try Data("b".utf8).write(to: URL(fileURLWithPath: dir + "/\(staging)/b/manifest.json"))
        try Data("new".utf8).write(to: URL(fileURLWithPath: dir + "/\(staging)/segmenter.h5"))
        try Data("new".utf8).write(to: URL(fileURLWithPath: dir + "/\(staging)/labels.json"))
        return [.rename(from: "\(staging)/b", to: "b"), .rename(from: "\(staging)/segmenter.h5", to: "segmenter.h5"),
                .rename(from: "\(staging)/labels.json", to: "labels.json"), .rename(from: "a", to: "\(staging)/removed-a"),
                .remove(path: staging)]
    }

    private func state(_ dir: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            let path = dir + "/" + name
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let file = isDirectory.boolValue ? path + "/manifest.json" : path
            result[name] = (try? String(contentsOfFile: file, encoding: .utf8)) ?? "?"
        }
        return result
    }

    @Test("a crash after any number of a commit's operations is rolled forward to the new state")
    func rollForwardFromEveryPoint() throws {
        let operationCount = 5
        for done in 0...operationCount {
            let dir = try RegistryFixture.temporaryDirectory("transaction")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let operations = try setUp(dir, id: "t\(done)")
            // The journal as a commit writes it, then the first `done` operations, then the crash.
            let encoder = JSONEncoder()
            struct Journal: Encodable { var version = 1; var id: String; var operations: [RegistryTransaction.Operation] }
            try encoder.encode(Journal(id: "t\(done)", operations: operations))
                .write(to: URL(fileURLWithPath: dir + "/" + RegistryTransaction.journalName))
            for operation in operations.prefix(done) {
                switch operation {
                case .rename(let from, let to): #expect(rename(dir + "/" + from, dir + "/" + to) == 0)
                case .remove(let path): try FileManager.default.removeItem(atPath: dir + "/" + path)
                }
            }
            #expect(RegistryTransaction.isPending(in: dir))
            // Any reader completes it.
            _ = try Registry.open(dir, backbone: nil)
            #expect(try state(dir) == ["b": "b", "segmenter.h5": "new", "labels.json": "new", ".commit-lock": ""], "after \(done) operations")
            #expect(!RegistryTransaction.isPending(in: dir))
            // Replaying is harmless.
            #expect(try RegistryTransaction.recover(in: dir) == false)
        }
    }

    @Test("commit carries the operations out and leaves no journal or staging folder")
    func commit() throws {
        let dir = try RegistryFixture.temporaryDirectory("transaction")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let transaction = try RegistryTransaction.begin(in: dir)
        let operations = try setUp(dir, id: transaction.id)
        try transaction.commit(operations)
        #expect(try state(dir) == ["b": "b", "segmenter.h5": "new", "labels.json": "new", ".commit-lock": ""])
    }

    @Test("a folder that appeared at a destination behind the lock's back is kept aside, and the commit completes")
    func occupiedDestination() throws {
        let dir = try RegistryFixture.temporaryDirectory("transaction")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let transaction = try RegistryTransaction.begin(in: dir)
        let operations = try setUp(dir, id: transaction.id)
        try FileManager.default.createDirectory(atPath: dir + "/b", withIntermediateDirectories: true)
        try Data("hand-copied".utf8).write(to: URL(fileURLWithPath: dir + "/b/manifest.json"))
        try transaction.commit(operations)
        let state = try state(dir)
        #expect(state["b"] == "b")
        #expect(state.filter { $0.key.hasPrefix("b.old-") }.values.map { $0 } == ["hand-copied"])
        #expect(try Registry.open(dir, backbone: nil).problems.map(\.bundle) == [dir + "/b"], "only b is a candidate")
    }

    @Test("a journal that names paths outside the registry is refused and nothing moves")
    func escapingJournal() throws {
        let dir = try RegistryFixture.temporaryDirectory("transaction")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("old".utf8).write(to: URL(fileURLWithPath: dir + "/segmenter.h5"))
        let journal = #"{"version": 1, "id": "x", "operations": [{"rename": {"from": "segmenter.h5", "to": "../stolen.h5"}}]}"#
        try Data(journal.utf8).write(to: URL(fileURLWithPath: dir + "/" + RegistryTransaction.journalName))
        #expect {
            try Registry.open(dir, backbone: nil)
        } throws: { error in
            guard case RegistryError.invalidJournal(_, let reason) = error else { return false }
            return reason.contains("../stolen.h5")
        }
        #expect(FileManager.default.fileExists(atPath: dir + "/segmenter.h5"))
        #expect(!FileManager.default.fileExists(atPath: (dir as NSString).deletingLastPathComponent + "/stolen.h5"))
    }
}
