import DivSegTestSupport
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue #13 point 7 and the last part of point 4: long commands say what they will do
/// before they do it and show each phase on its own; an interrupted `evaluate` reports the
/// images done, marked partial.
@Suite("divseg-registry progress: announcements, phases, interrupted evaluate")
struct ProgressCommandTests {
    typealias F = RegistryCLIFixture

    /// Lines of `text` that start with `prefix`.
    static func lines(_ text: String, startingWith prefix: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
    }

    @Test("add, then retrain: the sampling phase says how many images are sampled and how many come from the store")
    func samplingAnnouncements() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        let corpus = try String(contentsOfFile: bundles.path("giraffe") + "/corpus.csv", encoding: .utf8)
        let images = corpus.split(separator: "\n").count - 1
        #expect(images > 1)

        let add = try F.run(["add", bundles.path("giraffe")], registry: registry)
        #expect(add.status == 0, "\(add.stderr)")
        let first = Self.lines(add.stderr, startingWith: "sampling: ")
        #expect(first.count == 1, "\(add.stderr)")
        #expect(first.first?.hasPrefix("sampling: \(images) of \(images) images to sample, 0 from the sample store") == true,
                "\(add.stderr)")
        // Of the images to sample, cached + to compute add up to all of them.
        let features = try #require(first.first?.split(separator: ";").last.map(String.init), "\(add.stderr)")
        let numbers = features.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(features.contains("all \(images) images cached")
                || (numbers.count == 3 && numbers[0] + numbers[2] == images && numbers[1] == images), "\(features)")
        #expect(Self.lines(add.stderr, startingWith: "training (after sampling): the segmenter, ").count == 1, "\(add.stderr)")
        // The phases are shown off a terminal too, as lines, after the announcement.
        let sampled = try #require(add.stderr.range(of: "sampling \(images)/\(images) (100 %)"), "\(add.stderr)")
        #expect(add.stderr.range(of: "sampling: ")!.lowerBound < sampled.lowerBound)
        #expect(add.stderr.contains("segmenter 1000/1000 (100 %)"), "\(add.stderr)")
        #expect(!add.stdout.contains("sampling: "), "announcements go to standard error, not into the output")

        let again = try F.run(["retrain", "--json"], registry: registry)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(Self.lines(again.stderr, startingWith: "sampling: ")
                == ["sampling: 0 of \(images) images to sample, \(images) from the sample store"], "\(again.stderr)")
        // --json output is still one JSON document.
        #expect((try? JSONSerialization.jsonObject(with: Data(again.stdout.utf8))) is [String: Any], "\(again.stdout)")

        let bare = try F.run(["retrain", "--no-sample-store"], registry: registry)
        #expect(bare.status == 0, "\(bare.stderr)")
        #expect(Self.lines(bare.stderr, startingWith: "sampling: ").first?
                    .hasPrefix("sampling: \(images) of \(images) images to sample, no sample store") == true, "\(bare.stderr)")
    }

    @Test("train shows two phases: features (cached vs to compute) and training (epochs), each with its own progress")
    func trainPhases() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = [("000000000025", "giraffe"), ("000000000072", "giraffe"), ("000000000034", "zebra"),
                    ("000000000009", "bowl;broccoli;orange"), ("000000000036", "person;umbrella")]
        let csv = "path,tags\n" + rows.map { "\(SharedData.cocoMiniImage($0.0)),\($0.1)" }.joined(separator: "\n") + "\n"
        try csv.write(toFile: dir.path + "/tags.csv", atomically: true, encoding: .utf8)
        // A cache of its own, empty at first: every image needs the backbone once.
        let cache = ["--cache", dir.path + "/cache"]
        let train = ["train", "giraffe", "--dataset", "tags:" + dir.path + "/tags.csv"]

        let first = try CLIRunner.run(train + ["--out", dir.path + "/a"] + cache)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(Self.lines(first.stderr, startingWith: "features: ") == ["features: 0 of 5 images cached, 5 to compute with the backbone"],
                "\(first.stderr)")
        let announced = try #require(Self.lines(first.stderr, startingWith: "training: giraffe, ").first, "\(first.stderr)")
        let epochs = try #require(Int(announced.dropFirst("training: giraffe, ".count).prefix { $0.isNumber }))
        #expect(announced == "training: giraffe, \(epochs) epochs" && epochs > 0)
        // Each phase counts its own items: 5 images, then the epochs.
        let featuresDone = try #require(first.stderr.range(of: "features 5/5 (100 %)"), "\(first.stderr)")
        let trainingDone = try #require(first.stderr.range(of: "training giraffe \(epochs)/\(epochs) (100 %)"), "\(first.stderr)")
        #expect(featuresDone.lowerBound < first.stderr.range(of: announced)!.lowerBound)
        #expect(first.stderr.range(of: announced)!.lowerBound < trainingDone.lowerBound)
        #expect(!first.stderr.contains("features \(5 + 1)/"), "the epochs must not be counted as feature steps")

        let second = try CLIRunner.run(train + ["--out", dir.path + "/b", "--json"] + cache)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(Self.lines(second.stderr, startingWith: "features: ") == ["features: all 5 images cached"], "\(second.stderr)")
        #expect((try? JSONSerialization.jsonObject(with: Data(second.stdout.utf8))) is [String: Any], "\(second.stdout)")
    }

    @Test("evaluate's feature line counts the mirror images' entries that --tta needs")
    func evaluateFeaturePlan() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let evaluate = ["evaluate", "--registry", SharedData.shippedRegistry, "--dataset", "coco:" + SharedData.cocoMini,
                        "--split", "val", "--limit", "2", "--no-crf", "--cache", dir.path + "/cache"]
        func planned(_ extra: [String]) throws -> [String] {
            let run = try CLIRunner.run(evaluate + extra)
            #expect(run.status == 0, "\(run.stderr)")
            return Self.lines(run.stderr, startingWith: "evaluate: ")
        }
        #expect(try planned([]) == ["evaluate: 2 images; features: 0 of 2 images cached, 2 to compute with the backbone"])
        // The images' entries are there now, their mirror images' are not.
        #expect(try planned(["--tta"]) == ["evaluate: 2 images; features: 0 of 2 images cached, 2 to compute with the backbone"])
        #expect(try planned(["--tta"]) == ["evaluate: 2 images; features: all 2 images cached"])
        #expect(try planned([]) == ["evaluate: 2 images; features: all 2 images cached"])
    }

    /// Runs `evaluate` on the shipped registry with the backbone on every image (seconds per
    /// image, so the evaluation is still running when the signal arrives) and sends `signal`
    /// once the first progress line is on standard error.
    static func interruptedEvaluate(signal: Int32, extra: [String]) throws -> CLIRunner.Result {
        let sent = Atomic<Bool>(false)
        return try CLIRunner.run(["evaluate", "--registry", SharedData.shippedRegistry, "--dataset", "coco:" + SharedData.cocoMini,
                                  "--split", "val", "--limit", "20", "--no-cache"] + extra) { line, pid in
            if line.hasPrefix("evaluate ") && !sent.exchange(true, ordering: .relaxed) { kill(pid, signal) }
        }
    }

    @Test("evaluate on Ctrl-C: stops after the current image, prints the scores over the images done marked partial, exit 130")
    func interruptedEvaluation() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let jsonOut = dir.path + "/partial.json"
        let result = try Self.interruptedEvaluate(signal: SIGINT, extra: ["--json-out", jsonOut])
        #expect(result.status == 130, "\(result.stderr)")
        // The first progress line comes at the first tenth (2 of 20): at least 2 images are done.
        let note = try #require(Self.lines(result.stderr, startingWith: "interrupted after ").first, "\(result.stderr)")
        let done = try #require(Int(note.dropFirst("interrupted after ".count).prefix { $0.isNumber }))
        #expect(done >= 2 && done < 20, "\(note)")
        #expect(note == "interrupted after \(done) of 20 images; scores over these \(done) (partial)")
        #expect(result.stdout.hasPrefix("PARTIAL: interrupted after \(done) of 20 images"), "\(result.stdout)")
        #expect(result.stdout.contains("mIoU"), "\(result.stdout)")

        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: jsonOut))) as? [String: Any])
        #expect(json["partial"] as? Bool == true && json["images"] as? Int == done && json["imagesPlanned"] as? Int == 20)
        #expect(json["interruptedBy"] as? String == "SIGINT")
        // The partial scores are those of evaluating exactly the images done.
        let reference = try CLIRunner.run(["evaluate", "--registry", SharedData.shippedRegistry, "--dataset", "coco:" + SharedData.cocoMini,
                                           "--split", "val", "--limit", String(done), "--no-cache", "--json"])
        #expect(reference.status == 0, "\(reference.stderr)")
        let whole = try #require(try JSONSerialization.jsonObject(with: Data(reference.stdout.utf8)) as? [String: Any])
        #expect(whole["partial"] == nil)
        #expect(json["mIoU"] as? Double == whole["mIoU"] as? Double)
        let perClass = try #require(json["perClass"] as? [String: Double])
        #expect(perClass == whole["perClass"] as? [String: Double])
    }

    @Test("evaluate on SIGTERM: the partial JSON on standard output, exit 143")
    func terminatedEvaluation() throws {
        let result = try Self.interruptedEvaluate(signal: SIGTERM, extra: ["--json"])
        #expect(result.status == 143, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        let done = try #require(json["images"] as? Int)
        #expect(json["partial"] as? Bool == true && done >= 2 && done < 20 && json["interruptedBy"] as? String == "SIGTERM")
        #expect(json["mIoU"] is Double)
    }
}
