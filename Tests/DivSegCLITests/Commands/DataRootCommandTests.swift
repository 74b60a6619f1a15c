import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

/// Where retraining finds corpus images: a registry copied to another path (its bundles
/// record no machine path) retrains with its data root given by `--data-root`,
/// `DIVSEG_DATA_ROOT` or the registry setting; without one it stops with one message that
/// says where it looked and how to point divseg at the data; with its sample store it needs
/// no images at all; a tampered image is refused by name.
@Suite("divseg-registry data roots")
struct DataRootCommandTests {
    typealias F = RegistryCLIFixture

    /// A registry with giraffe and elephant built in `dir/built`, then copied to
    /// `dir/elsewhere/registry` without its sample store, so every image needs its file.
    private func movedRegistry(in dir: URL) throws -> String {
        let bundles = try F.bundles.get()
        let built = dir.path + "/built"
        for name in ["giraffe", "elephant"] {
            let add = try F.run(["add", bundles.path(name)], registry: built)
            guard add.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: add.stderr]) }
        }
        let moved = dir.path + "/elsewhere/registry"
        try FileManager.default.createDirectory(atPath: dir.path + "/elsewhere", withIntermediateDirectories: true)
        try F.copy(built, to: moved)
        try FileManager.default.removeItem(atPath: moved + "/.samples")
        return moved
    }

    /// No data root from the test's own environment, whatever the caller has set.
    private let clean = ["DIVSEG_DATA_ROOT": ""]

    @Test("a moved registry retrains with its data root from --data-root, DIVSEG_DATA_ROOT or the registry setting")
    func mechanisms() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = try movedRegistry(in: dir)
        let manifests = try FileManager.default.contentsOfDirectory(atPath: registry)
            .filter { FileManager.default.fileExists(atPath: registry + "/" + $0 + "/manifest.json") }
        for name in manifests {
            let text = try String(contentsOfFile: registry + "/" + name + "/manifest.json", encoding: .utf8)
            #expect(!text.contains(SharedData.root) && !text.contains("dataRoot"), "\(name): \(text)")
        }
        func retrained(_ result: CLIRunner.Result, _ how: String) {
            #expect(result.status == 0, "\(how): \(result.stderr)")
            #expect(result.stdout.contains("re-sampled"), "\(how): \(result.stdout)")
            try? FileManager.default.removeItem(atPath: registry + "/.samples")
        }
        retrained(try F.run(["retrain", "--data-root", F.dataRoot], registry: registry, environment: clean), "--data-root")
        retrained(try F.run(["retrain"], registry: registry, environment: ["DIVSEG_DATA_ROOT": "/nonexistent:" + F.dataRoot],
                            dataRoot: false), "DIVSEG_DATA_ROOT")

        let config = try F.run(["config", "data-root", F.dataRoot], registry: registry)
        #expect(config.status == 0, "\(config.stderr)")
        let settings = try String(contentsOfFile: registry + "/settings.json", encoding: .utf8)
        // The setting records the folder's real path: the shared folder may be reached
        // through a symlink.
        let real = URL(fileURLWithPath: F.dataRoot).resolvingSymlinksInPath().path
        #expect(settings.contains(F.dataRoot) || settings.contains(real), "\(settings)")
        let shown = try F.run(["config", "data-root"], registry: registry).stdout
        #expect(shown.contains(F.dataRoot) || shown.contains(real), "\(shown)")
        retrained(try F.run(["retrain"], registry: registry, environment: clean, dataRoot: false), "config data-root")
        #expect(try F.run(["config", "data-root", "--unset"], registry: registry).status == 0)
        #expect(!FileManager.default.fileExists(atPath: registry + "/settings.json"))

        // --remember records the flag's root for the next command.
        retrained(try F.run(["retrain", "--data-root", F.dataRoot, "--remember"], registry: registry, environment: clean), "--remember")
        retrained(try F.run(["retrain"], registry: registry, environment: clean, dataRoot: false), "remembered")
        #expect(try F.run(["verify"], registry: registry).status == 0)
    }

    @Test("without a data root: one message naming the roots searched and --data-root; with the sample store no image is needed")
    func missingRoot() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = try movedRegistry(in: dir)
        let before = try F.snapshot(registry)
        let wrong = dir.path + "/not-the-data"
        try FileManager.default.createDirectory(atPath: wrong, withIntermediateDirectories: true)
        let failed = try F.run(["retrain", "--data-root", wrong], registry: registry, environment: clean)
        #expect(failed.status != 0)
        let message = failed.stderr
        #expect(message.contains("is in none of the data roots searched"), "\(message)")
        #expect(message.contains("'\(wrong)' (--data-root)"), "\(message)")
        #expect(message.contains("--data-root DIR") && message.contains("DIVSEG_DATA_ROOT=DIR")
                && message.contains("config data-root DIR --registry \(registry)"), "\(message)")
        #expect(message.contains("more of the") && message.contains("images that need their file"), "\(message)")
        // One message, not one per image and not a message quoting itself.
        #expect(message.components(separatedBy: "is in none of the data roots").count == 2, "\(message)")
        #expect(message.components(separatedBy: "Check that it exists").count == 1, "\(message)")
        #expect(try F.snapshot(registry) == before)

        // With the sample store filled once, retraining opens no image file at all.
        #expect(try F.run(["retrain", "--data-root", F.dataRoot], registry: registry, environment: clean).status == 0)
        let offline = try F.run(["retrain", "--data-root", wrong], registry: registry, environment: clean)
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stdout.contains("0 re-sampled"), "\(offline.stdout)")
    }

    @Test("an image whose content differs from its recorded SHA-256 is refused, naming the file and both hashes")
    func tamperedImage() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = try movedRegistry(in: dir)
        let copy = dir.path + "/copy-of-images"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for (id, _) in F.rows {
            try FileManager.default.copyItem(atPath: "\(F.dataRoot)/\(id).jpg", toPath: "\(copy)/\(id).jpg")
        }
        let victim = "\(copy)/000000000025.jpg"
        let expected = try FileDigest.sha256(ofFileAt: victim)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        bytes[bytes.count / 2] ^= 0x5A
        try bytes.write(to: URL(fileURLWithPath: victim))
        let actual = try FileDigest.sha256(ofFileAt: victim)
        let failed = try F.run(["retrain", "--data-root", copy], registry: registry, environment: clean)
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("'\(victim)'") && failed.stderr.contains(expected) && failed.stderr.contains(actual),
                "\(failed.stderr)")
    }
}
