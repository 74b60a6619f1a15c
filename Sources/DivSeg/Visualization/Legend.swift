import DivSegIO
import Foundation

/// A colour key drawn into a picture: one row per class with its colour swatch, its name and
/// a figure (e.g. its share of the image), on a dark panel in the top-left corner, in the
/// built-in ``BitmapFont``. Rows that do not fit in the image's height are summed up in a
/// last row, "+N more".
///
/// ```swift
/// let legend = Legend(entries: [.init(name: "giraffe", color: (255, 128, 0), detail: "31.2 %")])
/// let keyed = legend.draw(on: Overlay.render(image: photo, labels: labels, palette: palette))
/// ```
public struct Legend: Sendable {
    /// One row of the legend.
    public struct Entry: Sendable {
        public var name: String
        public var color: (r: UInt8, g: UInt8, b: UInt8)
        /// Text after the name, aligned in a column (e.g. "31.2 %").
        public var detail: String

        public init(name: String, color: (r: UInt8, g: UInt8, b: UInt8), detail: String = "") {
            self.name = name; self.color = color; self.detail = detail
        }
    }

    /// Where the legend's parts go in an image; all in pixels.
    public struct Layout: Sendable, Equatable {
        public var scale: Int
        /// The panel: x, y, width, height.
        public var panel: [Int]
        /// One swatch per drawn entry: x, y, side of the square of the class colour (inside
        /// its white frame).
        public var swatches: [[Int]]
        /// Entries summed up in the "+N more" row (0 when all fit).
        public var hidden: Int
    }

    public var entries: [Entry]

    /// The panel's colour.
    public static let panelColor: (r: UInt8, g: UInt8, b: UInt8) = (24, 24, 24)

    public init(entries: [Entry]) { self.entries = entries }

    /// The text scale for an image: 1 up to 375 pixels on the short side, then one more
    /// per 250 pixels.
    public static func scale(width: Int, height: Int) -> Int {
        max(1, Int((Double(min(width, height)) / 250).rounded()))
    }

    /// The layout of this legend in a `width × height` image.
    public func layout(width: Int, height: Int) -> Layout {
        let s = Self.scale(width: width, height: height)
        let margin = 4 * s, padding = 3 * s, row = (BitmapFont.cellHeight + 2) * s
        let fit = max(1, (height - 2 * margin - 2 * padding + 2 * s) / row)
        let shown = entries.count <= fit ? entries.count : max(0, fit - 1)
        let rows = shown + (shown < entries.count ? 1 : 0)
        let text = lines(shown: shown).map { BitmapFont.width(of: $0, scale: s) }.max() ?? 0
        let side = (BitmapFont.cellHeight - 1) * s
        let panel = [margin, margin, padding + side + 4 * s + text + padding, padding + rows * row - 2 * s + padding]
        let swatches = (0..<shown).map { k in
            [margin + padding + s, margin + padding + k * row + s, side - 2 * s]
        }
        return Layout(scale: s, panel: panel, swatches: swatches, hidden: entries.count - shown)
    }

    /// `image` (as RGB) with the legend drawn over its top-left corner.
    public func draw(on image: Image) -> Image {
        var pixels = Overlay.rgbPixels(of: image)
        let width = image.width, height = image.height
        guard !entries.isEmpty, width > 0, height > 0 else {
            return Image(width: width, height: height, channels: 3, pixels: pixels)
        }
        let layout = layout(width: width, height: height)
        let s = layout.scale
        fill(&pixels, width, height, layout.panel[0], layout.panel[1], layout.panel[2], layout.panel[3], Self.panelColor)
        let texts = lines(shown: layout.swatches.count)
        for (k, swatch) in layout.swatches.enumerated() {
            // A white frame, so black or dark class colours still show as a square.
            fill(&pixels, width, height, swatch[0] - s, swatch[1] - s, swatch[2] + 2 * s, swatch[2] + 2 * s, (255, 255, 255))
            fill(&pixels, width, height, swatch[0], swatch[1], swatch[2], swatch[2], entries[k].color)
        }
        let textX = layout.panel[0] + 3 * s + (BitmapFont.cellHeight - 1) * s + 4 * s
        let row = (BitmapFont.cellHeight + 2) * s
        for (k, line) in texts.enumerated() {
            BitmapFont.draw(line, into: &pixels, width: width, height: height,
                            x: textX, y: layout.panel[1] + 3 * s + k * row + s, scale: s, color: (255, 255, 255))
        }
        return Image(width: width, height: height, channels: 3, pixels: pixels)
    }

    /// The text rows: names padded to one width, then the details; "+N more" last if needed.
    private func lines(shown: Int) -> [String] {
        let nameWidth = entries.prefix(shown).map(\.name.count).max() ?? 0
        var lines = entries.prefix(shown).map { entry in
            entry.detail.isEmpty ? entry.name
                : entry.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + " " + entry.detail
        }
        if shown < entries.count { lines.append("+\(entries.count - shown) more") }
        return lines
    }

    private func fill(_ pixels: inout [UInt8], _ width: Int, _ height: Int, _ x: Int, _ y: Int, _ w: Int, _ h: Int,
                      _ color: (r: UInt8, g: UInt8, b: UInt8)) {
        for py in max(0, y)..<max(max(0, y), min(height, y + h)) {
            for px in max(0, x)..<max(max(0, x), min(width, x + w)) {
                let i = 3 * (py * width + px)
                pixels[i] = color.r
                pixels[i + 1] = color.g
                pixels[i + 2] = color.b
            }
        }
    }
}
