import DivSegCore
import DivSegIO

/// Image in, label map out: features → segmenter logits on the 64×84 grid → bilinear
/// upsampling of the logits to the original size → argmax (DESIGN.md §1, "Prediction").
///
/// ```swift
/// let pipeline = SegmentationPipeline(extractor: extractor, segmenter: segmenter,
///                                     channelLabels: registry.channelLabels)
/// let labels = try pipeline.segment(image)        // original size, label ids per pixel
/// try PNGEncoder.write(labels, palette: .voc, to: "out/giraffe.png")
/// ```
public struct SegmentationPipeline: Sendable {
    public let extractor: HypercolumnExtractor
    public let segmenter: Segmenter
    /// The label written for each segmenter channel (channel 0 = background = 0).
    public let channelLabels: [UInt8]

    public init(extractor: HypercolumnExtractor, segmenter: Segmenter, channelLabels: [UInt8]? = nil) {
        self.extractor = extractor
        self.segmenter = segmenter
        self.channelLabels = channelLabels ?? (0..<segmenter.classes.count).map { UInt8($0) }
        precondition(self.channelLabels.count == segmenter.classes.count,
                     "one label per segmenter channel is needed (\(segmenter.classes.count))")
    }

    /// Logits `[classes, 64, 84]` of an image.
    public func logits(_ image: Image) throws -> Tensor {
        try segmenter.logits(extractor.extract(from: image))
    }

    /// The label map of an image at its original resolution.
    public func segment(_ image: Image) throws -> LabelMap {
        LabelUpsampler.labels(fromLogits: try logits(image), height: image.height, width: image.width,
                              labelIDs: channelLabels)
    }
}
