import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

/// list / show / add / remove / verify / retrain through the command line, on bundles
/// trained from real COCO images.
@Suite("divseg-registry list, show, add, remove, verify, retrain")
struct RegistryCommandTests {
    @Test("a registry grows and shrinks with add and remove; ids are stable; stale segmenters are reported")
    func lifecycle() throws {
        let bundles = try RegistryCLIFixture.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        typealias F = RegistryCLIFixture

        var start = Date()
        let add = try F.run(["add", bundles.path("giraffe")], registry: registry)
        let addSeconds = Date().timeIntervalSince(start)
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout.contains("added giraffe (label 1)"))
        #expect(add.stdout.contains("samples: 0 images reused (0 picks)"), "\(add.stdout)")

        var listing = try F.listing(registry)
        #expect(listing.classes == ["giraffe": 1] && listing.segmenter == "current")
        let json = try JSONSerialization.jsonObject(with: Data(try F.run(["list", "--json"], registry: registry).stdout.utf8)) as! [String: Any]
        let row = (json["classes"] as! [[String: Any]])[0]
        #expect(row["positives"] as? Int == 3 && row["status"] as? String == "ok")
        #expect((row["source"] as? String)?.hasPrefix("tags:") == true && row["created"] is String)
        let table = try F.run(["list"], registry: registry)
        #expect(table.stdout.contains("giraffe") && table.stdout.contains("segmenter: current"))
        let show = try F.run(["show", "giraffe"], registry: registry)
        #expect(show.status == 0 && show.stdout.contains("label id:     1") && show.stdout.contains("corpus 6 images"), "\(show.stdout)")

        // Without retraining, the segmenter is stale and every user of it says so.
        let noRetrain = try F.run(["add", bundles.path("elephant"), "--no-retrain"], registry: registry)
        #expect(noRetrain.status == 0 && noRetrain.stdout.contains("stale"), "\(noRetrain.stdout)\(noRetrain.stderr)")
        let segment = try CLIRunner.run(["segment", SharedData.cocoMiniImage("000000000025"),
                                         "--registry", registry, "--out", dir.path + "/seg"])
        #expect(segment.status != 0 && segment.stderr.contains("retrain") && segment.stderr.contains("--allow-stale"))
        // …unless asked: the stale segmenter labels the classes it knows, with a warning.
        let staleSegment = try CLIRunner.run(["segment", SharedData.cocoMiniImage("000000000025"), "--allow-stale",
                                              "--registry", registry, "--out", dir.path + "/seg"])
        #expect(staleSegment.status == 0 && staleSegment.stderr.contains("never labels elephant"),
                "\(staleSegment.stdout)\(staleSegment.stderr)")
        let staleLabels = try ImageDecoder.decodeLabels(contentsOf: dir.path + "/seg/000000000025.png")
        #expect(staleLabels.labels.contains(1) && Set(staleLabels.labels).isSubset(of: [0, 1]))
        #expect(try F.run(["list"], registry: registry).stdout.contains("--allow-stale"))
        let stale = try F.run(["verify"], registry: registry)
        #expect(stale.status == 1 && stale.stdout.contains("stale"))
        let retrain = try F.run(["retrain"], registry: registry)
        #expect(retrain.status == 0 && retrain.stdout.contains("images reused"), "\(retrain.stderr)")

        start = Date()
        let person = try F.run(["add", bundles.path("person")], registry: registry)
        let addPersonSeconds = Date().timeIntervalSince(start)
        #expect(person.status == 0 && person.stdout.contains("added person (label 15)"))
        start = Date()
        let remove = try F.run(["remove", "elephant"], registry: registry)
        let removeSeconds = Date().timeIntervalSince(start)
        #expect(remove.status == 0 && remove.stdout.contains("removed elephant (label 2 stays reserved)"), "\(remove.stderr)")
        #expect(remove.stdout.contains("images reused"))
        listing = try F.listing(registry)
        #expect(listing.classes == ["giraffe": 1, "person": 15] && listing.segmenter == "current")

        let again = try F.run(["add", bundles.path("elephant")], registry: registry)
        #expect(again.status == 0 && again.stdout.contains("added elephant (label 2)"), "\(again.stderr)")
        let verify = try F.run(["verify"], registry: registry)
        #expect(verify.status == 0 && verify.stdout.contains("verify: ok"), "\(verify.stdout)")

        let duplicate = try F.run(["add", bundles.path("giraffe")], registry: registry)
        #expect(duplicate.status != 0 && duplicate.stderr.contains("already used by the bundle"), "\(duplicate.stderr)")
        let unknown = try F.run(["remove", "unicorn"], registry: registry)
        #expect(unknown.status != 0 && unknown.stderr.contains("No class 'unicorn'") && unknown.stderr.contains("giraffe"))
        // DIVSEG_REGISTRY names the registry too.
        let env = try CLIRunner.run(["list"], environment: ["DIVSEG_REGISTRY": registry])
        #expect(env.status == 0 && env.stdout.contains("elephant"))
        print(String(format: "registry timings: add giraffe (first class) %.1f s, add person %.1f s, remove elephant %.1f s",
                     addSeconds, addPersonSeconds, removeSeconds))
    }

    @Test("bad bundles are refused with a clear message and the registry is unchanged")
    func refusals() throws {
        let bundles = try RegistryCLIFixture.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        typealias F = RegistryCLIFixture
        #expect(try F.run(["add", bundles.path("giraffe")], registry: registry).status == 0)
        let before = try F.snapshot(registry)

        func refused(_ what: String, message: String, _ damage: (String) throws -> Void) throws {
            let copy = dir.path + "/candidate"
            try? FileManager.default.removeItem(atPath: copy)
            try F.copy(bundles.path("elephant"), to: copy)
            try damage(copy)
            let result = try F.run(["add", copy], registry: registry)
            #expect(result.status != 0, "\(what) was accepted")
            #expect(result.stderr.contains(message), "\(what): \(result.stderr)")
            #expect(try F.snapshot(registry) == before, "\(what) changed the registry")
        }
        func truncate(_ path: String) throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        }
        try refused("truncated localizer.h5", message: "does not match its manifest") { try truncate($0 + "/localizer.h5") }
        try refused("wrong hash", message: "does not match its manifest") { bundle in
            try F.editManifest(bundle) { var l = $0["localizer"] as! [String: Any]; l["sha256"] = String(repeating: "1", count: 64); $0["localizer"] = l }
        }
        try refused("unknown schema version", message: "schema version 9") { try F.editManifest($0) { $0["schemaVersion"] = 9 } }
        try refused("../../x", message: "outside the bundle directory") { bundle in
            try F.editManifest(bundle) { var l = $0["localizer"] as! [String: Any]; l["file"] = "../../x"; $0["localizer"] = l }
        }
        try refused("absolute path", message: "outside the bundle directory") { bundle in
            try F.editManifest(bundle) { var l = $0["localizer"] as! [String: Any]; l["file"] = "/etc/hostname"; $0["localizer"] = l }
        }
        try refused("another backbone", message: "trained on another feature extractor") { bundle in
            try F.editManifest(bundle) { var b = $0["backbone"] as! [String: Any]; b["weightsSHA256"] = String(repeating: "e", count: 64); $0["backbone"] = b }
        }
        try refused("an alias that is taken", message: "already used by the bundle") { try F.editManifest($0) { $0["aliases"] = ["giraffe"] } }
        #expect(try F.run(["verify"], registry: registry).status == 0)
    }

    @Test("a read-only registry folder is refused clearly on every change, and still serves reads")
    func readOnly() throws {
        let bundles = try RegistryCLIFixture.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        typealias F = RegistryCLIFixture
        #expect(try F.run(["add", bundles.path("giraffe"), "--no-retrain"], registry: registry).status == 0)
        let before = try F.snapshot(registry)
        let executable = CLIRunner.executable.path
        let weights = SharedData.weights

        // Root ignores permission bits, so the folder is made read-only for real: a read-only
        // bind mount in a private mount namespace; failing that (no privileges), an
        // unprivileged user (as root) or the permission bits (as a normal user).
        func readOnlyRun(_ arguments: [String]) throws -> CLIRunner.Result {
            let command = ([executable] + arguments + ["--registry", registry, "--weights", weights])
                .map { "'\($0)'" }.joined(separator: " ")
            let probe = try CLIRunner.shell("unshare -m sh -c \"mount --bind -o ro '\(registry)' '\(registry)' && touch '\(registry)/probe'\"")
            if probe.stderr.contains("Read-only file system") {
                return try CLIRunner.shell("unshare -m sh -c \"mount --bind -o ro '\(registry)' '\(registry)' && exec \(command.replacingOccurrences(of: "\"", with: "\\\""))\"")
            }
            if getuid() == 0 {
                // nobody may enter the folders on the way but not write the registry.
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
                return try CLIRunner.shell("setpriv --reuid=65534 --regid=65534 --clear-groups \(command)")
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: registry)
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: registry) }
            return try CLIRunner.shell(command)
        }
        for arguments in [["add", bundles.path("elephant"), "--no-retrain"], ["remove", "giraffe", "--no-retrain"]] {
            let result = try readOnlyRun(arguments)
            #expect(result.status != 0, "\(arguments[0]) succeeded on a read-only registry")
            #expect(result.stderr.contains("cannot be changed"), "\(arguments[0]): \(result.stderr)")
            #expect(try F.snapshot(registry) == before)
        }
        let list = try readOnlyRun(["list"])
        #expect(list.status == 0 && list.stdout.contains("giraffe"), "\(list.stderr)")
    }
}
