import DivSegCore
import DivSegIO

/// A segmented image: its label map and, per segmenter channel, the probability of that
/// class at every pixel (the softmax of the upsampled logits, or the dense CRF's marginals).
/// From these come what users ask of a result: which classes cover how much of the image and
/// how sure the segmenter is (``areas()``), a binary mask per class (``mask(label:)``) and a
/// probability map per class (``probabilityMap(label:)``).
///
/// ```swift
/// let result = try pipeline.segmentation(photo)
/// for area in result.areas() {           // largest first, classes with no pixel left out
///     print(area.label, area.fraction, area.meanConfidence)
/// }
/// try PNGEncoder.write(result.labels, palette: .distinct, to: "out/photo.png")
/// ```
public struct Segmentation: Sendable {
    /// Label ids per pixel, at the image's size.
    public let labels: LabelMap
    /// `[channels, height, width]`: each channel's probability per pixel, summing to 1.
    public let probabilities: Tensor
    /// The label id of each channel (channel 0 = background = label 0).
    public let channelLabels: [UInt8]

    /// How much of the image a label covers, and how confident the segmenter is there.
    public struct Area: Sendable, Equatable, Codable {
        /// The label id.
        public var label: Int
        /// Pixels with this label.
        public var pixels: Int
        /// `pixels / (width · height)`.
        public var fraction: Double
        /// The mean, over this label's pixels, of its probability there.
        public var meanConfidence: Double
    }

    /// - Precondition: `probabilities` is `[channelLabels.count, labels.height, labels.width]`.
    public init(labels: LabelMap, probabilities: Tensor, channelLabels: [UInt8]) {
        precondition(probabilities.shape == [channelLabels.count, labels.height, labels.width],
                     "probabilities must be [channels, height, width]")
        self.labels = labels
        self.probabilities = probabilities
        self.channelLabels = channelLabels
    }

    /// Every label present (background included), largest area first (ties: lower label id).
    public func areas() -> [Area] {
        let plane = labels.width * labels.height
        var channelOf = [Int](repeating: -1, count: 256)
        for (channel, label) in channelLabels.enumerated() where channelOf[Int(label)] < 0 {
            channelOf[Int(label)] = channel
        }
        var pixels = [Int](repeating: 0, count: 256)
        var confidence = [Double](repeating: 0, count: 256)
        probabilities.scalars.withUnsafeBufferPointer { p in
            for (i, label) in labels.labels.enumerated() {
                pixels[Int(label)] += 1
                let channel = channelOf[Int(label)]
                if channel >= 0 { confidence[Int(label)] += Double(p[channel * plane + i]) }
            }
        }
        return (0..<256).filter { pixels[$0] > 0 }.map { label in
            Area(label: label, pixels: pixels[label], fraction: Double(pixels[label]) / Double(max(plane, 1)),
                 meanConfidence: confidence[label] / Double(pixels[label]))
        }.sorted { ($0.pixels, -$0.label) > ($1.pixels, -$1.label) }
    }

    /// A binary mask of `label`: 1 where the pixel has that label, else 0.
    public func mask(label: UInt8) -> LabelMap {
        LabelMap(width: labels.width, height: labels.height, labels: labels.labels.map { $0 == label ? 1 : 0 })
    }

    /// The probability of `label` at every pixel (row-major, `width · height` values), or nil
    /// when no segmenter channel has that label.
    public func probabilityMap(label: UInt8) -> [Float]? {
        guard let channel = channelLabels.firstIndex(of: label) else { return nil }
        let plane = labels.width * labels.height
        return Array(probabilities.scalars[channel * plane ..< (channel + 1) * plane])
    }
}

extension SegmentationPipeline {
    /// ``segment(_:tags:)`` with the per-class probabilities kept (``Segmentation``): the
    /// label map is the one ``segment(_:tags:)`` returns; the probabilities are the softmax of
    /// the upsampled logits after the prediction rules (``PredictionAdjustment``), or with
    /// `crf` set the CRF's marginals (whose argmax is the label map). Holds
    /// `[channels, height, width]` floats (28 MB for 23 classes at 640×480).
    public func segmentation(_ image: Image, tags: [String]? = nil) throws -> Segmentation {
        let logits = try adjustedLogits(try logits(image), tags: tags)
        if let crf {
            let marginals = try DenseCRF(parameters: crf).marginals(image: image, logits: logits)
            return Segmentation(labels: Self.argmax(marginals, labelIDs: channelLabels),
                                probabilities: marginals, channelLabels: channelLabels)
        }
        let probabilities = LabelUpsampler.probabilities(fromLogits: logits, height: image.height, width: image.width)
        return Segmentation(labels: LabelUpsampler.labels(fromLogits: logits, height: image.height, width: image.width,
                                                          labelIDs: channelLabels),
                            probabilities: probabilities, channelLabels: channelLabels)
    }

    /// The first-maximum channel of `[C, H, W]` values per pixel, as label ids.
    static func argmax(_ values: Tensor, labelIDs: [UInt8]) -> LabelMap {
        let c = values.shape[0], height = values.shape[1], width = values.shape[2], plane = height * width
        var labels = [UInt8](repeating: labelIDs[0], count: plane)
        values.scalars.withUnsafeBufferPointer { v in
            var best = Array(v[0..<plane])
            for channel in 1..<c {
                let base = channel * plane
                for i in 0..<plane where v[base + i] > best[i] {
                    best[i] = v[base + i]
                    labels[i] = labelIDs[channel]
                }
            }
        }
        return LabelMap(width: width, height: height, labels: labels)
    }
}
