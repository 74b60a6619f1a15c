import DivSegCore
import DivSegIO

/// Image in, label map out: features → segmenter logits on the 64×84 grid → the prediction
/// rules (``PredictionAdjustment``: background bias, small classes removed, the image's tags
/// when known) → bilinear upsampling of the logits to the original size → argmax
/// (TheMethod.md, "Prediction"), or, with `crf` set, softmax → dense CRF (``DenseCRF``) → argmax.
///
/// ```swift
/// var pipeline = SegmentationPipeline(extractor: extractor, segmenter: segmenter,
///                                     channelLabels: registry.channelLabels)
/// let labels = try pipeline.segment(image)        // original size, label ids per pixel
/// try PNGEncoder.write(labels, palette: .voc, to: "out/giraffe.png")
/// let known = try pipeline.segment(image, tags: ["giraffe"])   // only giraffe or background
/// pipeline.crf = DenseCRFParameters()             // refine with the dense CRF from now on
/// pipeline.adjustment = .none                     // the segmenter's plain argmax (the paper's)
/// ```
public struct SegmentationPipeline: Sendable {
    public let extractor: HypercolumnExtractor
    public let segmenter: Segmenter
    /// The label written for each segmenter channel (channel 0 = background = 0).
    public let channelLabels: [UInt8]
    /// When set, ``segment(_:tags:)`` refines the segmenter's upsampled probabilities with a dense
    /// CRF on the image (validated when segmenting).
    public var crf: DenseCRFParameters?
    /// The rules applied to the logits of an image whose tags are not known
    /// (``PredictionAdjustment/untagged`` by default; ``PredictionAdjustment/none`` for the
    /// plain argmax).
    public var adjustment: PredictionAdjustment
    /// The rules applied, after the restriction to its tags, to an image whose tags are given.
    public var taggedAdjustment: PredictionAdjustment

    public init(extractor: HypercolumnExtractor, segmenter: Segmenter, channelLabels: [UInt8]? = nil,
                crf: DenseCRFParameters? = nil, adjustment: PredictionAdjustment = .untagged,
                taggedAdjustment: PredictionAdjustment = .tagged) {
        self.extractor = extractor
        self.segmenter = segmenter
        self.crf = crf
        self.adjustment = adjustment
        self.taggedAdjustment = taggedAdjustment
        self.channelLabels = channelLabels ?? (0..<segmenter.classes.count).map { UInt8($0) }
        precondition(self.channelLabels.count == segmenter.classes.count,
                     "one label per segmenter channel is needed (\(segmenter.classes.count))")
    }

    /// Logits `[classes, 64, 84]` of an image, as the segmenter gives them (no rules applied).
    public func logits(_ image: Image) throws -> Tensor {
        try segmenter.logits(extractor.extract(from: image))
    }

    /// The logits after the prediction rules: ``adjustment`` when `tags` is nil, else only the
    /// tagged classes (and background) allowed and ``taggedAdjustment``.
    ///
    /// - Throws: ``PredictionAdjustmentError`` for a tag that is not a segmenter class or a
    ///   rule out of range.
    public func adjustedLogits(_ logits: Tensor, tags: [String]? = nil) throws(PredictionAdjustmentError) -> Tensor {
        let rules = tags == nil ? adjustment : taggedAdjustment
        try rules.validate()
        let allowed = try tags.map { tags throws(PredictionAdjustmentError) in
            try PredictionAdjustment.allowedChannels(tags: tags, channelNames: segmenter.classes)
        }
        return rules.apply(to: logits, allowedChannels: allowed)
    }

    /// The label map of an image at its original resolution.
    ///
    /// - Parameter tags: the classes the image is known to contain (names of segmenter
    ///   classes), or nil when they are not known.
    /// - Throws: ``SegmenterError`` from the segmenter, ``PredictionAdjustmentError`` for an
    ///   unknown tag, ``DenseCRFError`` from the CRF (e.g. invalid `crf` parameters).
    public func segment(_ image: Image, tags: [String]? = nil) throws -> LabelMap {
        try labels(fromLogits: logits(image), image: image, tags: tags)
    }

    /// The label map for `image` from its raw segmenter logits (``logits(_:)``), at the
    /// image's size: what ``segment(_:tags:)`` does after the features, for callers that
    /// already have the logits (e.g. from cached features).
    public func labels(fromLogits logits: Tensor, image: Image, tags: [String]? = nil) throws -> LabelMap {
        let adjusted = try adjustedLogits(logits, tags: tags)
        if let crf {
            return try DenseCRF(parameters: crf).labels(image: image, logits: adjusted, labelIDs: channelLabels)
        }
        return LabelUpsampler.labels(fromLogits: adjusted, height: image.height, width: image.width,
                                     labelIDs: channelLabels)
    }
}
