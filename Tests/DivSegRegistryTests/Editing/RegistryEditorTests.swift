import DivSeg
import DivSegIO
import DivSegRegistry
import Foundation
import Testing

@Suite("Registry editor")
struct RegistryEditorTests {
    /// A copy of a fixture bundle renamed to another class (valid: the name is not hashed).
    private func renamedBundle(_ source: String, to name: String, in dir: String, bundles: RegistryFixture.Bundles) throws -> String {
        let path = try RegistryFixture.copyOfBundle(source, from: bundles, into: dir)
        let renamed = (dir as NSString).appendingPathComponent(name)
        try FileManager.default.moveItem(atPath: path, toPath: renamed)
        try editManifest(renamed) { $0["name"] = name; $0["aliases"] = [String](); $0["preferredLabel"] = nil }
        return renamed
    }

    private func editManifest(_ bundle: String, _ edit: (inout [String: Any]) -> Void) throws {
        let url = URL(fileURLWithPath: bundle + "/manifest.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }

    @Test("add, remove and add again: label ids stay stable, the segmenter stays current, verify passes")
    func lifecycle() throws {
        let bundles = try RegistryFixture.bundles.get()
        let scratch = try RegistryFixture.temporaryDirectory("editor-src")
        let dir = try RegistryFixture.temporaryDirectory("editor") + "/classes"   // created by add
        defer { try? FileManager.default.removeItem(atPath: scratch); try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let editor = bundles.editor(dir)

        let giraffe = try editor.add(bundleAt: bundles.path("giraffe"))
        #expect(giraffe.change == .added("giraffe") && giraffe.label == 1)
        #expect(giraffe.registry.segmenterStatus == .current)
        #expect(giraffe.summary.contains("samples:"))
        try editor.add(bundleAt: bundles.path("elephant"), retrain: false)
        #expect(try Registry.open(dir, backbone: bundles.backbone).segmenterStatus == .stale)
        #expect(throws: RegistryError.staleSegmenter(dir)) { try Registry.open(dir, backbone: bundles.backbone).loadSegmenter() }
        #expect(try !editor.verify().isHealthy)
        let person = try editor.add(bundleAt: bundles.path("person"))
        #expect(person.registry.labels == ["giraffe": 1, "elephant": 2, "person": 15])
        #expect(try editor.verify().isHealthy)

        let removed = try editor.remove("elephant")
        #expect(removed.label == 2)
        #expect(removed.registry.labels == ["giraffe": 1, "person": 15])
        #expect(removed.registry.segmenterStatus == .current)
        let zebra = try editor.add(bundleAt: renamedBundle("giraffe", to: "zebra", in: scratch, bundles: bundles), retrain: false)
        #expect(zebra.label == 3, "elephant's id 2 is not handed to another class")
        let back = try editor.add(bundleAt: bundles.path("elephant"))
        #expect(back.label == 2, "a class added again gets its old id back")
        #expect(back.registry.labels == ["giraffe": 1, "elephant": 2, "zebra": 3, "person": 15])
        let report = try editor.verify()
        #expect(report.isHealthy, "\(report.summary)")
        #expect(report.checkedBundles == 4)

        // The added bundles are byte-for-byte copies.
        for name in ["giraffe", "elephant", "person"] {
            for file in ["manifest.json", "localizer.h5", "corpus.csv"] {
                #expect(try FileDigest.sha256(ofFileAt: "\(dir)/\(name)/\(file)") == FileDigest.sha256(ofFileAt: bundles.path(name) + "/" + file))
            }
        }
        // Removing every class removes the segmenter.
        for name in ["giraffe", "elephant", "zebra"] { try editor.remove(name, retrain: false) }
        let last = try editor.remove("person")
        #expect(last.removedSegmenter && last.registry.bundles.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir + "/segmenter.h5"))
        #expect(try editor.verify().isHealthy)
        #expect(try Set(LabelLedger.read(registry: dir).entries.map(\.label)) == [1, 2, 3, 15])
    }

    @Test("an exhaustive registry (background none) trains without background points and keeps the rule in labels.json")
    func exhaustiveBackground() throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("exhaustive") + "/classes"
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        var editor = bundles.editor(dir)
        #expect(editor.retrainer?.sampler.strategy == .dense)
        try editor.add(bundleAt: bundles.path("giraffe"), retrain: false)
        editor.background = DenseBackground.none
        let exhaustive = try #require(try editor.add(bundleAt: bundles.path("person")).retraining)
        #expect(exhaustive.sampler.denseBackground == DenseBackground.none)
        #expect(exhaustive.pointsPerLabel[0] == 0, "no background label is invented")
        #expect(exhaustive.pointsPerLabel.dropFirst().allSatisfy { $0 > 0 })
        #expect(try LabelLedger.read(registry: dir).background == DenseBackground.none)
        #expect(try String(contentsOfFile: dir + "/labels.json", encoding: .utf8).contains(#""background" : "none""#))
        // A later change that does not name a rule keeps the recorded one.
        editor.background = nil
        let kept = try #require(try editor.add(bundleAt: bundles.path("elephant")).retraining)
        #expect(kept.sampler.denseBackground == DenseBackground.none && kept.pointsPerLabel[0] == 0)
        #expect(try LabelLedger.read(registry: dir).background == DenseBackground.none)
        #expect(try editor.verify().isHealthy)
        // Naming the threshold rule goes back to background labels, and the record is dropped.
        editor.background = .threshold
        let back = try #require(try editor.retrain().retraining)
        #expect(back.pointsPerLabel[0] > 0)
        #expect(try LabelLedger.read(registry: dir).background == nil)
        #expect(try !String(contentsOfFile: dir + "/labels.json", encoding: .utf8).contains(#""background""#))
    }

    @Test("bad bundles are refused with a clear message, and the registry is left exactly as it was")
    func refusals() throws {
        let bundles = try RegistryFixture.bundles.get()
        let scratch = try RegistryFixture.temporaryDirectory("editor-src")
        let dir = try RegistryFixture.temporaryDirectory("editor")
        defer { try? FileManager.default.removeItem(atPath: scratch); try? FileManager.default.removeItem(atPath: dir) }
        let editor = bundles.editor(dir)
        try editor.add(bundleAt: bundles.path("giraffe"))
        let before = try RegistryFixture.snapshot(dir)

        func refused(_ name: String, _ damage: (String) throws -> Void, _ check: (any Error) -> Bool) throws {
            let copy = try RegistryFixture.copyOfBundle("elephant", from: bundles, into: scratch)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            try damage(copy)
            do {
                try editor.add(bundleAt: copy)
                Issue.record("\(name): accepted")
            } catch {
                #expect(check(error), "\(name): \(error)")
                #expect("\(error)".contains(copy) || "\(error)".contains("elephant") || "\(error)".contains("giraffe"), "\(name): \(error)")
            }
            #expect(try RegistryFixture.snapshot(dir) == before, "\(name) changed the registry")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".tmp-") }.isEmpty)
        }
        func truncate(_ path: String) throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        }
        try refused("truncated localizer", { try truncate($0 + "/localizer.h5") }) {
            if case BundleError.hashMismatch = $0 { true } else { false }
        }
        try refused("truncated localizer with a matching hash", { bundle in
            try truncate(bundle + "/localizer.h5")
            let digest = try FileDigest.sha256(ofFileAt: bundle + "/localizer.h5")
            try editManifest(bundle) { var l = $0["localizer"] as! [String: Any]; l["sha256"] = digest; $0["localizer"] = l }
        }) { if case BundleError.badLocalizer = $0 { true } else { false } }
        try refused("wrong hash", { bundle in
            try editManifest(bundle) { var l = $0["localizer"] as! [String: Any]; l["sha256"] = String(repeating: "0", count: 64); $0["localizer"] = l }
        }) { if case BundleError.hashMismatch = $0 { true } else { false } }
        try refused("unknown schema", { try editManifest($0) { $0["schemaVersion"] = 7 } }) {
            if case BundleError.unsupportedSchema(_, 7, _) = $0 { "\($0)".contains("Upgrade divseg") } else { false }
        }
        for path in ["../../x", "/etc/passwd"] {
            try refused("path \(path)", { bundle in
                try editManifest(bundle) { var l = $0["localizer"] as! [String: Any]; l["file"] = path; $0["localizer"] = l }
            }) { if case BundleError.unsafePath(_, path) = $0 { "\($0)".contains("outside the bundle") } else { false } }
        }
        try refused("another backbone", { bundle in
            try editManifest(bundle) { var b = $0["backbone"] as! [String: Any]; b["weightsSHA256"] = String(repeating: "f", count: 64); $0["backbone"] = b }
        }) { if case BundleError.incompatibleBackbone = $0 { "\($0)".contains("Retrain it") } else { false } }
        try refused("broken corpus", { try Data("nonsense\n".utf8).write(to: URL(fileURLWithPath: $0 + "/corpus.csv")) }) {
            if case BundleError.badCorpus = $0 { true } else { false }
        }
        try refused("duplicate name", { try editManifest($0) { $0["name"] = "giraffe" } }) {
            $0 as? RegistryError == .duplicateClass(name: "giraffe", existingBundle: dir + "/giraffe")
        }
        try refused("alias clash", { try editManifest($0) { $0["aliases"] = ["giraffe"] } }) {
            $0 as? RegistryError == .duplicateClass(name: "giraffe", existingBundle: dir + "/giraffe")
        }
        #expect(throws: BundleError.self) { try editor.add(bundleAt: scratch + "/does-not-exist") }
        #expect {
            try editor.remove("unicorn")
        } throws: { error in
            error as? RegistryError == .classNotFound(name: "unicorn", directory: dir, known: ["giraffe"])
        }
        #expect(try RegistryFixture.snapshot(dir) == before)
    }

    @Test("two editors changing one registry at the same time are serialised by the lock")
    func concurrentChanges() async throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("editor")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let editor = bundles.editor(dir)
        async let first = Task.detached { try editor.add(bundleAt: bundles.path("giraffe")) }.value
        async let second = Task.detached { try editor.add(bundleAt: bundles.path("elephant")) }.value
        let reports = try await [first, second]
        #expect(Set(reports.map(\.change)) == [.added("giraffe"), .added("elephant")])
        let registry = try Registry.open(dir, backbone: bundles.backbone)
        #expect(Set(registry.bundles.map(\.name)) == ["giraffe", "elephant"])
        #expect(registry.segmenterStatus == .current)
        #expect(try editor.verify().isHealthy)
    }

    @Test("leftovers of an interrupted change are the old state, reported by verify and removed by the next change")
    func leftovers() throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("editor")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let editor = bundles.editor(dir)
        try editor.add(bundleAt: bundles.path("giraffe"))
        // What a process killed while staging an add leaves behind.
        try FileManager.default.copyItem(atPath: bundles.path("elephant"), toPath: dir + "/.tmp-999-abc")
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/labels.json.tmp-999-abc"))
        let registry = try Registry.open(dir, backbone: bundles.backbone)
        #expect(registry.bundles.map(\.name) == ["giraffe"] && registry.problems.isEmpty)
        let report = try editor.verify()
        #expect(report.isHealthy)
        #expect(report.notes.contains { $0.contains("2 leftover") })
        try editor.retrain()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == [".commit-lock", ".lock", ".samples", "giraffe", "labels.json", "segmenter.h5"])
    }
}
