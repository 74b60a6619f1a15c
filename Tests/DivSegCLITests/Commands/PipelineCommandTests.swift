import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

/// train → retrain → segment → localize → evaluate through the command line, on real COCO
/// images and tags (a small localizer so the suite stays fast).
@Suite("divseg-registry train, retrain, segment, localize, evaluate")
struct PipelineCommandTests {
    @Test("a bundle trained from a tags CSV drives segmentation and evaluation")
    func endToEnd() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = SharedData.cocoMiniImages + "/"
        // 2 giraffe images and 5 without giraffes, with their real COCO tags (tags.csv).
        let rows = [("000000000025", "giraffe"), ("000000000072", "giraffe"), ("000000000154", "zebra"),
                    ("000000000009", "bowl;broccoli;orange"), ("000000000030", "potted plant;vase"),
                    ("000000000034", "zebra"), ("000000000036", "person;umbrella")]
        let csv = "path,tags\n" + rows.map { "\(images)\($0.0).jpg,\($0.1)" }.joined(separator: "\n") + "\n"
        let csvPath = dir.appendingPathComponent("tags.csv").path
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
        let registry = dir.appendingPathComponent("classes").path
        let cache = ["--cache", dir.appendingPathComponent("cache").path]

        let train = try CLIRunner.run(["train", "giraffe", "--dataset", "tags:" + csvPath, "--out", registry + "/giraffe"]
                                      + cache)
        #expect(train.status == 0, "\(train.stderr)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: registry + "/giraffe/manifest.json"))) as! [String: Any]
        #expect(manifest["name"] as? String == "giraffe")
        #expect((manifest["training"] as? [String: Any])?["positives"] as? Int == 2)
        // The default localizer is the CAM-style one, trained against every untagged image.
        #expect((manifest["localizer"] as? [String: Any])?["loss"] as? String == "average-pooled")
        #expect((manifest["training"] as? [String: Any])?["negatives"] as? Int == 5)

        // Before retraining, segmenting says what to do.
        let early = try CLIRunner.run(["segment", images + "000000000025.jpg", "--registry", registry,
                                       "--out", dir.appendingPathComponent("seg").path])
        #expect(early.status != 0)
        #expect(early.stderr.contains("retrain"))

        // The bundle records no machine path: its corpus is the images' folder by name, and
        // corpus.csv paths are relative to it.
        #expect((manifest["training"] as? [String: Any])?["corpus"] as? String == "tags:images")
        #expect((manifest["training"] as? [String: Any])?["dataRoot"] == nil)
        let corpus = try String(contentsOfFile: registry + "/giraffe/corpus.csv", encoding: .utf8)
        #expect(corpus.contains("\n000000000025.jpg,giraffe,") && !corpus.contains("/"))

        let retrain = try CLIRunner.run(["retrain", "--registry", registry, "--data-root", images] + cache)
        #expect(retrain.status == 0, "\(retrain.stderr)")
        #expect(FileManager.default.fileExists(atPath: registry + "/segmenter.h5"))

        let out = dir.appendingPathComponent("seg").path
        let segment = try CLIRunner.run(["segment", images + "000000000025.jpg", "--registry", registry, "--out", out])
        #expect(segment.status == 0, "\(segment.stderr)")
        let labels = try ImageDecoder.decodeLabels(contentsOf: out + "/000000000025.png")
        #expect(labels.width == 640 && labels.height == 426)
        #expect(Set(labels.labels).isSubset(of: [0, 1]))
        let overlay = try ImageDecoder.decodeRGB(contentsOf: out + "/000000000025_overlay.png")
        #expect(overlay.width == 640 && overlay.height == 426)

        let heat = dir.appendingPathComponent("heat.png").path
        let localize = try CLIRunner.run(["localize", "giraffe", images + "000000000025.jpg", "--registry", registry, "--out", heat])
        #expect(localize.status == 0, "\(localize.stderr)")
        #expect(try ImageDecoder.decodeRGB(contentsOf: heat).width == 640)

        let evaluate = try CLIRunner.run(["evaluate", "--registry", registry, "--dataset", "tags:" + csvPath, "--json"])
        #expect(evaluate.status != 0, "a tags CSV has no masks: evaluation must refuse it")
        #expect(evaluate.stderr.contains("a tags CSV has none") && !evaluate.stderr.contains("Usage:"), "\(evaluate.stderr)")
        let coco = try CLIRunner.run(["evaluate", "--registry", registry, "--dataset", "coco:" + SharedData.cocoMini,
                                      "--split", "train", "--limit", "2", "--json"] + cache)
        #expect(coco.status == 0, "\(coco.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(coco.stdout.utf8)) as! [String: Any]
        // Off a terminal, progress is plain lines on standard error (stdout stays pure JSON).
        #expect(coco.stderr.contains("evaluate 1/2 (50 %)") && coco.stderr.contains("evaluate 2/2 (100 %)"), "\(coco.stderr)")
        #expect(report["mIoU"] is Double)
        #expect((report["perClass"] as? [String: Any])?["background"] != nil)
    }
}
