@_spi(Testing) import DivSegRegistry
import DivSegTestSupport
import Foundation
import Testing

/// Issue #10, case 17: `segment` running while `add`/`remove` retrained failed 2 times in 12
/// with "trained for another set of classes": a reader saw the old classes with the new
/// segmenter. Readers must see one consistent snapshot, old or new.
///
/// Deterministic, without sleeps or races: ``RegistryEditor/commitObserver`` stops the
/// change at every commit step (all files staged, journal written, after each rename or
/// removal, all applied) while it holds the exclusive commit lock, and at each step
/// - a reader that opened the registry *before* the change loads its segmenter: it must get
///   the old one, fitting its old class list, even after `segmenter.h5` was replaced;
/// - a new reader is started and the step goes on only once that reader has the commit
///   lock file open (seen in `/proc`), i.e. is waiting on it: when it gets to read, it must
///   see the complete new state.
@Suite("Registry editor: readers during commits", .serialized)
struct RegistryEditorIsolationTests {
    final class Readers: @unchecked Sendable {
        let lock = NSLock()
        var steps: [String] = []
        var problems: [String] = []
        var threads: [(step: String, done: DispatchSemaphore)] = []
        var results: [String: Result<[String], any Error>] = [:]

        func note(_ problem: String) { lock.lock(); problems.append(problem); lock.unlock() }
    }

    @Test("at every commit step of add and remove, old readers keep the old state and new ones get the new",
          arguments: ["add", "remove"])
    func readersAtEveryCommitStep(_ change: String) throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("isolation")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let registry = dir + "/classes"
        var editor = bundles.editor(registry)
        _ = try editor.add(bundleAt: bundles.path("giraffe"))
        if change == "remove" { _ = try editor.add(bundleAt: bundles.path("elephant")) }

        let before = try Registry.open(registry, backbone: bundles.backbone)
        let oldClasses = before.segmenterClasses
        let newClasses = change == "add" ? ["background", "giraffe", "elephant"] : ["background", "giraffe"]
        #expect(oldClasses == (change == "add" ? ["background", "giraffe"] : ["background", "giraffe", "elephant"]))
        let commitLock = registry + "/" + RegistryLock.commitLockName
        let backbone = bundles.backbone
        let readers = Readers()
        editor.commitObserver = { step in
            readers.lock.lock(); readers.steps.append(step.rawValue); readers.lock.unlock()
            // The reader from before the change: its snapshot, whatever has been renamed.
            do {
                let segmenter = try before.loadSegmenter()
                if segmenter.classes != oldClasses { readers.note("\(step.rawValue): old reader got \(segmenter.classes)") }
            } catch {
                readers.note("\(step.rawValue): old reader failed: \(error)")
            }
            // A reader starting now: it waits for the commit, then reads the new state.
            let opened = OpenFiles.count(of: commitLock)
            let done = DispatchSemaphore(value: 0)
            readers.lock.lock(); readers.threads.append((step.rawValue, done)); readers.lock.unlock()
            Thread.detachNewThread {
                let result = Result<[String], any Error> {
                    let registry = try Registry.open(registry, backbone: backbone)
                    let segmenter = try registry.loadSegmenter()
                    guard segmenter.classes == registry.segmenterClasses else {
                        throw RegistryError.staleSegmenter("\(segmenter.classes) vs \(registry.segmenterClasses)")
                    }
                    return registry.segmenterClasses
                }
                readers.lock.lock(); readers.results[step.rawValue] = result; readers.lock.unlock()
                done.signal()
            }
            // Go on only once the reader is at the lock (its descriptor of the lock file is
            // open), unless it already finished (it would have read a half state: reported).
            let reached = OpenFiles.waitUntil({ OpenFiles.count(of: commitLock) > opened }, unless: {
                readers.lock.lock(); defer { readers.lock.unlock() }
                return readers.results[step.rawValue] != nil
            })
            if !reached { readers.note("\(step.rawValue): the new reader finished while the commit held the lock") }
        }
        if change == "add" {
            _ = try editor.add(bundleAt: bundles.path("elephant"))
        } else {
            _ = try editor.remove("elephant")
        }
        for (_, done) in readers.threads { done.wait() }

        // Every step was observed: staged, journal, each operation, applied.
        #expect(readers.steps.first == "staged" && readers.steps.dropFirst().first == "journal" && readers.steps.last == "applied",
                "\(readers.steps)")
        #expect(readers.steps.contains("op:1") && readers.steps.count >= 4, "\(readers.steps)")
        #expect(readers.problems.isEmpty, "\(readers.problems)")
        for step in readers.steps {
            switch readers.results[step] {
            case .success(let classes): #expect(classes == newClasses, "reader started at \(step) saw \(classes)")
            case .failure(let error): Issue.record("reader started at \(step) failed: \(error)")
            case nil: Issue.record("no reader result for \(step)")
            }
        }
        // After the change the old snapshot still works, and a fresh one is the new state.
        #expect(try before.loadSegmenter().classes == oldClasses)
        #expect(try Registry.open(registry, backbone: bundles.backbone).loadSegmenter().classes == newClasses)
    }
}
