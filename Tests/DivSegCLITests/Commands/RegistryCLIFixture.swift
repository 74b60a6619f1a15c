import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

/// Class bundles for the registry command tests, trained once per test process through the
/// CLI (`train … --hidden 8`) on 8 real coco-mini images with their real COCO tags, and
/// helpers to run registry commands and compare registry states.
enum RegistryCLIFixture {
    struct Bundles: Sendable {
        /// Folder with giraffe/, elephant/ and person/ (never changed by tests).
        let root: String
        func path(_ name: String) -> String { root + "/" + name }
    }

    /// A feature cache that persists between runs (the cache validates its entries).
    static let cache = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-registry-test-cache").path

    static let rows = [("000000000025", "giraffe"), ("000000000072", "giraffe"), ("000000000136", "giraffe;person"),
                       ("000000000061", "elephant;person"), ("000000000263", "elephant"), ("000000000034", "zebra"),
                       ("000000000009", "bowl;broccoli;orange"), ("000000000036", "person;umbrella")]

    static let bundles: Result<Bundles, any Error> = Result {
        let dir = try CLIRunner.temporaryDirectory()
        let images = SharedData.cocoMiniImages + "/"
        let csv = "path,tags\n" + rows.map { "\(images)\($0.0).jpg,\($0.1)" }.joined(separator: "\n") + "\n"
        try csv.write(toFile: dir.path + "/tags.csv", atomically: true, encoding: .utf8)
        for name in ["giraffe", "elephant", "person"] {
            let result = try CLIRunner.run(["train", name, "--dataset", "tags:" + dir.path + "/tags.csv",
                                            "--out", dir.path + "/bundles/" + name, "--localizer", "mlp", "--hidden", "8", "--cache", cache])
            guard result.status == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "train \(name) failed: \(result.stderr)"])
            }
        }
        return Bundles(root: dir.path + "/bundles")
    }

    /// The data root of the fixture bundles' corpora (their images' folder, `tags:images`).
    static var dataRoot: String { SharedData.cocoMiniImages }

    /// Runs a registry command on `registry`; commands that retrain get the test cache, 5
    /// points per class and (with `dataRoot`, unless the arguments give one) `--data-root`.
    static func run(_ arguments: [String], registry: String, environment: [String: String] = [:],
                    dataRoot: Bool = true) throws -> CLIRunner.Result {
        let retraining = ["add", "remove", "retrain"].contains(arguments.first ?? "")
            && !arguments.contains("--no-retrain")
        // The store inside each test's registry: the test cache is shared by every test and run.
        var extra = retraining ? ["--cache", cache] + (arguments.contains("--points") ? [] : ["--points", "5"])
            + (arguments.contains("--sample-store") ? [] : ["--sample-store", "inside"]) : []
        if retraining && dataRoot && !arguments.contains("--data-root") { extra += ["--data-root", Self.dataRoot] }
        return try CLIRunner.run(arguments + ["--registry", registry] + extra, environment: environment)
    }

    /// Runs a change in `RegistryCrashHarness` (built next to `divseg-registry`), which stops
    /// at a commit step: `crash:POINT` ends the process there like a crash, `fail:POINT`
    /// makes the step fail. Same cache, data root and own sample store as ``run(_:registry:environment:dataRoot:)``
    /// gives retraining commands.
    static func harness(_ stop: String, _ change: [String], registry: String, points: Int = 5) throws -> CLIRunner.Result {
        let harness = CLIRunner.executable.deletingLastPathComponent().appendingPathComponent("RegistryCrashHarness")
        return try CLIRunner.run(executable: harness, arguments: [stop, registry, cache, dataRoot, String(points)] + change)
    }

    /// Every non-hidden file below `directory` with its SHA-256 ("dir" for folders).
    static func snapshot(_ directory: String) throws -> [String: String] {
        var result: [String: String] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return result }
        while let relative = enumerator.nextObject() as? String {
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            let path = directory + "/" + relative
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            result[relative] = isDirectory.boolValue ? "dir" : try FileDigest.sha256(ofFileAt: path)
        }
        return result
    }

    /// name → label id in `labels.json` (retired classes included).
    static func ledger(_ directory: String) throws -> [String: Int] {
        let url = URL(fileURLWithPath: directory + "/labels.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return [:] }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var labels: [String: Int] = [:]
        for entry in json["entries"] as! [[String: Any]] { labels[entry["name"] as! String] = entry["label"] as? Int }
        return labels
    }

    /// The classes `list --json` reports, with their ids and the segmenter status.
    static func listing(_ registry: String) throws -> (classes: [String: Int], segmenter: String) {
        let list = try run(["list", "--json"], registry: registry)
        guard list.status == 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: list.stderr]) }
        let json = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [String: Any]
        var classes: [String: Int] = [:]
        for row in json["classes"] as! [[String: Any]] { classes[row["name"] as! String] = row["id"] as? Int }
        return (classes, json["segmenter"] as! String)
    }

    /// A copy of a folder, hidden entries included.
    static func copy(_ source: String, to destination: String) throws {
        try FileManager.default.copyItem(atPath: source, toPath: destination)
    }

    static func editManifest(_ bundle: String, _ edit: (inout [String: Any]) -> Void) throws {
        let url = URL(fileURLWithPath: bundle + "/manifest.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }
}
