import DivSeg
import DivSegIO
import Foundation
import DivSegDatasets

/// A registry folder of class bundles seen through one ``Backbone``: segment images with
/// its classes, and add, remove or retrain them. The façade over ``Registry`` (snapshots),
/// ``SegmentationPipeline``, ``BundleTrainer`` and ``RegistryEditor``; every change goes
/// through the editor, so it is locked, journalled and all-or-nothing like the CLI's.
///
/// Segment with the registry's classes:
///
/// ```swift
/// import DivSegKit
///
/// let registry = try Backbone.load().registry(at: "classes")
/// let result = try registry.segment(imageAt: "photos/giraffe.jpg")
/// try PNGEncoder.write(result.labels, palette: result.palette, to: "out/giraffe.png")
/// for area in result.areas { print(area.name, area.fraction) }
/// ```
///
/// Teach it a class from tagged images, then undo it:
///
/// ```swift
/// var registry = try Backbone.load().registry(at: "classes")
/// registry.dataRoots.explicit = ["../shared/data/coco-mini"]   // where corpus images are
/// let added = try registry.add(trainingClass: "zebra", from: "coco:../shared/data/coco-mini", split: "train")
/// print(added.summary)                                          // label id, retraining
/// try registry.remove("zebra")
/// ```
public struct ClassRegistry: Sendable {
    /// The registry folder when none is named (the CLI's `--registry` default).
    public static let defaultDirectory = "classes"

    /// The registry folder.
    public let directory: String
    /// The backbone bundles and segmenter must have been trained on.
    public let backbone: Backbone
    /// Where training images' features are kept between runs, and by default the sample
    /// store (``SampleStoreLocation``). The folder is opened (and created) only by a change
    /// that trains; segmenting never touches it.
    public var featureCacheDirectory: String
    /// How the shared segmenter is retrained after a change (sampler, trainer); its
    /// defaults are the library's (``SegmenterRetrainer``).
    public var sampler: PointSampler
    /// The segmenter's training settings.
    public var trainer: SegmenterTrainer
    /// Where corpus images are found on this machine (see ``DataRoots``).
    public var dataRoots = DataRoots()
    /// Seconds to wait for another process changing the registry
    /// (``RegistryEditor/lockTimeoutRange``).
    public var lockTimeout: Double = 60
    /// Receives notes of changes (e.g. damaged sample-store entries being recomputed).
    public var log: (@Sendable (String) -> Void)?

    /// A registry at `directory` for `backbone`; see ``Backbone/registry(at:featureCache:)``.
    public init(directory: String, backbone: Backbone, featureCacheDirectory: String) {
        self.directory = directory
        self.backbone = backbone
        self.featureCacheDirectory = featureCacheDirectory
        self.sampler = SegmenterRetrainer.defaultSampler
        self.trainer = SegmenterTrainer()
    }

    // MARK: - Reading

    /// The registry as it is now: healthy bundles, refused ones with the reason, label ids.
    ///
    /// - Throws: ``RegistryError/notFound(_:)`` for a missing folder.
    public func snapshot() throws -> Registry {
        try Registry.open(directory, backbone: backbone.identity)
    }

    /// A pipeline that segments with the registry's segmenter, its classes' localizer maps
    /// added at the default weight (``SegmentationPipeline/localizerFusion``; set it to nil
    /// for the segmenter alone), and writes the registry's label ids (not segmenter channel
    /// numbers).
    ///
    /// - Parameter crf: the dense CRF that refines the predictions: by default `segment`'s
    ///   (``DenseCRFParameters/segmenterDefault``, at half resolution); nil for the upsampled
    ///   argmax alone.
    /// - Throws: ``RegistryError/noSegmenter(_:)`` or ``RegistryError/staleSegmenter(_:)``
    ///   (run ``retrain(progress:)``), or the segmenter file's error.
    public func pipeline(crf: DenseCRFParameters? = .segmenterDefault) throws -> SegmentationPipeline {
        try pipeline(for: snapshot(), crf: crf)
    }

    /// The pipeline of one snapshot, so that a caller that also reads the snapshot's names
    /// sees the same class set as the segmenter.
    func pipeline(for registry: Registry, crf: DenseCRFParameters?) throws -> SegmentationPipeline {
        let segmenter = try registry.loadSegmenter()
        var pipeline = SegmentationPipeline(extractor: backbone.extractor, segmenter: segmenter,
                                            channelLabels: registry.channelLabels, crf: crf)
        pipeline.localizerFusion = try registry.localizerFusion(channels: segmenter.classes)
        return pipeline
    }

    /// The registry's segmenter, loaded once for many images.
    ///
    /// - Parameters:
    ///   - crf: the dense CRF that refines the predictions: by default `segment`'s
    ///     (``DenseCRFParameters/segmenterDefault``); nil for the upsampled argmax alone.
    ///   - allowStale: after a change without retraining, segment with the segmenter as it
    ///     is (it labels only the classes it was trained for; ``ImageSegmenter/staleWarning``
    ///     says which) instead of throwing ``RegistryError/staleSegmenter(_:)``.
    /// - Throws: ``RegistryError/noSegmenter(_:)``, ``RegistryError/staleSegmenter(_:)`` (run
    ///   ``retrain(progress:)`` or allow it), or the segmenter file's error.
    public func segmenter(crf: DenseCRFParameters? = .segmenterDefault, allowStale: Bool = false) throws -> ImageSegmenter {
        let registry = try snapshot()
        do {
            return ImageSegmenter(registry: registry, pipeline: try pipeline(for: registry, crf: crf), staleWarning: nil)
        } catch RegistryError.staleSegmenter where allowStale {
            let stale = try registry.loadStaleSegmenter()
            var pipeline = SegmentationPipeline(extractor: backbone.extractor, segmenter: stale.segmenter,
                                                channelLabels: stale.channelLabels, crf: crf)
            pipeline.localizerFusion = try registry.localizerFusion(channels: stale.segmenter.classes)
            return ImageSegmenter(registry: registry, pipeline: pipeline, staleWarning: stale.summary)
        }
    }

    /// Segments the PNG or JPEG image at `path` with the registry's classes (for one image;
    /// ``segmenter(crf:allowStale:)`` loads the segmenter once for many).
    ///
    /// - Parameter tags: the classes the image is known to contain, or nil (see
    ///   ``ImageSegmenter/segment(imageAt:tags:)``).
    /// - Throws: ``ImageError`` naming the file, ``PredictionAdjustmentError`` for an unknown
    ///   tag, or what ``pipeline(crf:)`` throws.
    public func segment(imageAt path: String, tags: [String]? = nil,
                        crf: DenseCRFParameters? = .segmenterDefault) throws -> SegmentationResult {
        try segmenter(crf: crf).segment(imageAt: path, tags: tags)
    }

    // MARK: - Changes

    /// The feature cache at ``featureCacheDirectory`` (created when missing).
    func featureCache() throws -> FeatureCache {
        try backbone.featureCache(at: featureCacheDirectory, log: log)
    }

    /// Trains a bundle for `className` from the tags of `dataset` (a dataset spec such as
    /// `coco:DIR` or `tags:FILE.csv`; see ``Dataset/open(spec:split:)``) and adds it: the
    /// bundle is written to a scratch folder, validated, copied in under the registry's
    /// lock, and the segmenter is retrained for the new class set.
    ///
    /// - Parameters:
    ///   - localizer: the bundle trainer's settings (architecture, epochs, seed); the
    ///     library's defaults when omitted.
    /// - Throws: ``DatasetError`` for the dataset, the trainer's errors (e.g. no image tagged
    ///   `className`), and what ``add(bundleAt:retrain:progress:)`` throws. Nothing in the
    ///   registry changes then.
    @discardableResult
    public func add(trainingClass className: String, from dataset: String, split: String? = nil,
                    localizer: BundleTrainer = BundleTrainer(),
                    progress: ((SegmenterRetrainer.Phase) -> Void)? = nil) throws -> ChangeReport {
        let data = try Dataset.open(spec: dataset, split: split)
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("divseg-bundle-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (bundle, _) = try localizer.train(className: className, dataset: data, spec: dataset,
                                              extractor: backbone.extractor, cache: try featureCache(),
                                              backbone: backbone.identity, to: scratch + "/bundle")
        var editor = try self.editor()
        // The corpus was just read from there: its images need no other root.
        editor.retrainer?.dataRoots.explicit.append(BundleTrainer.dataRoot(of: data, spec: dataset))
        return try editor.add(bundleAt: bundle.directory, progress: progress)
    }

    /// Validates the bundle at `source`, copies it in and (with `retrain`) retrains the
    /// segmenter; see ``RegistryEditor/add(bundleAt:retrain:progress:)``.
    @discardableResult
    public func add(bundleAt source: String, retrain: Bool = true,
                    progress: ((SegmenterRetrainer.Phase) -> Void)? = nil) throws -> ChangeReport {
        try editor().add(bundleAt: source, retrain: retrain, progress: progress)
    }

    /// Removes a class (its label id stays reserved) and (with `retrain`) retrains the
    /// segmenter; see ``RegistryEditor/remove(_:retrain:progress:)``.
    @discardableResult
    public func remove(_ className: String, retrain: Bool = true,
                       progress: ((SegmenterRetrainer.Phase) -> Void)? = nil) throws -> ChangeReport {
        try editor().remove(className, retrain: retrain, progress: progress)
    }

    /// Retrains the shared segmenter for the registered classes.
    @discardableResult
    public func retrain(progress: ((SegmenterRetrainer.Phase) -> Void)? = nil) throws -> ChangeReport {
        try editor().retrain(progress: progress)
    }

    /// The editor every change goes through, always with a retrainer.
    func editor() throws -> RegistryEditor {
        var retrainer = SegmenterRetrainer(extractor: backbone.extractor, cache: try featureCache())
        retrainer.sampler = sampler
        retrainer.trainer = trainer
        retrainer.dataRoots = dataRoots
        var editor = RegistryEditor(directory: directory, backbone: backbone.identity, retrainer: retrainer)
        // The same place the CLI uses: the registry's setting, a `.samples` already in it, or
        // `<feature cache>/samples` (``SampleStoreLocation``).
        editor.sampleStoreDirectory = try SampleStoreLocation.directory(registry: directory,
                                                                        cacheDirectory: featureCacheDirectory)
        editor.lockTimeout = lockTimeout
        editor.log = log
        return editor
    }
}
