import DivSeg
import DivSegIO
import DivSegRegistry
import DivSegTestSupport
import Foundation
import Testing
import DivSegDatasets

/// Issue #14: `train` of a CAM-style class from cached state must not load the backbone,
/// and must give exactly the bundle it gave with the backbone loaded.
@Suite("BundleTrainer: CAM-style bundles from cached state")
struct BundleTrainerTests {
    static func localizerArrays(_ bundle: String) throws -> [[Float]] {
        let file = try HDF5File.open(bundle + "/localizer.h5")
        defer { file.close() }
        return try ["cam/kernel", "cam/bias", "input_scale"].map { try file.readFloats($0).values }
    }

    @Test("a warm cache never loads the backbone, and the localizer and corpus are bit-identical")
    func noBackboneOnWarmCache() throws {
        let bundles = try RegistryFixture.bundles.get()
        let root = try RegistryFixture.temporaryDirectory("bundle-trainer")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let csv = "path,tags\n" + RegistryFixture.rows.map { "\(SharedData.cocoMiniImages)/\($0.0).jpg,\($0.1)" }
            .joined(separator: "\n") + "\n"
        try csv.write(toFile: root + "/tags.csv", atomically: true, encoding: .utf8)
        let dataset = try Dataset.open(spec: "tags:" + root + "/tags.csv")
        var trainer = BundleTrainer()
        trainer.kind = .cam
        // With the loaded backbone (fills any missing state entries).
        _ = try trainer.train(className: "giraffe", dataset: dataset, spec: "tags:" + root + "/tags.csv",
                              extractor: bundles.extractor, cache: bundles.cache, backbone: bundles.backbone,
                              to: root + "/eager")
        // A backbone that cannot be loaded: training must not need it.
        let unloadable = LazyHypercolumnExtractor(weightsAt: root + "/no-such-weights.h5")
        let (bundle, _) = try trainer.train(className: "giraffe", dataset: dataset, spec: "tags:" + root + "/tags.csv",
                                            extractor: unloadable, cache: bundles.cache, backbone: bundles.backbone,
                                            to: root + "/lazy")
        #expect(!unloadable.isLoaded)
        #expect(bundle.manifest.training.positives + bundle.manifest.training.negatives == RegistryFixture.rows.count)
        let eager = try Self.localizerArrays(root + "/eager"), lazy = try Self.localizerArrays(root + "/lazy")
        #expect(eager.map { $0.map(\.bitPattern) } == lazy.map { $0.map(\.bitPattern) })
        let corpus = try String(contentsOfFile: root + "/lazy/corpus.csv", encoding: .utf8)
        #expect(try String(contentsOfFile: root + "/eager/corpus.csv", encoding: .utf8) == corpus)
        // The digests recorded are those of the image files.
        let first = RegistryFixture.rows[0].0 + ".jpg"
        let digest = try FileDigest.sha256(ofFileAt: SharedData.cocoMiniImages + "/" + first)
        #expect(corpus.contains(first) && corpus.contains(digest))
    }

    @Test("an image missing from the cache loads the backbone once, and its state equals the eager one")
    func missLoadsBackbone() throws {
        let directory = try RegistryFixture.temporaryDirectory("lazy-cache")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = try FeatureCache(directory: directory, weightsAt: SharedData.weights)
        let lazy = LazyHypercolumnExtractor(weightsAt: SharedData.weights)
        let image = SharedData.cocoMiniImage("000000000025")
        #expect(!lazy.isLoaded)
        let (state, digest) = try cache.stateAndDigest(for: image, extractor: lazy)
        #expect(lazy.isLoaded)
        #expect(digest == (try FileDigest.sha256(ofFileAt: image)))
        let other = try FeatureCache(directory: directory + "/eager", weightsAt: SharedData.weights)
        let eager = try other.state(for: image, extractor: try lazy.extractor())
        #expect(eager == state)
    }
}
