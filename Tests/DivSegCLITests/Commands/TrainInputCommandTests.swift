import Foundation
import DivSegTestSupport
import Testing

/// Issue #10, messages: what `train` says about tag CSVs too small to train on — each
/// names the file or the class and the fix, instead of "negativesPerPositive is 0.0".
@Suite("divseg-registry train: too few images")
struct TrainInputCommandTests {
    static let images = SharedData.root + "/data/coco-mini/images/"

    static func train(csv: String, in dir: URL) throws -> CLIRunner.Result {
        let path = dir.path + "/tags.csv"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        return try CLIRunner.run(["train", "giraffe", "--dataset", "tags:" + path, "--out", dir.path + "/bundle",
                                  "--cache", RegistryCLIFixture.cache])
    }

    @Test("a tags CSV with a header and no rows is refused as such, with the file named")
    func headerOnly() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.train(csv: "path,tags\n", in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains(dir.path + "/tags.csv") && result.stderr.contains("header line but no rows"),
                "\(result.stderr)")
        #expect(!result.stderr.contains("negativesPerPositive"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/bundle"))
    }

    @Test("a CSV where every image has the class says there are no negatives")
    func noNegatives() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.train(csv: "path,tags\n\(Self.images)000000000025.jpg,giraffe\n", in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains("giraffe") && result.stderr.contains("no negatives"), "\(result.stderr)")
        #expect(!result.stderr.contains("negativesPerPositive"), "\(result.stderr)")
    }

    @Test("training on 1 positive and 1 negative warns that the accuracy means nothing")
    func onePositiveOneNegative() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = "path,tags\n\(Self.images)000000000025.jpg,giraffe\n\(Self.images)000000000034.jpg,zebra\n"
        let result = try Self.train(csv: csv, in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("warning:") && result.stderr.contains("1 positives, 1 negatives")
                && result.stderr.contains("say nothing about new images"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.path + "/bundle/manifest.json"))
    }

    /// Issue #10: COCO categories with spaces ("traffic light") could not be trained ("a
    /// space is not allowed"), a refusal the user could not fix. Real coco-mini rows with their
    /// real tags: the class is `traffic_light`, the manifest keeps COCO's spelling, and the
    /// registry finds the bundle under either spelling.
    @Test("train 'traffic light' on coco-mini rows writes the bundle traffic_light, found by both spellings")
    func multiWordCOCOClass() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try String(contentsOfFile: SharedData.cocoMini + "/tags.csv", encoding: .utf8)
        let lines: [Substring] = text.split(whereSeparator: { $0.isNewline })   // CRLF lines
        let rows: [[String]] = lines.dropFirst().map { line in
            line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }.filter { $0.count >= 3 && $0[2] == "train2017" }
        let lights = rows.filter { $0[1].split(separator: ";").contains("traffic light") }.prefix(2)
        let others = rows.filter { !$0[1].contains("traffic") }.prefix(2)
        try #require(lights.count == 2, "coco-mini's train split has images tagged 'traffic light'")
        let csv = "path,tags\n" + (lights + others).map { "\(Self.images)\($0[0]),\($0[1])" }.joined(separator: "\n") + "\n"
        try csv.write(toFile: dir.path + "/tags.csv", atomically: true, encoding: .utf8)
        let result = try CLIRunner.run(["train", "traffic light", "--dataset", "tags:" + dir.path + "/tags.csv",
                                        "--out", dir.path + "/bundle", "--localizer", "mlp", "--hidden", "8",
                                        "--cache", RegistryCLIFixture.cache])
        #expect(result.status == 0, "\(result.stderr)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/bundle/manifest.json"))) as? [String: Any]
        #expect(manifest?["name"] as? String == "traffic_light")
        #expect(manifest?["displayName"] as? String == "Traffic light")
        #expect(manifest?["aliases"] as? [String] == ["traffic light"])
        let training = manifest?["training"] as? [String: Any]
        #expect(training?["positives"] as? Int == 2, "both traffic-light images are positives: \(training ?? [:])")

        let registry = dir.path + "/classes"
        let add = try RegistryCLIFixture.run(["add", dir.path + "/bundle", "--no-retrain"], registry: registry)
        #expect(add.status == 0, "\(add.stderr)")
        for spelling in ["traffic light", "traffic_light", "Traffic Light"] {
            let show = try RegistryCLIFixture.run(["show", spelling], registry: registry)
            #expect(show.status == 0 && show.stdout.contains("traffic_light"), "show \(spelling): \(show.stderr)")
        }
    }
}
