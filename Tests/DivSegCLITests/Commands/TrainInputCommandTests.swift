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
}
