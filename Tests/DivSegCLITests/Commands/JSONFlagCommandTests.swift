import DivSegTestSupport
import Foundation
import Testing

/// `--json` means the same everywhere: a flag that prints one JSON document on standard
/// output and nothing else there. Checked on every command that reports something.
@Suite("divseg-registry --json on every reporting command")
struct JSONFlagCommandTests {
    static func parse(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    @Test("every command that reports something offers --json as a flag")
    func helpOffersJSON() throws {
        for command in ["list", "show", "add", "remove", "verify", "train", "retrain", "segment", "localize",
                        "evaluate", "baseline-cam", "diagnose", "experiment", "doctor", "features", "gc",
                        "config data-root", "config sample-store"] {
            let help = try CLIRunner.run(command.split(separator: " ").map(String.init) + ["--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("--json "), "\(command) --help: \(help.stdout)")
            #expect(!help.stdout.contains("--json <"), "\(command): --json takes no value")
        }
    }

    @Test("features and config print JSON that agrees with what they did")
    func featuresAndConfig() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = SharedData.cocoMiniImage("000000000025")
        let cache = dir.path + "/cache"
        let first = try CLIRunner.run(["features", image, "--cache", cache, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let filled = try Self.parse(first.stdout) as! [String: Any]
        #expect(filled["images"] as? Int == 1 && filled["computed"] as? Int == 1 && filled["alreadyThere"] as? Int == 0)
        #expect(filled["cache"] as? String == cache && filled["entries"] as? String == "states")
        let again = try Self.parse(try CLIRunner.run(["features", image, "--cache", cache, "--json"]).stdout) as! [String: Any]
        #expect(again["computed"] as? Int == 0 && again["alreadyThere"] as? Int == 1)
        let out = dir.path + "/one.h5"
        let file = try CLIRunner.run(["features", image, "--out", out, "--json"])
        #expect(file.status == 0, "\(file.stderr)")
        let written = try Self.parse(file.stdout) as! [String: Any]
        #expect((written["files"] as? [[String: String]]) == [["image": image, "out": out]])
        #expect(FileManager.default.fileExists(atPath: out))

        let registry = dir.path + "/classes"
        try FileManager.default.createDirectory(atPath: registry, withIntermediateDirectories: true)
        let none = try Self.parse(try CLIRunner.run(["config", "data-root", "--registry", registry, "--json"]).stdout) as! [String: Any]
        #expect(none["registry"] as? String == registry && none["dataRoot"] is NSNull)
        #expect(try CLIRunner.run(["config", "data-root", SharedData.cocoMini, "--registry", registry]).status == 0)
        let set = try Self.parse(try CLIRunner.run(["config", "data-root", "--registry", registry, "--json"]).stdout) as! [String: Any]
        // The recorded root is absolute with symbolic links resolved (a checkout may reach the
        // shared data through a link, as CI's does).
        let resolved = { (path: String) in URL(fileURLWithPath: path).resolvingSymlinksInPath().path }
        #expect((set["dataRoot"] as? String).map(resolved) == resolved(SharedData.cocoMini), "\(set)")
        let store = try Self.parse(try CLIRunner.run(["config", "sample-store", "--registry", registry, "--cache", cache, "--json"]).stdout)
            as! [String: Any]
        #expect(store["setting"] as? String == "default" && (store["sampleStore"] as? String)?.hasPrefix(cache) == true, "\(store)")
    }

    @Test("list, show and verify print JSON that agrees with the registry")
    func registryReports() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        try FileManager.default.copyItem(atPath: SegmentOutputCommandTests.repository + "/classes", toPath: registry)
        let list = try Self.parse(try CLIRunner.run(["list", "--json", "--registry", registry]).stdout) as! [String: Any]
        let giraffeID = (list["classes"] as! [[String: Any]]).first { $0["name"] as? String == "giraffe" }?["id"] as? Int
        #expect(giraffeID != nil)
        let show = try CLIRunner.run(["show", "giraffe", "--json", "--registry", registry])
        #expect(show.status == 0, "\(show.stderr)")
        let shown = try Self.parse(show.stdout) as! [String: Any]
        #expect(shown["label"] as? Int == giraffeID)
        #expect((shown["manifest"] as? [String: Any])?["name"] as? String == "giraffe")
        #expect((shown["corpusImages"] as? Int ?? 0) > 0)
        let verify = try CLIRunner.run(["verify", "--json", "--registry", registry])
        #expect(verify.status == 0, "\(verify.stderr)")
        let verified = try Self.parse(verify.stdout) as! [String: Any]
        #expect(verified["healthy"] as? Bool == true)
        #expect(verified["checkedBundles"] as? Int == (list["classes"] as! [Any]).count)
        let doctor = try CLIRunner.run(["doctor", "--json"])
        #expect(doctor.status == 0 && (try? Self.parse(doctor.stdout)) != nil)
    }

    @Test("train, add and remove print JSON; baseline-cam's old `--json PATH` is refused with the new spelling")
    func changes() throws {
        let bundles = try RegistryCLIFixture.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        let add = try RegistryCLIFixture.run(["add", bundles.path("giraffe"), "--no-retrain", "--json"], registry: registry)
        #expect(add.status == 0, "\(add.stderr)")
        let added = try Self.parse(add.stdout) as! [String: Any]
        #expect(added["change"] as? String == "added" && added["className"] as? String == "giraffe")
        #expect(added["classes"] as? [String] == ["giraffe"] && added["label"] is Int)
        let remove = try RegistryCLIFixture.run(["remove", "giraffe", "--no-retrain", "--json"], registry: registry)
        #expect(remove.status == 0, "\(remove.stderr)")
        #expect((try Self.parse(remove.stdout) as! [String: Any])["change"] as? String == "removed")

        let images = SharedData.cocoMiniImages + "/"
        let csv = "path,tags\n\(images)000000000025.jpg,giraffe\n\(images)000000000034.jpg,zebra\n\(images)000000000036.jpg,person\n"
        try csv.write(toFile: dir.path + "/tags.csv", atomically: true, encoding: .utf8)
        let train = try CLIRunner.run(["train", "giraffe", "--dataset", "tags:" + dir.path + "/tags.csv", "--out", dir.path + "/g",
                                       "--localizer", "mlp", "--hidden", "8", "--cache", RegistryCLIFixture.cache, "--json"])
        #expect(train.status == 0, "\(train.stderr)")
        let trained = try Self.parse(train.stdout) as! [String: Any]
        #expect(trained["bundle"] as? String == dir.path + "/g")
        #expect(((trained["manifest"] as? [String: Any])?["training"] as? [String: Any])?["positives"] as? Int == 1)

        let old = try CLIRunner.run(["baseline-cam", "--dataset", "coco:" + SharedData.cocoMini, "--json", dir.path + "/b.json"])
        #expect(old.status != 0)
        #expect(old.stderr.contains("--json-out " + dir.path + "/b.json"), "\(old.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/b.json"))
    }
}
