import DivSeg
import DivSegIO
import Foundation

/// One image segmented by a ``ClassRegistry``: the image, its ``Segmentation`` (label map in
/// registry label ids, 0 = background, and per-class probabilities) and the names and
/// colours of the labels.
///
/// ```swift
/// let result = try registry.segment(imageAt: "giraffe.jpg")
/// try PNGEncoder.write(result.overlay(), to: "out/giraffe_overlay.png")
/// print(result.areas.map { "\($0.name) \($0.fraction) \($0.meanConfidence)" })
/// ```
public struct SegmentationResult: Sendable {
    /// The decoded image (RGB, as stored: EXIF orientation is not applied).
    public let image: Image
    /// The label map and per-class probabilities (masks, probability maps, areas).
    public let segmentation: Segmentation
    /// The name of every label id of the registry ("background" for 0).
    public let names: [UInt8: String]
    /// The registry's display colours.
    public let palette: ColorPalette

    init(image: Image, segmentation: Segmentation, registry: Registry) {
        self.image = image
        self.segmentation = segmentation
        var names: [UInt8: String] = [0: "background"]
        for (name, id) in registry.labels { names[UInt8(id)] = name }
        self.names = names
        self.palette = registry.palette
    }

    /// One registry label id per pixel, at the image's size.
    public var labels: LabelMap { segmentation.labels }

    /// A label's share of the image and the segmenter's mean confidence there.
    public struct Area: Sendable, Equatable {
        public var name: String
        public var label: UInt8
        /// Covered pixels / all pixels, in (0, 1].
        public var fraction: Double
        /// The mean probability of the label over its pixels.
        public var meanConfidence: Double
    }

    /// The labels present, largest first (``Segmentation/areas()`` with names).
    public var areas: [Area] {
        segmentation.areas().map { area in
            let label = UInt8(area.label)
            return Area(name: names[label] ?? "label \(area.label)", label: label, fraction: area.fraction,
                        meanConfidence: area.meanConfidence)
        }
    }

    /// The image with the labels' colours blended in (see ``Overlay``).
    public func overlay(alpha: Float = 0.5) -> Image {
        Overlay.render(image: image, labels: labels, palette: palette, alpha: alpha)
    }
}
