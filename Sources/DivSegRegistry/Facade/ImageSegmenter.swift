import DivSeg
import DivSegIO

/// A registry's segmenter, loaded once, for segmenting many images with one class set:
/// what ``ClassRegistry/segmenter(crf:allowStale:)`` returns.
///
/// ```swift
/// let segmenter = try Backbone.load().registry(at: "classes").segmenter()
/// for path in ["a.jpg", "b.jpg"] {
///     let result = try segmenter.segment(imageAt: path)
///     try PNGEncoder.write(result.overlayWithLegend(), to: path + "_overlay.png")
/// }
/// ```
public struct ImageSegmenter: Sendable {
    /// The registry snapshot the segmenter was loaded from (names, colours, problems).
    public let registry: Registry
    /// The pipeline: backbone, segmenter, label ids, optional CRF, prediction rules
    /// (``SegmentationPipeline/adjustment``; set them here before segmenting).
    public var pipeline: SegmentationPipeline
    /// Set when the segmenter is stale and was loaded on purpose: which classes it never
    /// labels or may still label (for a warning).
    public let staleWarning: String?

    init(registry: Registry, pipeline: SegmentationPipeline, staleWarning: String?) {
        self.registry = registry
        self.pipeline = pipeline
        self.staleWarning = staleWarning
    }

    /// The names of the classes the segmenter can label, in label order (background not included).
    public var classNames: [String] {
        pipeline.channelLabels.dropFirst().compactMap { registry.className(label: Int($0)) }
    }

    /// Segments the PNG or JPEG image at `path`.
    ///
    /// - Parameter tags: the classes the image is known to contain (names from
    ///   ``classNames``), or nil: with tags only those classes and background can be labelled
    ///   (``SegmentationPipeline/taggedAdjustment``).
    /// - Throws: ``ImageError`` naming the file, ``PredictionAdjustmentError`` for a tag that
    ///   is not a class, or the pipeline's errors.
    ///
    /// ```swift
    /// let result = try segmenter.segment(imageAt: "zoo.jpg", tags: ["giraffe", "person"])
    /// ```
    public func segment(imageAt path: String, tags: [String]? = nil) throws -> SegmentationResult {
        try segment(ImageDecoder.decodeRGB(contentsOf: path), tags: tags)
    }

    /// Segments a decoded RGB image (with its tags when known).
    public func segment(_ image: Image, tags: [String]? = nil) throws -> SegmentationResult {
        SegmentationResult(image: image, segmentation: try pipeline.segmentation(image, tags: tags), registry: registry)
    }
}
