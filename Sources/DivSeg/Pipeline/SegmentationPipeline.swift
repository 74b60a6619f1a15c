import DivSegCore
import DivSegIO

/// Image in, label map out: features → segmenter logits on the 64×84 grid → bilinear
/// upsampling of the logits to the original size → argmax (TheMethod.md, "Prediction"), or,
/// with `crf` set, softmax → dense CRF (``DenseCRF``) → argmax.
///
/// ```swift
/// var pipeline = SegmentationPipeline(extractor: extractor, segmenter: segmenter,
///                                     channelLabels: registry.channelLabels)
/// let labels = try pipeline.segment(image)        // original size, label ids per pixel
/// try PNGEncoder.write(labels, palette: .voc, to: "out/giraffe.png")
/// pipeline.crf = DenseCRFParameters()             // refine with the dense CRF from now on
/// ```
public struct SegmentationPipeline: Sendable {
    public let extractor: HypercolumnExtractor
    public let segmenter: Segmenter
    /// The label written for each segmenter channel (channel 0 = background = 0).
    public let channelLabels: [UInt8]
    /// When set, ``segment(_:)`` refines the segmenter's upsampled probabilities with a dense
    /// CRF on the image (validated when segmenting).
    public var crf: DenseCRFParameters?

    public init(extractor: HypercolumnExtractor, segmenter: Segmenter, channelLabels: [UInt8]? = nil,
                crf: DenseCRFParameters? = nil) {
        self.extractor = extractor
        self.segmenter = segmenter
        self.crf = crf
        self.channelLabels = channelLabels ?? (0..<segmenter.classes.count).map { UInt8($0) }
        precondition(self.channelLabels.count == segmenter.classes.count,
                     "one label per segmenter channel is needed (\(segmenter.classes.count))")
    }

    /// Logits `[classes, 64, 84]` of an image.
    public func logits(_ image: Image) throws -> Tensor {
        try segmenter.logits(extractor.extract(from: image))
    }

    /// The label map of an image at its original resolution.
    ///
    /// - Throws: ``SegmenterError`` from the segmenter, ``DenseCRFError`` from the CRF
    ///   (e.g. invalid `crf` parameters).
    public func segment(_ image: Image) throws -> LabelMap {
        try labels(fromLogits: logits(image), image: image)
    }

    /// The label map for `image` from its segmenter logits (``logits(_:)``), at the image's
    /// size: what ``segment(_:)`` does after the features, for callers that already have the
    /// logits (e.g. from cached features).
    public func labels(fromLogits logits: Tensor, image: Image) throws(DenseCRFError) -> LabelMap {
        if let crf {
            return try DenseCRF(parameters: crf).labels(image: image, logits: logits, labelIDs: channelLabels)
        }
        return LabelUpsampler.labels(fromLogits: logits, height: image.height, width: image.width,
                                     labelIDs: channelLabels)
    }
}
