import ArgumentParser
import DivSeg
import DivSegCore
import DivSegRegistry

/// The prediction rules of `segment` and `evaluate` (``LocalizerFusion``, ``PredictionAdjustment``): the defaults
/// chosen on held-out train2017 images, each value overridable, or `--no-adjust` for the
/// segmenter's plain argmax (the paper's prediction, and divseg's before issue #11's lever 8).
struct AdjustmentOptions: ParsableArguments {
    @Option(name: .customLong("background-bias"), parsing: .unconditional,
            help: ArgumentHelp("Added to the background logit before the argmax, \(PredictionAdjustment.backgroundBiasRange.boundText) (default \(PredictionAdjustment.untagged.backgroundBias); \(PredictionAdjustment.tagged.backgroundBias) for images with tags); negative labels less background.",
                               valueName: "logit"))
    var backgroundBias: Float?
    @Option(name: .customLong("min-class-area"), parsing: .unconditional,
            help: ArgumentHelp("Remove a class from an image when it wins less than this fraction of it, \(PredictionAdjustment.minimumClassAreaRange.boundText) (default \(PredictionAdjustment.untagged.minimumClassArea); \(PredictionAdjustment.tagged.minimumClassArea) for images with tags).",
                               valueName: "fraction"))
    var minimumClassArea: Float?
    @Option(name: .customLong("localizer-weight"), parsing: .unconditional,
            help: ArgumentHelp("Add each class's localizer map times this weight to its logit before the rules, \(LocalizerFusion.weightRange.boundText) (default \(LocalizerFusion.defaultWeight); 0 = the segmenter alone).",
                               valueName: "weight"))
    var localizerWeight: Float?
    @Flag(name: .customLong("no-adjust"),
          help: "The segmenter's plain argmax: no localizer maps, no background bias, no class removed (tags, when given, still restrict the classes).")
    var noAdjust = false

    func validate() throws {
        if noAdjust && (backgroundBias != nil || minimumClassArea != nil || localizerWeight != nil) {
            throw ValidationError("--no-adjust turns the prediction rules off: pass it without --background-bias, --min-class-area and --localizer-weight.")
        }
        if let localizerWeight {
            try requireOption("localizer-weight", localizerWeight, in: LocalizerFusion.weightRange, "weight")
        }
        if let backgroundBias {
            try requireOption("background-bias", backgroundBias, in: PredictionAdjustment.backgroundBiasRange, "logit")
        }
        if let minimumClassArea {
            try requireOption("min-class-area", minimumClassArea, in: PredictionAdjustment.minimumClassAreaRange, "fraction of the image")
        }
    }

    /// The rules for images without tags and for images with tags, with the values given.
    var rules: (untagged: PredictionAdjustment, tagged: PredictionAdjustment) {
        if noAdjust { return (.none, .none) }
        func override(_ base: PredictionAdjustment) -> PredictionAdjustment {
            PredictionAdjustment(backgroundBias: backgroundBias ?? base.backgroundBias,
                                 minimumClassArea: minimumClassArea ?? base.minimumClassArea)
        }
        return (override(.untagged), override(.tagged))
    }

    /// The weight of the localizers' maps (0: none).
    var fusionWeight: Float { noAdjust ? 0 : localizerWeight ?? LocalizerFusion.defaultWeight }

    /// Applies ``rules`` and ``fusionWeight`` to a pipeline; `registry` supplies the
    /// localizers when the pipeline has none yet.
    func configure(_ pipeline: inout SegmentationPipeline, registry: Registry) throws {
        (pipeline.adjustment, pipeline.taggedAdjustment) = rules
        if fusionWeight == 0 {
            pipeline.localizerFusion = nil
        } else if pipeline.localizerFusion == nil {
            pipeline.localizerFusion = try registry.localizerFusion(channels: pipeline.segmenter.classes, weight: fusionWeight)
        } else {
            pipeline.localizerFusion?.weight = fusionWeight
        }
    }
}
