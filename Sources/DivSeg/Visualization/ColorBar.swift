import DivSegIO
import Foundation

/// A colour key for a heat map: a vertical bar of the colour map, hottest at the top, with
/// the values at its top, middle and bottom and an optional title, on a dark panel in the
/// top-right corner, in the built-in ``BitmapFont``.
///
/// ```swift
/// let range = HeatMap.displayRange(of: scores)!          // what render() maps to the colours
/// let heat = HeatMap.render(image: photo, scores: scores, width: 84, height: 64, range: range)
/// let keyed = ColorBar(range: range, title: "giraffe score").draw(on: heat)
/// ```
public struct ColorBar: Sendable {
    public var colorMap: ColorMap
    /// The values shown at the bottom and top of the bar.
    public var range: ClosedRange<Float>
    public var title: String

    /// Where the bar's parts go in an image; all in pixels.
    public struct Layout: Sendable, Equatable {
        public var scale: Int
        /// The panel: x, y, width, height.
        public var panel: [Int]
        /// The bar itself: x, y, width, height (top row = hottest colour).
        public var bar: [Int]
    }

    public init(colorMap: ColorMap = .inferno, range: ClosedRange<Float>, title: String = "") {
        self.colorMap = colorMap; self.range = range; self.title = title
    }

    /// The labels written beside the bar, top to bottom.
    public var labels: [String] {
        let lo = range.lowerBound, hi = range.upperBound
        return [hi, (lo + hi) / 2, lo].map { String(format: "%.2f", $0) }
    }

    /// The layout in a `width × height` image.
    public func layout(width: Int, height: Int) -> Layout {
        let s = Legend.scale(width: width, height: height)
        let margin = 4 * s, padding = 3 * s, line = BitmapFont.cellHeight * s
        let titleHeight = title.isEmpty ? 0 : line + 2 * s
        let barHeight = max(3 * line, min(height / 3, height - 2 * margin - 2 * padding - titleHeight))
        let barWidth = 10 * s
        let textWidth = labels.map { BitmapFont.width(of: $0, scale: s) }.max()!
        let inner = max(barWidth + 4 * s + textWidth, BitmapFont.width(of: title, scale: s))
        let panelWidth = padding + inner + padding
        let panel = [width - margin - panelWidth, margin, panelWidth, padding + titleHeight + barHeight + padding]
        let bar = [panel[0] + padding, margin + padding + titleHeight, barWidth, barHeight]
        return Layout(scale: s, panel: panel, bar: bar)
    }

    /// `image` (as RGB) with the colour bar drawn over its top-right corner.
    public func draw(on image: Image) -> Image {
        var pixels = Overlay.rgbPixels(of: image)
        let width = image.width, height = image.height
        guard width > 0, height > 0 else { return Image(width: width, height: height, channels: 3, pixels: pixels) }
        let layout = layout(width: width, height: height)
        let s = layout.scale, line = BitmapFont.cellHeight * s
        func put(_ x: Int, _ y: Int, _ c: (r: UInt8, g: UInt8, b: UInt8)) {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            let i = 3 * (y * width + x)
            pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b
        }
        let p = layout.panel, b = layout.bar
        for y in p[1]..<(p[1] + p[3]) { for x in p[0]..<(p[0] + p[2]) { put(x, y, Legend.panelColor) } }
        for row in 0..<b[3] {
            let t = b[3] > 1 ? Float(b[3] - 1 - row) / Float(b[3] - 1) : 1
            let c = colorMap.color(at: t)
            for x in b[0]..<(b[0] + b[2]) { put(x, b[1] + row, c) }
        }
        if !title.isEmpty {
            BitmapFont.draw(title, into: &pixels, width: width, height: height,
                            x: p[0] + 3 * s, y: p[1] + 3 * s, scale: s, color: (255, 255, 255))
        }
        let textX = b[0] + b[2] + 4 * s
        let rows = [b[1], b[1] + (b[3] - line) / 2, b[1] + b[3] - line + s]
        for (label, y) in zip(labels, rows) {
            BitmapFont.draw(label, into: &pixels, width: width, height: height, x: textX, y: y, scale: s,
                            color: (255, 255, 255))
        }
        return Image(width: width, height: height, channels: 3, pixels: pixels)
    }
}
