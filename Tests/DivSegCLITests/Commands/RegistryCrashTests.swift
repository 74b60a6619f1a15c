import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Crash safety of `add`, `remove` and `retrain`: the real executable is stopped at every
/// commit step (`RegistryCrashHarness`, an immediate `_exit`) and killed with SIGKILL at
/// random moments; afterwards the registry is the old or the new state, `verify` passes,
/// and the next command works.
@Suite("divseg-registry crash safety", .serialized)
struct RegistryCrashTests {
    typealias F = RegistryCLIFixture

    /// A registry with giraffe and a current segmenter (5 points per class).
    private func baseRegistry(in dir: URL) throws -> String {
        let bundles = try F.bundles.get()
        let base = dir.path + "/base"
        let add = try F.run(["add", bundles.path("giraffe")], registry: base)
        guard add.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: add.stderr]) }
        return base
    }

    enum Outcome: Equatable { case old, new, mixed(String) }

    /// Old: exactly the base files. New for `add elephant`: the base bundles, elephant as a
    /// byte copy of its source, elephant in labels.json, a segmenter that `verify` accepts.
    private func outcomeOfAdd(_ registry: String, old: [String: String], source: String) throws -> Outcome {
        let now = try F.snapshot(registry)
        if now == old { return .old }
        var expected = old.filter { !$0.key.hasPrefix("segmenter.h5") && $0.key != "labels.json" }
        expected["elephant"] = "dir"
        for file in ["manifest.json", "localizer.h5", "corpus.csv"] {
            expected["elephant/" + file] = try FileDigest.sha256(ofFileAt: source + "/" + file)
        }
        let rest = now.filter { $0.key != "segmenter.h5" && $0.key != "labels.json" }
        guard rest == expected else { return .mixed("files: \(now.keys.sorted())") }
        guard try F.ledger(registry)["elephant"] == 2 else { return .mixed("labels.json lacks elephant") }
        guard now["segmenter.h5"] != old["segmenter.h5"] else { return .mixed("old segmenter with the new class") }
        return .new
    }

    /// Runs `divseg-registry` with arguments and environment, SIGKILLed after `delay`
    /// seconds (nil: not killed). Returns the termination status and whether it was killed.
    private func runKilled(_ arguments: [String], after delay: Double?, environment: [String: String] = [:]) throws -> (Int32, Bool) {
        let process = Process()
        process.executableURL = CLIRunner.executable
        process.arguments = arguments
        process.environment = CLIRunner.environment(environment)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var killed = false
        if let delay {
            let deadline = Date().addingTimeInterval(delay)
            while process.isRunning && Date() < deadline { usleep(5_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL); killed = true }
        }
        process.waitUntilExit()
        return (process.terminationStatus, killed)
    }

    /// After an interruption: the raw folder (no journal) or the rolled-forward one is old
    /// or new, verify passes, and the next change works.
    private func checkAfterAdd(_ trial: String, old: [String: String], source: String, label: String) throws {
        if !FileManager.default.fileExists(atPath: trial + "/.transaction.json") {
            let raw = try outcomeOfAdd(trial, old: old, source: source)
            #expect(raw != .mixed(""), "\(label): raw state")
            if case .mixed(let why) = raw { Issue.record("\(label): raw state is a mix: \(why)") }
        }
        let verify = try F.run(["verify"], registry: trial)
        #expect(verify.status == 0, "\(label): verify failed: \(verify.stdout)\(verify.stderr)")
        let outcome = try outcomeOfAdd(trial, old: old, source: source)
        if case .mixed(let why) = outcome { Issue.record("\(label): a mix of old and new: \(why)") }
        // The next command works: finish the change, or undo it.
        let next = outcome == .old ? try F.run(["add", source, "--no-retrain"], registry: trial)
                                   : try F.run(["remove", "elephant", "--no-retrain"], registry: trial)
        #expect(next.status == 0, "\(label): next command failed: \(next.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: trial).filter { $0.hasPrefix(".tmp-") || $0 == ".transaction.json" }.isEmpty,
                "\(label): leftovers after the next command")
    }

    @Test("add, remove and retrain stopped at every commit step leave the old or the new state")
    func crashPoints() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try baseRegistry(in: dir)
        let old = try F.snapshot(base)
        // add: rename bundle (op:1), labels.json (op:2), segmenter.h5 (op:3), remove staging (op:4).
        for point in ["staged", "journal", "op:1", "op:2", "op:3", "applied"] {
            let trial = dir.path + "/add-" + point
            try F.copy(base, to: trial)
            let crashed = try F.harness("crash:" + point, ["add", bundles.path("elephant")], registry: trial)
            #expect(crashed.status == 137, "add crashed at \(point): \(crashed.stderr)")
            let outcome = try outcomeOfAdd(trial, old: old, source: bundles.path("elephant"))
            #expect(point == "staged" ? outcome == .old : true, "nothing is committed before the journal")
            try checkAfterAdd(trial, old: old, source: bundles.path("elephant"), label: "add at \(point)")
        }
        // remove giraffe (the last class): rename away, labels.json, delete segmenter, staging.
        for point in ["journal", "op:2"] {
            let trial = dir.path + "/remove-" + point
            try F.copy(base, to: trial)
            let crashed = try F.harness("crash:" + point, ["remove", "giraffe"], registry: trial)
            #expect(crashed.status == 137)
            let verify = try F.run(["verify"], registry: trial)
            #expect(verify.status == 0, "remove at \(point): \(verify.stdout)")
            let listing = try F.listing(trial)
            #expect(listing.classes.isEmpty && listing.segmenter == "none", "remove at \(point) is rolled forward")
            #expect(try F.run(["add", bundles.path("giraffe")], registry: trial).status == 0)
            #expect(try F.listing(trial).classes == ["giraffe": 1])
        }
        // retrain with other settings: labels.json, segmenter.h5, staging.
        for point in ["staged", "op:2"] {
            let trial = dir.path + "/retrain-" + point
            try F.copy(base, to: trial)
            let crashed = try F.harness("crash:" + point, ["retrain"], registry: trial, points: 3)
            #expect(crashed.status == 137)
            #expect(try F.run(["verify"], registry: trial).status == 0)
            let now = try F.snapshot(trial)
            #expect(point == "staged" ? now == old : now["segmenter.h5"] != old["segmenter.h5"], "retrain at \(point)")
            #expect(try F.run(["retrain"], registry: trial).status == 0)
        }
    }

    @Test("add and retrain killed with SIGKILL at random moments leave the old or the new state")
    func randomKills() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try baseRegistry(in: dir)
        let old = try F.snapshot(base)
        let source = bundles.path("elephant")
        let weights = ["--cache", F.cache, "--points", "5", "--data-root", F.dataRoot]

        // How long an uninterrupted add takes here and now.
        let reference = dir.path + "/reference"
        try F.copy(base, to: reference)
        let start = Date()
        #expect(try runKilled(["add", source, "--registry", reference] + weights, after: nil).0 == 0)
        let duration = Date().timeIntervalSince(start)
        #expect(try outcomeOfAdd(reference, old: old, source: source) == .new)

        var rng = SystemRandomNumberGenerator()
        var outcomes: [String] = []
        for trial in 0..<4 {
            let path = dir.path + "/kill-add-\(trial)"
            try F.copy(base, to: path)
            // Spread over the run, the last trial close to its end (the commit).
            let delay = trial == 3 ? duration * 0.97 : Double.random(in: 0.05...duration, using: &rng)
            let (status, killed) = try runKilled(["add", source, "--registry", path] + weights, after: delay)
            #expect(killed || status == 0)
            try checkAfterAdd(path, old: old, source: source, label: String(format: "add killed after %.2f s", delay))
            outcomes.append(String(format: "%.2fs→%@", delay, killed ? "killed" : "finished"))
        }
        for trial in 0..<2 {
            let path = dir.path + "/kill-retrain-\(trial)"
            try F.copy(base, to: path)
            let delay = Double.random(in: 0.05...duration, using: &rng)
            _ = try runKilled(["retrain", "--registry", path, "--cache", F.cache, "--points", "3", "--data-root", F.dataRoot], after: delay)
            let verify = try F.run(["verify"], registry: path)
            #expect(verify.status == 0, "retrain killed after \(delay) s: \(verify.stdout)")
            // Old state, or the new one: a finished retrain replaces the segmenter and the
            // ledger that records its SHA-256 together, and nothing else.
            let now = try F.snapshot(path)
            let retrained: Set = ["segmenter.h5", "labels.json"]
            let finished = now["segmenter.h5"] != old["segmenter.h5"]
            #expect(now.filter { !retrained.contains($0.key) } == old.filter { !retrained.contains($0.key) })
            #expect(finished ? now["labels.json"] != old["labels.json"] : now == old, "retrain killed after \(delay) s")
            #expect(try F.run(["retrain"], registry: path).status == 0)
        }
        print("random kills of add (uninterrupted \(String(format: "%.2f", duration)) s): \(outcomes.joined(separator: ", "))")
    }
}
