import Foundation
import DivSegTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tampered registries through the real executable (issue #10, registry part): a read-only
/// command never acts on a journal it did not write, a failed commit leaves the previous
/// state and a usable registry.
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
        let failed = try F.harness("fail:op:2", ["add", bundles.path("elephant"), "--no-retrain"], registry: registry)
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("keeps its previous state"), "\(failed.stderr)")
        #expect(try F.snapshot(registry) == before)
        #expect(!FileManager.default.fileExists(atPath: registry + "/.transaction.json"))
        #expect(try F.run(["list"], registry: registry).status == 0)
        #expect(try F.run(["add", bundles.path("elephant"), "--no-retrain"], registry: registry).status == 0)
        #expect(try F.ledger(registry) == ["giraffe": 1, "elephant": 2])
    }

    // Readers during commits (case 17) are tested deterministically, at every commit step,
    // by RegistryEditorIsolationTests (DivSegRegistryTests): a loop of `segment` runs beside a
    // writer only hit the commit by chance.
}
