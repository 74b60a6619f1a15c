import DivSeg
import DivSegIO
import DivSegRegistry
import Foundation
import Testing

/// Portable bundles: manifests record a corpus identity, not a machine path; images are found
/// through ``DataRoots`` and checked by their recorded SHA-256; stored picks need no image.
@Suite("Data roots and portable bundles")
struct DataRootTests {
    /// This repository (Tests/DivSegRegistryTests/Data/ → three levels up).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    @Test("corpus identities: kind and folder name, also parsed from the specs older manifests recorded")
    func identities() {
        #expect(CorpusIdentity(recorded: "coco:coco-mini") == CorpusIdentity(kind: "coco", name: "coco-mini"))
        #expect(CorpusIdentity(recorded: "coco:../shared/data/coco-mini").description == "coco:coco-mini")
        #expect(CorpusIdentity(recorded: "coco:/srv/build/shared/data/coco-mini/").description == "coco:coco-mini")
        #expect(CorpusIdentity(recorded: "tags:/data/photos/tags.csv").description == "tags:photos")
        #expect(CorpusIdentity(recorded: "voc:VOC2012").name == "VOC2012")
        #expect(CorpusIdentity(recorded: "nonsense").name == "")
        #expect(CorpusIdentity(kind: "tags", root: "/a/b/holiday/").description == "tags:holiday")
    }

    @Test("a manifest with an absolute legacy dataRoot and a spec path still loads; it is not written again")
    func legacyManifest() throws {
        let dir = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bundle = try makeBundle(in: dir, name: "giraffe")
        let url = URL(fileURLWithPath: bundle.directory + "/manifest.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var training = json["training"] as! [String: Any]
        training["dataRoot"] = "/home/builder/shared/data/coco-mini"
        training["corpus"] = "coco:../shared/data/coco-mini"
        json["training"] = training
        try JSONSerialization.data(withJSONObject: json).write(to: url)

        let loaded = try ClassBundle(at: bundle.directory, backbone: nil)
        #expect(loaded.manifest.training.corpusIdentity == CorpusIdentity(kind: "coco", name: "coco-mini"))
        let written = String(decoding: try loaded.manifest.encoded(), as: UTF8.self)
        #expect(!written.contains("dataRoot") && !written.contains("/home/builder"))
        #expect(loaded.manifest.schemaVersion == 1)
    }

    @Test("no committed manifest or corpus records a machine path, and the shipped segmenter is current")
    func shippedRegistry() throws {
        let classes = Self.repository + "/classes"
        let names = try FileManager.default.contentsOfDirectory(atPath: classes)
            .filter { FileManager.default.fileExists(atPath: "\(classes)/\($0)/manifest.json") }.sorted()
        #expect(names.count == 22)
        func strings(_ value: Any, at path: String) -> [(String, String)] {
            switch value {
            case let s as String: return [(path, s)]
            case let d as [String: Any]: return d.flatMap { strings($0.value, at: path + "." + $0.key) }
            case let a as [Any]: return a.enumerated().flatMap { strings($0.element, at: "\(path)[\($0.offset)]") }
            default: return []
            }
        }
        for name in names {
            let manifest = "\(classes)/\(name)/manifest.json"
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifest))) as! [String: Any]
            #expect((json["training"] as? [String: Any])?["dataRoot"] == nil, "\(manifest) records a dataRoot")
            for (field, value) in strings(json, at: name) {
                #expect(!value.hasPrefix("/") && !value.contains("../") && !value.contains("/work/") && !value.contains("/home/"),
                        "\(manifest): \(field) = '\(value)' looks like a machine path")
            }
            #expect((json["training"] as? [String: Any])?["corpus"] as? String == "coco:coco-mini")
            for entry in try CorpusFile.read(from: "\(classes)/\(name)/corpus.csv").entries {
                #expect(!entry.path.hasPrefix("/") && !entry.path.contains(".."), "\(name)/corpus.csv: \(entry.path)")
            }
        }
        // Editing provenance fields does not stale the segmenter: its fingerprint covers class
        // names, label ids, localizer hashes and score scales only.
        let registry = try Registry.open(classes, backbone: try BackboneIdentity.vgg16(weightsAt: RegistryFixture.weights))
        #expect(registry.problems.isEmpty && registry.bundles.count == 22)
        #expect(registry.segmenterStatus == .current)
    }

    @Test("candidates: --data-root, DIVSEG_DATA_ROOT, the registry setting, then the default places, without duplicates")
    func candidateOrder() throws {
        let registry = try RegistryFixture.temporaryDirectory("roots")
        defer { try? FileManager.default.removeItem(atPath: registry) }
        try RegistrySettings(dataRoot: "data").write(registry: registry)
        var roots = DataRoots(explicit: ["/flag"], environment: ["DIVSEG_DATA_ROOT": "/env1:/env2", "DIVSEG_SHARED": "/elsewhere/copy-of-shared"])
        let found = try roots.candidates(for: CorpusIdentity(recorded: "coco:coco-mini"), registry: registry)
        #expect(found.map(\.path).prefix(5) == ["/flag", "/env1", "/env2", registry + "/data", "/elsewhere/copy-of-shared/data/coco-mini"])
        #expect(found.map(\.source).prefix(5) == [.option, .environment, .environment,
                                                   .registrySetting(file: registry + "/settings.json"), .sharedFolder])
        #expect(found.contains { $0.source == .besideRegistry })
        roots.useDefaultPlaces = false
        roots.useRegistrySetting = false
        #expect(try roots.candidates(for: CorpusIdentity(recorded: "coco:coco-mini"), registry: registry).count == 3)
        try "{\"dataRoot\": 3}".write(toFile: registry + "/settings.json", atomically: true, encoding: .utf8)
        #expect(throws: RegistryError.self) { _ = try DataRoots(environment: [:]).candidates(for: CorpusIdentity(kind: "", name: ""), registry: registry) }
    }

    @Test("retraining looks for images only without stored picks: a missing root is one typed error, a tampered image is refused")
    func retrainWithoutImages() throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("dataroot")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var editor = bundles.editor(dir + "/registry")
        try editor.add(bundleAt: bundles.path("giraffe"))

        let nowhere = dir + "/nowhere"
        var retrainer = bundles.retrainer()
        retrainer.dataRoots = DataRoots(explicit: [nowhere], environment: [:])
        retrainer.dataRoots.useDefaultPlaces = false
        editor.retrainer = retrainer
        // Every pick is in the store: no image is opened.
        let offline = try editor.retrain()
        #expect(offline.retraining?.samples.imagesResampled == 0)

        try FileManager.default.removeItem(atPath: dir + "/registry/.samples")
        let before = try RegistryFixture.snapshot(dir + "/registry")
        do {
            try editor.retrain()
            Issue.record("retraining without images and without stored picks succeeded")
        } catch let error as CorpusImageError {
            guard case .missing(_, let corpus, _, let searched, _, let missing, let needed) = error else {
                Issue.record("unexpected \(error)"); return
            }
            #expect(corpus == "tags:images" && searched == [DataRoots.Candidate(path: nowhere, source: .option)])
            #expect(missing == needed && needed > 0)
            #expect(error.description.contains("'\(nowhere)' (--data-root)") && error.description.contains("--data-root DIR"))
        }
        #expect(try RegistryFixture.snapshot(dir + "/registry") == before)

        // A data root whose copy of an image differs from the recorded one.
        let copy = dir + "/copy"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for (id, _) in RegistryFixture.rows {
            try FileManager.default.copyItem(atPath: "\(RegistryFixture.dataRoot)/\(id).jpg", toPath: "\(copy)/\(id).jpg")
        }
        try Data("not the image".utf8).write(to: URL(fileURLWithPath: "\(copy)/000000000072.jpg"))
        retrainer.dataRoots.explicit = [copy]
        editor.retrainer = retrainer
        #expect {
            try editor.retrain()
        } throws: { error in
            guard case .hashMismatch(let path, let owners, _, let actual)? = error as? CorpusImageError else { return false }
            return path == "\(copy)/000000000072.jpg" && owners == [dir + "/registry/giraffe"]
                && actual == FileDigest.sha256(of: Data("not the image".utf8))
        }
    }
}
