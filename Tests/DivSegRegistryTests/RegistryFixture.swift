import DivSeg
import DivSegIO
import DivSegRegistry
import DivSegTestSupport
import Foundation
import DivSegDatasets

/// Real class bundles for the registry tests: giraffe, elephant and person localizers (8
/// hidden units) trained once per test process on 8 real coco-mini images and their real
/// COCO tags, with features in a feature cache that persists between runs (validated on
/// every hit, so a changed backbone is recomputed, not reused).
enum RegistryFixture {
    static var weights: String { SharedData.weights }
    /// The data root of the fixture bundles' corpora (the images' folder: `tags:images`).
    static var dataRoot: String { SharedData.cocoMiniImages }

    /// The images and their real tags (coco-mini tags.csv).
    static let rows = [("000000000025", "giraffe"), ("000000000072", "giraffe"), ("000000000136", "giraffe;person"),
                       ("000000000061", "elephant;person"), ("000000000263", "elephant"), ("000000000034", "zebra"),
                       ("000000000009", "bowl;broccoli;orange"), ("000000000036", "person;umbrella")]

    struct Bundles: Sendable {
        /// Folder with one trained bundle directory per class (never changed by tests).
        let root: String
        let extractor: HypercolumnExtractor
        let cache: FeatureCache
        let backbone: BundleManifest.BackboneInfo

        func path(_ name: String) -> String { root + "/" + name }

        /// A retrainer for tiny registries: 5 points per class, 64 hidden units.
        func retrainer() -> SegmenterRetrainer {
            var retrainer = SegmenterRetrainer(extractor: extractor, cache: cache)
            retrainer.sampler.pointsPerClass = 5
            retrainer.trainer.hiddenUnits = 64
            retrainer.dataRoots = DataRoots(explicit: [RegistryFixture.dataRoot], environment: [:])
            return retrainer
        }

        func editor(_ registry: String) -> RegistryEditor {
            var editor = RegistryEditor(directory: registry, backbone: backbone, retrainer: retrainer())
            editor.lockTimeout = 120
            return editor
        }
    }

    static let bundles: Result<Bundles, any Error> = Result {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-registry-fixture-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let images = SharedData.cocoMiniImages + "/"
        let csv = "path,tags\n" + rows.map { "\(images)\($0.0).jpg,\($0.1)" }.joined(separator: "\n") + "\n"
        let csvPath = root + "/tags.csv"
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
        let extractor = try HypercolumnExtractor(weightsAt: weights)
        let cacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-registry-test-cache").path
        let cache = try FeatureCache(directory: cacheDirectory, weightsAt: weights)
        let backbone = try BackboneIdentity.vgg16(weightsAt: weights)
        let dataset = try Dataset.open(spec: "tags:" + csvPath)
        var trainer = BundleTrainer()
        trainer.kind = .mlp     // tiny paper-style localizers: corpora of positives + as many negatives
        trainer.trainer.hiddenUnits = 8
        for name in ["giraffe", "elephant", "person"] {
            _ = try trainer.train(className: name, dataset: dataset, spec: "tags:" + csvPath, extractor: extractor,
                                  cache: cache, backbone: backbone, to: root + "/bundles/" + name)
        }
        return Bundles(root: root + "/bundles", extractor: extractor, cache: cache, backbone: backbone)
    }

    /// A fresh empty folder.
    static func temporaryDirectory(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-\(name)-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A copy of a fixture bundle that tests may damage.
    static func copyOfBundle(_ name: String, from bundles: Bundles, into directory: String) throws -> String {
        let destination = (directory as NSString).appendingPathComponent(name)
        try FileManager.default.copyItem(atPath: bundles.path(name), toPath: destination)
        return destination
    }

    /// Every file below `directory` (hidden entries skipped) with its SHA-256: a snapshot
    /// of a registry's state.
    static func snapshot(_ directory: String) throws -> [String: String] {
        var result: [String: String] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return result }
        while let relative = enumerator.nextObject() as? String {
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            let path = (directory as NSString).appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            result[relative] = isDirectory.boolValue ? "dir" : try FileDigest.sha256(ofFileAt: path)
        }
        return result
    }

    /// The segmenter's weights, for bit-identity checks.
    static func weights(of segmenter: Segmenter) -> [[Float]] {
        let p = segmenter.parameters
        return [p.hiddenWeights, p.hiddenBias, p.outputWeights, p.outputBias, p.inputMean, p.inputStd]
    }
}
