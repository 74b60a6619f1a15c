import Foundation
import DivSegTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tampered registries through the real executable (issue #10, registry part): a read-only
/// command never acts on a journal it did not write, a failed commit leaves the previous
/// state and a usable registry, and readers running during changes see one consistent state.
@Suite("divseg-registry integrity")
struct RegistryIntegrityCommandTests {
    typealias F = RegistryCLIFixture

    @Test("list on a registry with a tampered journal refuses it, moves nothing outside; verify --repair makes it usable")
    func tamperedJournalThroughList() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        #expect(try F.run(["add", bundles.path("giraffe"), "--no-retrain"], registry: registry).status == 0)
        let outside = dir.path + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: URL(fileURLWithPath: outside + "/important.txt"))
        #expect(symlink(outside, registry + "/ln") == 0)
        try Data(#"{"version":1,"id":"x","operations":[{"remove":{"path":"ln/important.txt"}}]}"#.utf8)
            .write(to: URL(fileURLWithPath: registry + "/.transaction.json"))

        let list = try F.run(["list"], registry: registry)
        #expect(list.status != 0)
        #expect(list.stderr.contains(".transaction.json") && list.stderr.contains("verify --repair")
                && !list.stderr.contains("NSCocoaErrorDomain"), "\(list.stderr)")
        #expect(try String(contentsOfFile: outside + "/important.txt", encoding: .utf8) == "precious")

        let repair = try F.run(["verify", "--repair"], registry: registry)
        #expect(repair.stdout.contains("repair: set the invalid change journal aside"), "\(repair.stdout)\(repair.stderr)")
        #expect(try F.run(["list"], registry: registry).status == 0)
        #expect(try String(contentsOfFile: outside + "/important.txt", encoding: .utf8) == "precious")
    }

    @Test("a commit step that fails leaves the previous state, says so truthfully, and blocks nothing")
    func failedCommit() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        #expect(try F.run(["add", bundles.path("giraffe"), "--no-retrain"], registry: registry).status == 0)
        let before = try F.snapshot(registry)
        let failed = try F.run(["add", bundles.path("elephant"), "--no-retrain"], registry: registry,
                               environment: ["DIVSEG_REGISTRY_FAIL_AT": "op:2"])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("keeps its previous state"), "\(failed.stderr)")
        #expect(try F.snapshot(registry) == before)
        #expect(!FileManager.default.fileExists(atPath: registry + "/.transaction.json"))
        #expect(try F.run(["list"], registry: registry).status == 0)
        #expect(try F.run(["add", bundles.path("elephant"), "--no-retrain"], registry: registry).status == 0)
        #expect(try F.ledger(registry) == ["giraffe": 1, "elephant": 2])
    }

    @Test("segment running while add and remove retrain sees the old or the new registry: every run succeeds")
    func readersDuringCommits() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        let first = try F.run(["add", bundles.path("giraffe")], registry: registry)
        #expect(first.status == 0, "\(first.stderr)")
        let image = SharedData.root + "/data/coco-mini/images/000000000025.jpg"

        final class State: @unchecked Sendable {
            let lock = NSLock()
            var writerDone = false
            var writerFailures: [String] = []
        }
        let state = State()
        let commits = 4
        let writer = Thread {
            for index in 0..<commits {
                let arguments = index % 2 == 0 ? ["add", bundles.path("elephant")] : ["remove", "elephant"]
                let result = (try? F.run(arguments, registry: registry)) ?? CLIRunner.Result(status: -1, stdout: "", stderr: "did not run")
                if result.status != 0 {
                    state.lock.lock(); state.writerFailures.append(result.stderr); state.lock.unlock()
                }
            }
            state.lock.lock(); state.writerDone = true; state.lock.unlock()
        }
        writer.start()
        // Readers run back to back until every commit happened (no sleeps: the loop is
        // bounded by the writer's progress, not by time).
        var runs = 0
        var readerFailures: [String] = []
        while true {
            state.lock.lock(); let done = state.writerDone; state.lock.unlock()
            if done && runs > 0 { break }
            let out = dir.path + "/out-\(runs)"
            let result = try F.run(["segment", image, "--out", out], registry: registry)
            if result.status != 0 { readerFailures.append(result.stderr) }
            runs += 1
        }
        #expect(state.writerFailures.isEmpty, "\(state.writerFailures)")
        #expect(readerFailures.isEmpty, "\(readerFailures.count) of \(runs) reads failed: \(readerFailures)")
        #expect(try F.run(["verify"], registry: registry).status == 0)
    }
}
