import DivSeg
import DivSegIO
import Foundation

/// One image segmented by a ``ClassRegistry``: the image, its label map (registry label
/// ids, 0 = background) and the names and colours of the labels.
///
/// ```swift
/// let result = try registry.segment(imageAt: "giraffe.jpg")
/// try PNGEncoder.write(result.overlay(), to: "out/giraffe_overlay.png")
/// print(result.areas.map { "\($0.name) \($0.fraction)" })
/// ```
public struct SegmentationResult: Sendable {
    /// The decoded image (RGB, as stored: EXIF orientation is not applied).
    public let image: Image
    /// One registry label id per pixel, at the image's size.
    public let labels: LabelMap
    /// The name of every label id in ``labels`` ("background" for 0).
    public let names: [UInt8: String]
    /// The registry's colours (each class's manifest colour, VOC's otherwise).
    public let palette: ColorPalette

    init(image: Image, labels: LabelMap, registry: Registry) {
        self.image = image
        self.labels = labels
        var names: [UInt8: String] = [0: "background"]
        for (name, id) in registry.labels { names[UInt8(id)] = name }
        self.names = names
        self.palette = registry.palette
    }

    /// The share of the image one label covers.
    public struct Area: Sendable, Equatable {
        public var name: String
        public var label: UInt8
        /// Covered pixels / all pixels, in (0, 1].
        public var fraction: Double
    }

    /// The share of the image each label covers, largest first; labels that cover no pixel
    /// are left out.
    public var areas: [Area] {
        var counts = [Int](repeating: 0, count: 256)
        for label in labels.labels { counts[Int(label)] += 1 }
        let total = Double(max(1, labels.labels.count))
        var areas: [Area] = []
        for label in counts.indices where counts[label] > 0 {
            let id = UInt8(label)
            areas.append(Area(name: names[id] ?? "label \(label)", label: id, fraction: Double(counts[label]) / total))
        }
        return areas.sorted { $0.fraction != $1.fraction ? $0.fraction > $1.fraction : $0.label < $1.label }
    }

    /// The image with the labels' colours blended in (see ``Overlay/render(image:labels:palette:alpha:drawIgnored:)``).
    public func overlay(alpha: Float = 0.5) -> Image {
        Overlay.render(image: image, labels: labels, palette: palette, alpha: alpha)
    }
}
