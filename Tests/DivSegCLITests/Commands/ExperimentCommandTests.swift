import DivSegTestSupport
import Foundation
import Testing

/// `divseg-registry experiment --quick` on a tiny registry of real bundles (giraffe, elephant,
/// person trained on 8 coco-mini images) against a smaller one, evaluated on real coco-mini
/// val2017 images: the rows of the JSON, the registries left untouched, and the sample store
/// reused by a second run with the same figures.
@Suite("divseg-registry experiment")
struct ExperimentCommandTests {
    @Test("experiment --quick writes every table's rows and reuses the sample store on a second run")
    func quickRunTwice() throws {
        let bundles = try RegistryCLIFixture.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let main = dir.path + "/main", small = dir.path + "/small", out = dir.path + "/out"
        for (registry, names) in [(main, ["giraffe", "elephant", "person"]), (small, ["giraffe", "person"])] {
            try FileManager.default.createDirectory(atPath: registry, withIntermediateDirectories: true)
            for name in names { try RegistryCLIFixture.copy(bundles.path(name), to: registry + "/" + name) }
        }
        let before = try [RegistryCLIFixture.snapshot(main), RegistryCLIFixture.snapshot(small)]
        let arguments = ["experiment", "--registry", main, "--compare-registry", "small=" + small,
                         "--dataset", "coco:" + SharedData.cocoMini, "--eval-split", "val",
                         "--train-split", "train", "--quick", "--limit", "2", "--out", out, "--cache", RegistryCLIFixture.cache,
                         "--data-root", RegistryCLIFixture.dataRoot]

        let first = try CLIRunner.run(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("## Table 1 — sampling strategy"))
        #expect(first.stdout.contains("| k = 1 |"))
        let firstRows = try rows(out)
        let expected = ["sampling/dense", "sampling/diverse-k20", "points/k1", "points/k20",
                        "localizers/registry/dense", "localizers/small/dense", "crf/dense", "crf/dense+crf",
                        "crf/dense+rules", "crf/dense+rules+crf"]
        #expect(firstRows.map { $0["id"] as? String } == expected)
        for row in firstRows {
            let id = row["id"] as! String
            #expect(row["error"] == nil, "\(id): \(row["error"] ?? "")")
            let mIoU = try #require(row["mIoU"] as? Double, "\(id)")
            #expect(mIoU >= 0 && mIoU <= 100)
            let scores = try #require(row["scores"] as? [String: Any])
            #expect((scores["perClass"] as? [String: Double])?["background"] != nil, "\(id)")
            #expect(row["vocMIoU"] is Double, "\(id): background and person are VOC classes")
            #expect(row["repeatOf"] != nil || (row["wallSeconds"] as? Double ?? -1) >= 0, "\(id)")
        }
        func row(_ rows: [[String: Any]], _ id: String) -> [String: Any] { rows.first { $0["id"] as? String == id }! }
        // Distinct settings run once: repeats point at the row that measured them.
        #expect(row(firstRows, "points/k20")["repeatOf"] as? String == "sampling/diverse-k20")
        #expect(row(firstRows, "localizers/registry/dense")["repeatOf"] as? String == "sampling/dense")
        #expect(row(firstRows, "crf/dense")["repeatOf"] as? String == "sampling/dense")
        #expect(row(firstRows, "crf/dense+crf")["segmenterFrom"] as? String == "sampling/dense")
        #expect(row(firstRows, "crf/dense+rules")["segmenterFrom"] as? String == "sampling/dense")
        #expect(row(firstRows, "crf/dense+rules")["repeatOf"] == nil, "the rules are a setting of their own")
        #expect((row(firstRows, "points/k1")["variant"] as? [String: Any])?["paperMIoU"] as? Double == 35.1)
        // The first run samples every image (fresh stores); the registries stay as they were.
        let trained = firstRows.filter { $0["samples"] != nil && $0["repeatOf"] == nil }
        #expect(trained.count == 4)
        for row in trained {
            let samples = row["samples"] as! [String: Int]
            #expect(samples["imagesResampled"]! > 0 && samples["imagesReused"] == 0, "\(row["id"]!): \(samples)")
        }
        #expect(try [RegistryCLIFixture.snapshot(main), RegistryCLIFixture.snapshot(small)] == before,
                "no segmenter.h5 or other registry file may be written")
        #expect(FileManager.default.fileExists(atPath: main + "/.samples"))
        let markdown = try String(contentsOfFile: out + "/experiments.md", encoding: .utf8)
        #expect(markdown.contains("## Table 3 — localizers") && markdown.contains("## Dense CRF"))

        // Second run: every pick comes from the stores, and the figures are the same.
        let second = try CLIRunner.run(arguments)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("0 re-sampled"))
        let secondRows = try rows(out)
        for row in secondRows where row["samples"] != nil {
            let samples = row["samples"] as! [String: Int]
            #expect(samples["imagesResampled"] == 0 && samples["picksReused"]! > 0 && samples["picksRecomputed"] == 0,
                    "\(row["id"]!): \(samples)")
        }
        for (a, b) in zip(firstRows, secondRows) {
            #expect(a["mIoU"] as? Double == b["mIoU"] as? Double, "\(a["id"]!)")
        }
    }

    @Test("experiment refuses a --compare-registry without NAME=DIR and unknown tables")
    func badArguments() throws {
        let dataset = "coco:" + SharedData.cocoMini
        let noName = try CLIRunner.run(["experiment", "--dataset", dataset, "--compare-registry", "/tmp/x"])
        #expect(noName.status != 0)
        #expect(noName.stderr.contains("NAME=DIR"))
        let table = try CLIRunner.run(["experiment", "--dataset", dataset, "--tables", "sampling,table9"])
        #expect(table.status != 0)
        #expect(table.stderr.contains("table9"))
    }

    private func rows(_ out: String) throws -> [[String: Any]] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/experiments.json"))) as! [String: Any]
        return (json["rows"] as! [[String: Any]]).map { row in
            var flat = row
            let variant = row["variant"] as! [String: Any]
            flat["id"] = variant["id"]
            return flat
        }
    }
}
