import DivSegCore

/// Rules applied to the segmenter's logits on the 64×84 grid before they are upsampled
/// (and before the optional dense CRF): a bias on the background channel, the removal of
/// classes that cover almost none of the image, and — when the image's tags are known — the
/// restriction to those tags.
///
/// Why: the segmenter learns from localizer labels in which background is ≈70 % of the
/// points, so on unseen images it labels too much background, and it scatters small
/// false-positive blobs of classes that are not in the image. Both rules were chosen on
/// held-out train2017 images (two folds of 129 images, localizers and segmenter trained on
/// one half's tags and scored on the other half's masks, three seeds; docs/RESULTS.md,
/// "Lever 8"): ``untagged`` raised mIoU from 13.17 to 14.52 on the mean of the three seeds,
/// and with the image's tags known, ``tagged`` from 17.19 (tags alone) to 25.72.
///
/// ```swift
/// var pipeline = SegmentationPipeline(extractor: extractor, segmenter: segmenter)
/// let labels = try pipeline.segment(photo)                                // .untagged rules
/// let tagged = try pipeline.segment(photo, tags: ["giraffe", "person"])   // .tagged rules
/// pipeline.adjustment = .none                                             // plain argmax
/// ```
public struct PredictionAdjustment: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Added to the background channel's logits (negative: less background).
    public var backgroundBias: Float
    /// A class whose argmax area on the 64×84 grid (after the bias) is below this fraction
    /// of the grid is removed from the image and its locations go to the next best channel;
    /// 0 keeps every class.
    public var minimumClassArea: Float

    /// The range ``validate()`` accepts for ``backgroundBias``.
    public static let backgroundBiasRange: ClosedRange<Float> = -50...50
    /// The range ``validate()`` accepts for ``minimumClassArea``.
    public static let minimumClassAreaRange: ClosedRange<Float> = 0...1
    /// The logit given to a removed or untagged channel: far below any real logit, finite so
    /// that interpolation and the CRF's softmax stay exact (its probability is 0).
    static let removedLogit: Float = -1e4

    public init(backgroundBias: Float = 0, minimumClassArea: Float = 0) {
        self.backgroundBias = backgroundBias
        self.minimumClassArea = minimumClassArea
    }

    /// The plain argmax of the segmenter (divseg's prediction before issue #11's lever 8, and
    /// the paper's).
    public static let none = PredictionAdjustment()
    /// The default for images whose tags are not known: background bias −3, classes under
    /// 2 % of the image removed.
    public static let untagged = PredictionAdjustment(backgroundBias: -3, minimumClassArea: 0.02)
    /// The default when the image's tags are given: only tagged classes (and background) can
    /// win, background bias −12, no area rule (the tags already exclude false classes).
    public static let tagged = PredictionAdjustment(backgroundBias: -12, minimumClassArea: 0)

    public var description: String {
        self == .none ? "none" : "background bias \(backgroundBias), minimum class area \(minimumClassArea)"
    }

    /// Throws ``PredictionAdjustmentError/invalidParameter(_:)`` for a value out of range
    /// (or not finite).
    public func validate() throws(PredictionAdjustmentError) {
        guard Self.backgroundBiasRange.contains(backgroundBias) else {
            throw .invalidParameter("background bias \(backgroundBias) is outside \(Self.backgroundBiasRange)")
        }
        guard Self.minimumClassAreaRange.contains(minimumClassArea) else {
            throw .invalidParameter("minimum class area \(minimumClassArea) is outside \(Self.minimumClassAreaRange) (a fraction of the image)")
        }
    }

    /// The adjusted logits.
    ///
    /// - Parameters:
    ///   - logits: `[channels, height, width]`, channel 0 background.
    ///   - allowedChannels: when given (one flag per channel), channels that are false can
    ///     never win; background is always allowed.
    /// - Precondition: `allowedChannels` has one flag per channel.
    public func apply(to logits: Tensor, allowedChannels: [Bool]? = nil) -> Tensor {
        let channels = logits.shape[0]
        precondition(allowedChannels == nil || allowedChannels!.count == channels, "one flag per channel is needed")
        guard self != .none || allowedChannels != nil, channels > 1 else { return logits }
        var adjusted = logits
        let plane = logits.scalars.count / channels
        adjusted.scalars.withUnsafeMutableBufferPointer { v in
            if let allowedChannels {
                for channel in 1..<channels where !allowedChannels[channel] {
                    for i in 0..<plane { v[channel * plane + i] = Self.removedLogit }
                }
            }
            if backgroundBias != 0 {
                for i in 0..<plane { v[i] += backgroundBias }
            }
            guard minimumClassArea > 0 else { return }
            // One pass: the areas are those of the argmax after the bias; a class under the
            // limit is removed whatever its removal does to the others' areas.
            var area = [Int](repeating: 0, count: channels)
            for i in 0..<plane {
                var best = 0
                for channel in 1..<channels where v[channel * plane + i] > v[best * plane + i] { best = channel }
                area[best] += 1
            }
            // Compared as fractions in Float, so that a class covering exactly the limit (e.g.
            // 0.1 of 10 locations) is kept, whatever the rounding of the limit.
            for channel in 1..<channels where area[channel] > 0 && Float(area[channel]) / Float(plane) < minimumClassArea {
                for i in 0..<plane { v[channel * plane + i] = Self.removedLogit }
            }
        }
        return adjusted
    }

    /// The allowed-channel flags for an image tagged with `tags`, given the segmenter's
    /// channel names (channel 0 background, always allowed).
    ///
    /// - Throws: ``PredictionAdjustmentError/unknownTag(_:known:)`` for a tag that is not one
    ///   of the channels (a typo would otherwise silently remove a class).
    public static func allowedChannels(tags: some Sequence<String>, channelNames: [String]) throws(PredictionAdjustmentError) -> [Bool] {
        var allowed = [Bool](repeating: false, count: channelNames.count)
        if !allowed.isEmpty { allowed[0] = true }
        for tag in tags {
            guard let channel = channelNames.indices.dropFirst().first(where: { channelNames[$0] == tag }) else {
                throw .unknownTag(tag, known: Array(channelNames.dropFirst()))
            }
            allowed[channel] = true
        }
        return allowed
    }
}
