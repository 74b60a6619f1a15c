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
        /// Pixels labelled with it.
        public var pixels: Int
        /// Covered pixels / all pixels, in (0, 1].
        public var fraction: Double
        /// The mean probability of the label over its pixels.
        public var meanConfidence: Double
    }

    /// The labels present, largest first (``Segmentation/areas()`` with names).
    public var areas: [Area] {
        segmentation.areas().map { area in
            let label = UInt8(area.label)
            return Area(name: names[label] ?? "label \(area.label)", label: label, pixels: area.pixels, fraction: area.fraction,
                        meanConfidence: area.meanConfidence)
        }
    }

    /// The image with the labels' colours blended in (see ``Overlay``).
    public func overlay(alpha: Float = 0.5) -> Image {
        Overlay.render(image: image, labels: labels, palette: palette, alpha: alpha)
    }

    /// Areas under this share of the image are left out of legends and descriptions.
    public static let smallestListedArea = 0.0005

    /// The overlay `segment` writes: labels blended in, each region outlined (dark colours
    /// in a lighter tone), and a legend of the classes present (colour, name, share of the
    /// image; areas under ``smallestListedArea`` left out).
    public func overlayWithLegend(alpha: Float = 0.5) -> Image {
        let legend = Legend(entries: areas.filter { $0.label != 0 && $0.fraction >= Self.smallestListedArea }.map {
            Legend.Entry(name: $0.name, color: palette.color(of: $0.label),
                         detail: String(format: "%.1f %%", $0.fraction * 100))
        })
        let overlay = Overlay.render(image: image, labels: labels, palette: palette, alpha: alpha,
                                     outline: Overlay.outlineWidth(width: image.width, height: image.height))
        return legend.draw(on: overlay)
    }

    /// A label's pixels as a grey image: 255 inside, 0 outside.
    public func maskImage(label: UInt8) -> Image {
        let mask = segmentation.mask(label: label)
        return Image(width: mask.width, height: mask.height, channels: 1, pixels: mask.labels.map { $0 * 255 })
    }

    /// A label's probability per pixel as a grey image (probability × 255), nil for a label
    /// the segmenter has no channel for.
    public func probabilityImage(label: UInt8) -> Image? {
        segmentation.probabilityMap(label: label).map { map in
            Image(width: image.width, height: image.height, channels: 1,
                  pixels: map.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) })
        }
    }

    /// A label's pixels in COCO's compressed run-length encoding (what pycocotools reads).
    public func runLength(label: UInt8) -> (size: [Int], counts: String) {
        COCORunLength.encode(segmentation.mask(label: label))
    }
}
