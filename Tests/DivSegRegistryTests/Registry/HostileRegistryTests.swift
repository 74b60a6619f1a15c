import DivSeg
import DivSegIO
@_spi(Testing) import DivSegRegistry
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import DivSegDatasets
#endif

/// Hostile bundles and tampered registries (issue #10, registry part): real registries built
/// from the fixture bundles in a temp folder, then damaged on purpose. Nothing may be
/// written or removed outside the registry, nothing may trap, and every error names the file
/// and the problem.
@Suite("Hostile registries")
struct HostileRegistryTests {
    typealias F = RegistryFixture

    /// A scratch folder holding `classes/` (a registry with giraffe, no segmenter) and an
    /// `outside/` folder with a file that must survive everything.
    private func scratchRegistry(_ label: String, bundles: F.Bundles, retrain: Bool = false) throws -> (root: String, registry: String, outside: String) {
        let root = try F.temporaryDirectory(label)
        let registry = root + "/classes"
        try bundles.editor(registry).add(bundleAt: bundles.path("giraffe"), retrain: retrain)
        let outside = root + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: URL(fileURLWithPath: outside + "/important.txt"))
        return (root, registry, outside)
    }

    private func editManifest(_ bundle: String, _ edit: (inout [String: Any]) -> Void) throws {
        let url = URL(fileURLWithPath: bundle + "/manifest.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }

    private func contents(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    // MARK: 4, 7 — class names

    @Test("the class-name rule accepts plain names and refuses paths, registry files, hidden and reserved names")
    func classNameRule() {
        for good in ["giraffe", "teddy_bear", "x", "a-b-9"] { #expect(ClassNameRule.problem(name: good) == nil, "\(good)") }
        for bad in ["../../escape_by_name", "../evil", ".transaction.json", "segmenter.h5", "labels.json", ".hidden",
                    "x.tmp-1", "x.old-1", "background", "ignore", "", "Giraffe", "9lives", "a/b", "a b",
                    String(repeating: "a", count: 65), "gir\u{0}affe", "café"] {
            #expect(ClassNameRule.problem(name: bad) != nil, "\(bad) must be refused")
        }
        #expect(ClassNameRule.problem(alias: "dining table") == nil)
        for bad in ["../x", "background", "a  b", " a", "a ", "x.h5"] { #expect(ClassNameRule.problem(alias: bad) != nil, "\(bad)") }
    }

    @Test("a bundle named like a path, a registry file or a reserved name is refused before anything is written",
          arguments: ["../../escape_by_name", "../evil", ".transaction.json", "segmenter.h5", "labels.json", ".hidden",
                      "x.tmp-1", "x.old-1", "background"])
    func hostileNames(name: String) throws {
        let bundles = try F.bundles.get()
        let (root, registry, _) = try scratchRegistry("names", bundles: bundles)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let source = try F.copyOfBundle("elephant", from: bundles, into: root + "/src")
        try editManifest(source) { $0["name"] = name }
        let before = try F.snapshot(registry)
        let rootBefore = contents(root)
        #expect {
            try bundles.editor(registry).add(bundleAt: source, retrain: false)
        } throws: { error in
            guard case BundleError.badManifest(_, let detail) = error else { return false }
            return detail.contains("class name '\(name)' is not allowed") && detail.contains("a–z")
        }
        #expect(try F.snapshot(registry) == before)
        #expect(contents(root) == rootBefore, "nothing written beside the registry")
        #expect(!FileManager.default.fileExists(atPath: (root as NSString).deletingLastPathComponent + "/escape_by_name"))
        #expect(contents(registry).filter { !$0.hasPrefix(".") }.sorted() == ["giraffe", "labels.json"])
        #expect(try Registry.open(registry, backbone: bundles.backbone).labels == ["giraffe": 1])
    }

    @Test("aliases follow the rule too: a reserved or path-like alias is refused")
    func hostileAliases() throws {
        let bundles = try F.bundles.get()
        let (root, registry, _) = try scratchRegistry("aliases", bundles: bundles)
        defer { try? FileManager.default.removeItem(atPath: root) }
        for alias in ["background", "../x"] {
            let source = try F.copyOfBundle("elephant", from: bundles, into: root + "/src-\(alias.count)")
            try editManifest(source) { $0["aliases"] = [alias] }
            #expect {
                try bundles.editor(registry).add(bundleAt: source, retrain: false)
            } throws: { error in
                "\(error)".contains("the alias '\(alias)' is not allowed")
            }
        }
        #expect(try Registry.open(registry, backbone: bundles.backbone).labels == ["giraffe": 1])
    }

    @Test("train refuses a class name outside the rule (e.g. background) before training")
    func trainRefusesBadName() throws {
        let bundles = try F.bundles.get()
        let csv = ((bundles.root as NSString).deletingLastPathComponent as NSString).appendingPathComponent("tags.csv")
        let dataset = try Dataset.open(spec: "tags:" + csv)
        let out = try F.temporaryDirectory("train-name")
        defer { try? FileManager.default.removeItem(atPath: out) }
        for name in ["background", "../evil"] {
            #expect {
                _ = try BundleTrainer().train(className: name, dataset: dataset, spec: "tags:" + csv, extractor: bundles.extractor,
                                              cache: bundles.cache, backbone: bundles.backbone, to: out + "/b")
            } throws: { error in
                guard case RegistryError.invalidClassName(let n, _) = error else { return false }
                return n == name && "\(error)".contains("cannot be a class name")
            }
        }
        #expect(contents(out).isEmpty)
    }

    /// Case 7: an image tagged "background" in a bundle's corpus (a CSV tagging it) made
    /// the retrain trap on a duplicate "background" key. Only registered classes count, and
    /// no bundle can be named "background".
    @Test("a corpus tagging 'background' retrains without trapping; the tag is ignored")
    func corpusTaggingBackground() throws {
        let bundles = try F.bundles.get()
        let root = try F.temporaryDirectory("background-tag")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let bundle = try F.copyOfBundle("giraffe", from: bundles, into: root)
        let corpus = bundle + "/corpus.csv"
        let lines = try String(contentsOfFile: corpus, encoding: .utf8).split(separator: "\n").map(String.init)
        let tagged = [lines[0]] + lines.dropFirst().map { line in
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            fields[1] += ";background"
            return fields.joined(separator: ",")
        }
        try (tagged.joined(separator: "\n") + "\n").write(toFile: corpus, atomically: true, encoding: .utf8)
        let registry = root + "/classes"
        _ = try bundles.editor(registry).add(bundleAt: bundle)
        let opened = try Registry.open(registry, backbone: bundles.backbone)
        #expect(opened.segmenterClasses == ["background", "giraffe"])
        #expect(try opened.loadSegmenter().classes == ["background", "giraffe"])
    }

    // MARK: 5, 15 — journals

    @Test("a tampered journal that reaches through a symlink is refused by a read-only open; nothing outside moves; --repair sets it aside")
    func tamperedJournal() throws {
        let bundles = try F.bundles.get()
        let (root, registry, outside) = try scratchRegistry("journal", bundles: bundles)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(symlink(outside, registry + "/ln") == 0)
        #expect(symlink(outside, registry + "/.tmp-x") == 0)
        let journals = [
            #"{"remove":{"path":"ln/important.txt"}}"#,
            #"{"version":1,"id":"x","operations":[{"remove":{"path":"ln/important.txt"}}]}"#,
            #"{"version":1,"id":"x","operations":[{"rename":{"from":"ln/important.txt","to":"stolen.txt"}}]}"#,
            #"{"version":1,"id":"x","operations":[{"rename":{"from":".tmp-x/important.txt","to":"important.txt"}},{"remove":{"path":".tmp-x"}}]}"#,
            #"{"version":1,"id":"x","operations":[{"remove":{"path":"labels.json"}}]}"#,
        ]
        for journal in journals {
            try Data(journal.utf8).write(to: URL(fileURLWithPath: registry + "/.transaction.json"))
            #expect(throws: (any Error).self) { try Registry.open(registry, backbone: bundles.backbone) }
            do { _ = try Registry.open(registry, backbone: bundles.backbone) } catch {
                #expect("\(error)".contains(".transaction.json") && "\(error)".contains("verify --repair"), "\(error)")
            }
            #expect(contents(outside) == ["important.txt"], "\(journal)")
            #expect(try String(contentsOfFile: outside + "/important.txt", encoding: .utf8) == "precious")
            #expect(FileManager.default.fileExists(atPath: registry + "/labels.json"))
        }
        let actions = try bundles.editor(registry).repair()
        #expect(actions.contains { $0.contains("set the invalid change journal aside") }, "\(actions)")
        #expect(contents(registry).contains { $0.hasPrefix(".transaction.json.invalid-") }, "kept, renamed")
        #expect(!RegistryTransaction.isPending(in: registry))
        #expect(try Registry.open(registry, backbone: bundles.backbone).labels == ["giraffe": 1])
        #expect(contents(outside) == ["important.txt"], "removing the staging symlink did not follow it")
    }

    @Test("a journal or lock file replaced by a symlink is not followed: the target is never written")
    func symlinkedLockAndJournal() throws {
        let bundles = try F.bundles.get()
        let (root, registry, outside) = try scratchRegistry("lock", bundles: bundles)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.removeItem(atPath: registry + "/.lock")
        #expect(symlink(outside + "/important.txt", registry + "/.lock") == 0)
        #expect {
            try bundles.editor(registry).add(bundleAt: bundles.path("elephant"), retrain: false)
        } throws: { error in
            "\(error)".contains(".lock") && "\(error)".contains("not a regular file")
        }
        #expect(try String(contentsOfFile: outside + "/important.txt", encoding: .utf8) == "precious")
        try FileManager.default.removeItem(atPath: registry + "/.lock")

        try Data(#"{"version":1,"id":"x","operations":[]}"#.utf8).write(to: URL(fileURLWithPath: outside + "/journal.json"))
        #expect(symlink(outside + "/journal.json", registry + "/.transaction.json") == 0)
        #expect {
            try Registry.open(registry, backbone: bundles.backbone)
        } throws: { error in
            guard case RegistryError.invalidJournal(_, let reason) = error else { return false }
            return reason.contains("symbolic link")
        }
        #expect(FileManager.default.fileExists(atPath: outside + "/journal.json"))
    }

    @Test("a commit step that fails undoes the steps before it: previous state, no journal, the next change works",
          arguments: [1, 2])
    func failedCommitRollsBack(step: Int) throws {
        let bundles = try F.bundles.get()
        let (root, registry, _) = try scratchRegistry("rollback", bundles: bundles)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let before = try F.snapshot(registry)
        var editor = bundles.editor(registry)
        editor.simulatedFailure = .operation(step)
        #expect {
            try editor.add(bundleAt: bundles.path("elephant"), retrain: false)
        } throws: { error in
            guard case RegistryError.writeFailed = error else { return false }
            return "\(error)".contains("keeps its previous state")
        }
        #expect(try F.snapshot(registry) == before, "the message says previous state: it must be true")
        #expect(!RegistryTransaction.isPending(in: registry))
        #expect(!contents(registry).contains { $0.hasPrefix(".tmp-") })
        let added = try bundles.editor(registry).add(bundleAt: bundles.path("elephant"), retrain: false)
        #expect(added.registry.labels == ["giraffe": 1, "elephant": 2])
    }

    @Test("a rename refused by the file system (segmenter.h5 turned into a folder) rolls the add back")
    func realFailureRollsBack() throws {
        let bundles = try F.bundles.get()
        let (root, registry, _) = try scratchRegistry("rollback-real", bundles: bundles)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: registry + "/segmenter.h5/keep", withIntermediateDirectories: true)
        let before = try F.snapshot(registry)
        #expect(throws: RegistryError.self) { try bundles.editor(registry).add(bundleAt: bundles.path("elephant")) }
        #expect(try F.snapshot(registry) == before)
        #expect(!RegistryTransaction.isPending(in: registry))
        #expect(try F.snapshot(registry)["labels.json"] == before["labels.json"])
    }

    // MARK: 8, 16 — segmenter file

    /// Writes a segmenter file like `Segmenter.save`, with the attribute and arrays given.
    private func writeSegmenter(_ s: Segmenter, to path: String, channels: Float, hiddenBias: [Float]) throws {
        let p = s.parameters
        try HDF5File.writeAtomically(to: path) { file in
            try file.writeFloats("hidden/kernel", p.hiddenWeights, shape: [p.hiddenUnits, p.inputCount])
            try file.writeFloats("hidden/bias", hiddenBias, shape: [p.hiddenUnits])
            try file.writeFloats("output/kernel", p.outputWeights, shape: [p.classCount, p.hiddenUnits])
            try file.writeFloats("output/bias", p.outputBias, shape: [p.classCount])
            try file.writeFloats("input/mean", p.inputMean, shape: [p.inputCount])
            try file.writeFloats("input/std", p.inputStd, shape: [p.inputCount])
            try file.setStringAttribute("format", Segmenter.formatName)
            try file.setStringArrayAttribute("classes", s.classes)
            try file.setStringAttribute("feature_rule", s.featureRule)
            try file.setStringAttribute("fingerprint", s.fingerprint)
            try file.setFloatAttribute("hypercolumn_channels", channels)
        }
    }

    @Test("segmenter.h5: out-of-range attributes, non-finite weights and replaced weights are errors naming the file; verify reports them")
    func damagedSegmenter() throws {
        let bundles = try F.bundles.get()
        let (root, registry, _) = try scratchRegistry("segmenter", bundles: bundles, retrain: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = registry + "/segmenter.h5"
        let good = try Registry.open(registry, backbone: bundles.backbone).loadSegmenter()
        let ledger = try LabelLedger.read(registry: registry)
        let sha = try FileDigest.sha256(ofFileAt: path)
        #expect(ledger.segmenterSHA256 == sha, "recorded in the commit")
        let bias = good.parameters.hiddenBias
        let cases: [(Float, [Float], String)] = [
            (1e30, bias, "hypercolumn_channels"), (.nan, bias, "hypercolumn_channels"), (-4, bias, "hypercolumn_channels"),
            (Float(good.featureChannels), [.nan] + bias.dropFirst(), "non-finite"),
            (Float(good.featureChannels), [.infinity] + bias.dropFirst(), "non-finite"),
            (Float(good.featureChannels), [bias[0] + 1] + bias.dropFirst(), "SHA-256"),
        ]
        for (channels, hiddenBias, expected) in cases {
            try writeSegmenter(good, to: path, channels: channels, hiddenBias: hiddenBias)
            #expect {
                try Registry.open(registry, backbone: bundles.backbone).loadSegmenter()
            } throws: { error in
                "\(error)".contains(expected) && "\(error)".contains(path)
            }
            let report = try bundles.editor(registry).verify()
            #expect(!report.isHealthy)
            #expect(report.problems.contains { $0.contains(expected) }, "\(report.problems)")
        }
    }

    @Test("a localizer with a non-finite weight is refused by name, even with a matching hash")
    func nonFiniteLocalizer() throws {
        let bundles = try F.bundles.get()
        let root = try F.temporaryDirectory("localizer-nan")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let bundle = try F.copyOfBundle("giraffe", from: bundles, into: root)
        let path = bundle + "/localizer.h5"
        // The same localizer with one NaN bias, saved as a real localizer file.
        let l = try MaxPooledLocalizer(contentsOf: path)
        let poisoned = try MaxPooledLocalizer(className: l.className, loss: l.loss, fc1Kernel: l.fc1Kernel,
                                     fc1Bias: [.nan] + l.fc1Bias.dropFirst(), fc2Kernel: l.fc2Kernel, fc2Bias: l.fc2Bias,
                                     inputScale: l.inputScale, scoreScale: l.scoreScale, differenceScale: l.differenceScale,
                                     backgroundScale: l.backgroundScale, borderMargin: l.borderMargin, featureRule: l.featureRule)
        try FileManager.default.removeItem(atPath: path)
        try poisoned.save(to: path)
        try editManifest(bundle) { json in
            var localizer = json["localizer"] as! [String: Any]
            localizer["sha256"] = try? FileDigest.sha256(ofFileAt: path)
            json["localizer"] = localizer
        }
        #expect {
            try RegistryEditor.validateBundle(at: bundle, backbone: bundles.backbone)
        } throws: { error in
            "\(error)".contains("NaN or infinite") && "\(error)".contains("localizer.h5")
        }
    }

    // MARK: 9 — sample store

    @Test("sample-store entries with a NaN or huge count are dropped and recomputed, with a note naming the entry",
          arguments: [Float.nan, 1e30])
    func damagedSampleCount(count: Float) throws {
        let bundles = try F.bundles.get()
        let (root, registry, _) = try scratchRegistry("samples", bundles: bundles, retrain: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = SampleStore(registry: registry)
        guard let enumerator = FileManager.default.enumerator(atPath: store.directory) else { Issue.record("no store"); return }
        var entries: [String] = []
        while let name = enumerator.nextObject() as? String {
            if name.hasSuffix(".h5") { entries.append(store.directory + "/" + name) }
        }
        let victim = try #require(entries.sorted().first)
        let file = try HDF5File.open(victim)
        let strings = try ["format", "key", "class", "encoding"].map { ($0, try file.stringAttribute($0)) }
        let global = try file.readFloats("global")
        let locations = file.contains("locations") ? try file.readFloats("locations") : nil
        let features = file.contains("features") ? try file.readFloats("features") : nil
        file.close()
        try HDF5File.writeAtomically(to: victim) { out in
            for (name, value) in strings { try out.setStringAttribute(name, value) }
            try out.setFloatAttribute("count", count)
            try out.writeFloats("global", global.values, shape: global.shape)
            if let locations { try out.writeFloats("locations", locations.values, shape: locations.shape) }
            if let features { try out.writeFloats("features", features.values, shape: features.shape) }
        }
        final class Notes: @unchecked Sendable { var lines: [String] = []; let lock = NSLock() }
        let notes = Notes()
        var editor = bundles.editor(registry)
        editor.log = { line in notes.lock.lock(); notes.lines.append(line); notes.lock.unlock() }
        let report = try editor.retrain()
        #expect(report.retraining!.samples.damagedEntries == 1)
        #expect(notes.lines.contains { $0.contains(victim) && $0.contains("count") }, "\(notes.lines)")
        #expect(try editor.verify().isHealthy)
    }

    // MARK: messages

    @Test("valid JSON with bad values in a manifest names the field, the value found and what is allowed")
    func manifestValues() throws {
        let bundles = try F.bundles.get()
        let root = try F.temporaryDirectory("manifest-values")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cases: [(String, (inout [String: Any]) -> Void, [String])] = [
            ("seed", { var t = $0["training"] as! [String: Any]; t["seed"] = -1; $0["training"] = t }, ["training.seed", "-1", "whole number from 0"]),
            ("epochs", { var t = $0["training"] as! [String: Any]; t["epochs"] = 1.5; $0["training"] = t }, ["training.epochs", "1.5", "whole number"]),
            ("schema", { $0["schemaVersion"] = "1" }, ["schemaVersion", "string \"1\"", "whole number"]),
        ]
        for (label, edit, words) in cases {
            let bundle = try F.copyOfBundle("giraffe", from: bundles, into: root + "/" + label)
            try editManifest(bundle, edit)
            #expect {
                try ClassBundle(at: bundle, backbone: bundles.backbone)
            } throws: { error in
                let text = "\(error)"
                return words.allSatisfy(text.contains) && !text.contains("not valid JSON")
            }
        }
    }

    @Test("a damaged labels.json or a refused bundle is reported as such, not as a stale segmenter")
    func mismatchMessages() throws {
        let bundles = try F.bundles.get()
        let (root, registry, _) = try scratchRegistry("mismatch", bundles: bundles)
        defer { try? FileManager.default.removeItem(atPath: root) }
        // giraffe 1, elephant 2: ids assigned afresh (name order) would differ.
        try bundles.editor(registry).add(bundleAt: bundles.path("elephant"))
        let ledger = try Data(contentsOf: URL(fileURLWithPath: registry + "/labels.json"))
        try Data("{ damaged".utf8).write(to: URL(fileURLWithPath: registry + "/labels.json"))
        #expect {
            try Registry.open(registry, backbone: bundles.backbone).loadSegmenter()
        } throws: { error in
            "\(error)".contains("labels.json") && !"\(error)".contains("another set of classes")
        }
        try ledger.write(to: URL(fileURLWithPath: registry + "/labels.json"))
        // Wrong weights: the localizer no longer matches its manifest.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: registry + "/giraffe/localizer.h5"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0]))
        try handle.close()
        #expect {
            try Registry.open(registry, backbone: bundles.backbone).loadSegmenter()
        } throws: { error in
            "\(error)".contains("'giraffe'") && "\(error)".contains("does not match its manifest") && !"\(error)".contains("another set of classes")
        }
    }

    @Test("a full label ledger is reported as no free label id, not as an invalid manifest")
    func fullLedger() throws {
        let bundles = try F.bundles.get()
        let root = try F.temporaryDirectory("full-ledger")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = root + "/classes"
        try FileManager.default.createDirectory(atPath: registry, withIntermediateDirectories: true)
        let entries = (1...254).map { #"{"name":"c\#($0)","label":\#($0),"assigned":"2026-01-01T00:00:00Z"}"# }
        try Data(#"{"version":1,"entries":[\#(entries.joined(separator: ","))]}"#.utf8).write(to: URL(fileURLWithPath: registry + "/labels.json"))
        _ = try F.copyOfBundle("giraffe", from: bundles, into: registry)
        let opened = try Registry.open(registry, backbone: bundles.backbone)
        #expect(opened.problems.count == 1)
        let text = opened.problems.first.map { "\($0)" } ?? ""
        #expect(text.contains("no free label id") && !text.contains("manifest.json is invalid"), "\(text)")
    }
}
