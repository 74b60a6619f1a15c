import ArgumentParser
import DivSeg
import DivSegCore
import DivSegRegistry
import Foundation

/// Options of the commands that change a registry (`add`, `remove`, `retrain`): how the
/// segmenter is retrained, where its corpus images are (`--data-root`, `--remember`) and how
/// long to wait for another command's lock.
struct RetrainOptions: ParsableArguments {
    // Numeric options parse their next word unconditionally, so that `--points -5` is read
    // as -5 and refused with its bound instead of "Missing value".
    // Defaults are the library's (SegmenterRetrainer.defaultSampler, SegmenterTrainer()).
    @Option(parsing: .unconditional,
            help: "Points per class per image (k) of the diverse, top and spatial samplings, \(PointSampler.pointsPerClassRange.boundText).")
    var points: Int = SegmenterRetrainer.defaultSampler.pointsPerClass
    @Option(help: "Sampling.")
    var sampling: SamplingStrategy = SegmenterRetrainer.defaultSampler.strategy
    @Option(parsing: .unconditional, help: "Segmenter epochs, \(SegmenterTrainer.epochsRange.boundText).")
    var epochs: Int = SegmenterTrainer().epochs
    @Option(parsing: .unconditional,
            help: "Dense sampling: scaled score a class needs to label a location, \(PointSampler.denseThresholdRange.boundText).")
    var denseThreshold: Float = SegmenterRetrainer.defaultSampler.denseThreshold
    @Option(parsing: .unconditional,
            help: "Dense sampling: keep every n-th row and column of the grid, \(PointSampler.denseStrideRange.boundText).")
    var denseStride: Int = SegmenterRetrainer.defaultSampler.denseStride
    @Option(help: ArgumentHelp("Dense sampling: where background goes: threshold (below --dense-threshold) or none (the classes cover every pixel, e.g. stuff + things; no background is invented).",
                               discussion: "Default: the rule recorded in the registry's labels.json by the last retraining, else \(PointSampler().denseBackground.rawValue). The rule used is recorded for later add, remove and retrain."))
    var background: DenseBackground?
    @Option(parsing: .unconditional,
            help: "Dense sampling: confidence margin; locations not clearly one label are left out of training, \(PointSampler.denseMarginRange.boundText).")
    var denseMargin: Float = PointSampler().denseMargin
    @Option(parsing: .unconditional,
            help: "Dense sampling: at most this many points per label and image, evenly spaced over the label's locations, \(PointSampler.pointsPerClassRange.boundText) (0: every location).")
    var denseCap: Int = PointSampler().denseCap
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Self-training: rounds of predicting the training points with the trained segmenter (restricted to each image's tags and background) and training again on those labels, \(SelfTraining.roundsRange.boundText).",
                               discussion: "Default: the rounds recorded in the registry's labels.json by the last retraining, else \(SegmenterRetrainer.defaultSelfTraining.rounds). The rounds used are recorded for later add, remove and retrain."))
    var selfTrainingRounds: Int?
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Self-training: predict each image with a segmenter trained on the other folds' images (1: the segmenter trained on all), \(SelfTraining.foldsRange.boundText).",
                               discussion: "Default: the folds recorded in labels.json, else \(SegmenterRetrainer.defaultSelfTraining.folds)."))
    var selfTrainingFolds: Int?
    @Flag(help: "Training labels from each class map averaged with its map on the mirrored image (a second backbone run per training image, cached).")
    var flipMaps = SegmenterRetrainer.defaultAugmentation.flip
    @Option(help: ArgumentHelp("Dense sampling: refine the training labels before they are taken: none, or crf (a dense CRF on each training image's colours, unaries from its tagged classes' score maps and the background threshold).",
                               discussion: "Default: the refinement recorded in the registry's labels.json by the last retraining, else \(SegmenterRetrainer.defaultRefinement.method.rawValue). The refinement used (with its CRF settings) is recorded for later add, remove and retrain."))
    var refineLabels: LabelRefinement.Method?
    @Option(parsing: .unconditional,
            help: "With --refine-labels crf: mean-field iterations, \(DenseCRFParameters.iterationsRange.boundText).")
    var refineCrfIterations: Int = LabelRefinement.defaultCRF.iterations
    @Option(parsing: .unconditional,
            help: "With --refine-labels crf: weight of the bilateral (colour) kernel, \(DenseCRFParameters.weightRange.boundText).")
    var refineCrfBilateralWeight: Float = LabelRefinement.defaultCRF.bilateralWeight
    @Option(parsing: .unconditional,
            help: "With --refine-labels crf: colour standard deviation of the bilateral kernel in 8-bit RGB units, \(DenseCRFParameters.deviationRange.boundText).")
    var refineCrfSrgb: Float = LabelRefinement.defaultCRF.bilateralSRGB
    @Option(parsing: .unconditional,
            help: "With --refine-labels crf: positional standard deviation of the bilateral kernel in pixels of the 256×336 network input, \(DenseCRFParameters.deviationRange.boundText).")
    var refineCrfSxy: Float = LabelRefinement.defaultCRF.bilateralSXY
    @Option(parsing: .unconditional,
            help: "With --refine-labels crf: factor on the scaled scores (and the threshold) before the softmax of the unaries, \(DenseCRFParameters.logitScaleRange.boundText).")
    var refineLogitScale: Float = LabelRefinement.defaultCRF.logitScale
    @Option(parsing: .unconditional, help: "Seed of the segmenter's weight initialisation and point order.")
    var seed: UInt64 = SegmenterTrainer().seed
    @Flag(inversion: .prefixedNo,
          help: "Weight each training point's loss so that every label present contributes equally (rare classes count as much as background).")
    var classBalanced = SegmenterTrainer().classBalanced
    @Option(help: ArgumentHelp("Folder that holds the bundles' corpus images (corpus.csv paths are relative to it); repeatable.",
                               discussion: "Searched before $DIVSEG_DATA_ROOT, the registry's settings.json and the default places ($DIVSEG_SHARED/data/<corpus>, ../shared/data/<corpus>). Only images without sample-store entries are needed."))
    var dataRoot: [String] = []
    @Flag(help: "Once the command succeeded, record the (first) --data-root in the registry's settings.json for later commands.") var remember = false
    @Option(parsing: .unconditional,
            help: "Seconds to wait for another command that is changing the registry, \(RegistryEditor.lockTimeoutRange.boundText).")
    var lockTimeout: Double = RegistryEditor.defaultLockTimeout
    @Flag(help: "Do not use the registry's sample store (see `config sample-store`): re-sample every image.") var noSampleStore = false
    @Option(help: ArgumentHelp("Memory cap for the segmenter's training rows, e.g. 4G, 512M (K/M/G/T: powers of 1024).",
                               discussion: "Rows are then read back from the sample store and streamed in shuffled blocks; when they all fit under the cap the segmenter is the same as without it. Default: no cap (every row in memory)."))
    var maxMemory: String?
    @OptionGroup var sampleStoreOptions: SampleStoreOptions

    /// `--refine-labels` with its CRF settings, validated; nil when not given (the
    /// registry's recorded refinement is kept).
    var refinement: LabelRefinement? {
        get throws {
            guard let refineLabels else { return nil }
            var crf = LabelRefinement.defaultCRF
            crf.iterations = refineCrfIterations
            crf.bilateralWeight = refineCrfBilateralWeight
            crf.bilateralSRGB = refineCrfSrgb
            crf.bilateralSXY = refineCrfSxy
            crf.logitScale = refineLogitScale
            let refinement = LabelRefinement(method: refineLabels, crf: crf)
            do { try refinement.validate() } catch { throw ValidationError("--refine-labels: \(error)") }
            return refinement
        }
    }

    /// `--max-memory` parsed.
    var memoryCap: MemorySize? {
        get throws {
            guard let maxMemory else { return nil }
            do { return try MemorySize(parsing: maxMemory) } catch { throw ValidationError("--max-memory: \(error.description)") }
        }
    }

    func validate() throws {
        try requireOption("points", points, in: PointSampler.pointsPerClassRange, "points per class and image")
        try requireOption("epochs", epochs, in: SegmenterTrainer.epochsRange, "passes of the segmenter over the points")
        try requireOption("dense-threshold", denseThreshold, in: PointSampler.denseThresholdRange,
                          "scaled score; a typical positive image peaks near 1")
        try requireOption("dense-margin", denseMargin, in: PointSampler.denseMarginRange, "scaled score")
        try requireOption("dense-cap", denseCap, in: PointSampler.pointsPerClassRange, "points per label and image")
        try requireOption("dense-stride", denseStride, in: PointSampler.denseStrideRange, "grid rows and columns")
        if let selfTrainingRounds {
            try requireOption("self-training-rounds", selfTrainingRounds, in: SelfTraining.roundsRange, "rounds")
        }
        if let selfTrainingFolds {
            try requireOption("self-training-folds", selfTrainingFolds, in: SelfTraining.foldsRange, "folds of images")
        }
        if refineLabels == .crf && sampling != .dense {
            throw ValidationError("--refine-labels crf refines dense labels; use it with --sampling dense (the default).")
        }
        _ = try refinement
        try requireOption("lock-timeout", lockTimeout, in: RegistryEditor.lockTimeoutRange, "seconds")
        if let cap = try memoryCap {
            if noSampleStore { throw ValidationError("--max-memory streams rows from the sample store; drop --no-sample-store.") }
            if cap < SegmenterRetrainer.minimumMemoryCap {
                throw ValidationError("--max-memory \(maxMemory!) is below the \(SegmenterRetrainer.minimumMemoryCap) the segmenter "
                    + "itself needs; give at least that (e.g. 1G).")
            }
        }
    }

    /// The editor for the registry; with `retraining`, also the backbone, feature cache and
    /// segmenter trainer.
    func editor(registry: RegistryOptions, backbone: BackboneOptions, cache: CacheOptions,
                retraining: Bool) throws -> RegistryEditor {
        let strategy = sampling
        let weights = try backbone.resolvedWeightsPath()
        var editor = RegistryEditor(directory: registry.directory, backbone: try BackboneIdentity.vgg16(weightsAt: weights))
        if retraining {
            var retrainer = SegmenterRetrainer(extractor: try HypercolumnExtractor(weightsAt: weights),
                                               cache: try cache.open(weights: weights))
            retrainer.sampler.strategy = strategy
            retrainer.sampler.pointsPerClass = points
            retrainer.sampler.denseThreshold = denseThreshold
            retrainer.sampler.denseStride = denseStride
            retrainer.sampler.denseMargin = denseMargin
            retrainer.sampler.denseCap = denseCap
            retrainer.trainer.epochs = epochs
            retrainer.trainer.seed = seed
            retrainer.trainer.classBalanced = classBalanced
            retrainer.augmentation.flip = flipMaps
            retrainer.dataRoots = DataRoots(explicit: dataRoot)
            retrainer.maxMemory = try memoryCap
            editor.retrainer = retrainer
        }
        if remember && dataRoot.isEmpty { throw ValidationError("--remember records a --data-root; pass one.") }
        editor.background = background
        editor.selfTrainingRounds = selfTrainingRounds
        editor.selfTrainingFolds = selfTrainingFolds
        editor.refinement = try refinement
        editor.lockTimeout = lockTimeout
        editor.useSampleStore = !noSampleStore
        editor.sampleStoreDirectory = try sampleStoreOptions.directory(registry: registry.directory, cache: cache)
        editor.log = { printError("note: \($0)") }
        return editor
    }

    /// With `--remember`, records the first `--data-root` in the registry's settings.json —
    /// called after the command succeeded, so that a root that did not work is not kept.
    func rememberDataRoot(registry: RegistryOptions) throws {
        guard remember, let root = dataRoot.first else { return }
        try RegistrySettings.remember(dataRoot: root, registry: registry.directory)
        print("data root \(RegistrySettings.absolute(root)) recorded in \(RegistrySettings.path(registry: registry.directory))")
    }
}
