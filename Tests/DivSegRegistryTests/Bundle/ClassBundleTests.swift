import DivSeg
import DivSegIO
import DivSegRegistry
import Foundation
import Testing

/// A valid bundle with a small random localizer, written through the public API.
func makeBundle(in registry: URL, name: String, preferredLabel: Int? = nil,
                backbone: BundleManifest.BackboneInfo = testBackbone) throws -> ClassBundle {
    let manifest = BundleManifest(
        name: name, displayName: name.capitalized, aliases: [], preferredLabel: preferredLabel, color: [10, 20, 30],
        localizer: .init(file: "localizer.h5", sha256: "", inputChannels: 4224, hiddenUnits: 4,
                         loss: LocalizerLoss.globalSoftmax.rawValue, storage: "float16"),
        backbone: backbone, scoreScale: 2.5,
        training: .init(corpus: "tags:x", split: nil, positives: 1, negatives: 1,
                        epochs: 3, optimizer: "adam", learningRate: 1e-4, seed: 1, seconds: 0.1, finalLoss: 0.5,
                        heldOutImages: 0, heldOutAccuracy: nil, heldOutAUC: nil),
        created: "2026-11-26T00:00:00Z", toolVersion: "test")
    let corpus = CorpusFile(entries: [.init(path: "a.jpg", tags: [name], sha256: "00"),
                                      .init(path: "b, with comma.jpg", tags: ["dog", "cat"], sha256: "11")])
    // Written beside the folder, then moved in as a user copying a bundle would: writing a
    // bundle straight into a registry folder is refused once it has a ledger or lock.
    let scratch = registry.deletingLastPathComponent().appendingPathComponent("divseg-bundle-\(UUID())")
    defer { try? FileManager.default.removeItem(at: scratch) }
    _ = try ClassBundle.write(to: scratch.appendingPathComponent(name).path, manifest: manifest, corpus: corpus) { path in
        try MaxPooledLocalizer(randomWithHiddenUnits: 4, className: name, seed: 3).save(to: path, storage: .float16)
    }
    let destination = registry.appendingPathComponent(name).path
    try FileManager.default.moveItem(atPath: scratch.appendingPathComponent(name).path, toPath: destination)
    return try ClassBundle(at: destination, backbone: nil)
}

let testBackbone = BundleManifest.BackboneInfo(name: "vgg16-imagenet", weightsSHA256: "ab", featureRule: FeatureGrid.ruleName)

func temporaryRegistry() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-registry-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

@Suite("Class bundles")
struct ClassBundleTests {
    @Test("a written bundle validates, and its corpus round-trips (including quoted paths)")
    func roundTrip() throws {
        let dir = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bundle = try makeBundle(in: dir, name: "giraffe")
        let reopened = try ClassBundle(at: bundle.directory, backbone: testBackbone)
        #expect(reopened.manifest == bundle.manifest)
        #expect(reopened.manifest.localizer.sha256 == (try FileDigest.sha256(ofFileAt: bundle.localizerPath)))
        let corpus = try reopened.corpus()
        #expect(corpus.entries.map(\.path) == ["a.jpg", "b, with comma.jpg"])
        #expect(corpus.entries[1].tags == ["cat", "dog"])
        #expect(try MaxPooledLocalizer(contentsOf: reopened.localizerPath).hiddenUnits == 4)
        // No staging directories are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["giraffe"])
    }

    @Test("damaged or foreign bundles are refused with a message naming the bundle")
    func refusals() throws {
        let dir = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bundle = try makeBundle(in: dir, name: "giraffe")
        let manifestPath = bundle.directory + "/manifest.json"
        let original = try Data(contentsOf: URL(fileURLWithPath: manifestPath))

        func withManifest(_ edit: (inout [String: Any]) -> Void, check: (BundleError) -> Bool) throws {
            var json = try JSONSerialization.jsonObject(with: original) as! [String: Any]
            edit(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: manifestPath))
            defer { try? original.write(to: URL(fileURLWithPath: manifestPath)) }
            do {
                _ = try ClassBundle(at: bundle.directory, backbone: testBackbone)
                Issue.record("accepted a bad manifest")
            } catch let error as BundleError {
                #expect(check(error), "\(error)")
                #expect(error.description.contains(bundle.directory))
            }
        }
        try withManifest({ $0["schemaVersion"] = 99 }) { if case .unsupportedSchema(_, 99, _) = $0 { true } else { false } }
        for path in ["../../x", "/etc/passwd", "sub/localizer.h5"] {
            try withManifest({ var l = $0["localizer"] as! [String: Any]; l["file"] = path; $0["localizer"] = l }) {
                if case .unsafePath(_, path) = $0 { true } else { false }
            }
        }
        try withManifest({ var l = $0["localizer"] as! [String: Any]; l["sha256"] = String(repeating: "0", count: 64); $0["localizer"] = l }) {
            if case .hashMismatch = $0 { true } else { false }
        }
        try withManifest({ var b = $0["backbone"] as! [String: Any]; b["weightsSHA256"] = "ff"; $0["backbone"] = b }) {
            if case .incompatibleBackbone = $0 { true } else { false }
        }
        try withManifest({ $0.removeValue(forKey: "scoreScale") }) {
            if case .badManifest(_, let detail) = $0 { detail.contains("scoreScale") } else { false }
        }

        // A truncated localizer file no longer matches its hash.
        let weights = try Data(contentsOf: URL(fileURLWithPath: bundle.localizerPath))
        try weights.prefix(weights.count / 2).write(to: URL(fileURLWithPath: bundle.localizerPath))
        #expect(throws: BundleError.self) { try ClassBundle(at: bundle.directory, backbone: testBackbone) }
    }
}

@Suite("Registry")
struct RegistryTests {
    @Test("discovers bundles, keeps healthy ones when one is broken, assigns stable label ids")
    func discovery() throws {
        let dir = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try makeBundle(in: dir, name: "person", preferredLabel: 15)
        _ = try makeBundle(in: dir, name: "giraffe")
        _ = try makeBundle(in: dir, name: "elephant")
        let broken = try makeBundle(in: dir, name: "zebra")
        try Data("{}".utf8).write(to: URL(fileURLWithPath: broken.directory + "/manifest.json"))

        let registry = try Registry.open(dir.path, backbone: testBackbone)
        #expect(registry.bundles.map(\.name) == ["elephant", "giraffe", "person"].sorted { registry.labels[$0]! < registry.labels[$1]! })
        #expect(registry.labels == ["person": 15, "elephant": 1, "giraffe": 2])
        #expect(registry.problems.count == 1)
        #expect(registry.problems.first?.bundle == broken.directory)
        #expect(registry.segmenterClasses == ["background", "elephant", "giraffe", "person"])
        #expect(registry.channelLabels == [0, 1, 2, 15])
        #expect(throws: RegistryError.noSegmenter(dir.path)) { try registry.loadSegmenter() }

        // The fingerprint changes with the class set.
        let before = registry.fingerprint
        try FileManager.default.removeItem(atPath: dir.appendingPathComponent("giraffe").path)
        #expect(try Registry.open(dir.path, backbone: testBackbone).fingerprint != before)
    }

    @Test("a missing registry folder is a clear error")
    func missing() {
        #expect(throws: RegistryError.notFound("/nonexistent/classes")) {
            try Registry.open("/nonexistent/classes", backbone: nil)
        }
    }
}
