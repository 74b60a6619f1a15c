import DivSegCore
import DivSegIO

/// Colour overlays of label maps on images, for looking at predictions and ground truth.
///
/// ```swift
/// let photo = try ImageDecoder.decodeRGB(contentsOf: "coco/000000000025.jpg")
/// let prediction = LabelUpsampler.labels(fromLogits: logits, height: photo.height, width: photo.width)
/// try PNGEncoder.write(Overlay.render(image: photo, labels: prediction), to: "out/000000000025_overlay.png")
/// ```
public enum Overlay {
    /// `image` with every labelled pixel blended towards its label's palette colour:
    /// `out = (1 − alpha) · pixel + alpha · colour`, rounded.
    ///
    /// - Label 0 (background) is left uncoloured.
    /// - Label 255 (ignore / VOC object boundaries) is left uncoloured too, unless
    ///   `drawIgnored` is true; then it gets its palette colour (VOC: cream (224, 224, 192)).
    /// - A label map of another size is resized to the image with nearest neighbour
    ///   (pixel centres: image pixel `x` reads label `⌊(x + ½) · labelWidth / imageWidth⌋`).
    /// - Gray images (1 or 2 channels) are shown as gray RGB; alpha channels are dropped.
    ///
    /// - Parameters:
    ///   - alpha: opacity of the label colours, clamped to `0...1`.
    ///   - outline: width in pixels of an opaque outline drawn inside the edge of every
    ///     coloured region, in the label's colour, lightened when it is dark (so VOC's cat,
    ///     (64, 0, 0), stays visible on a black cat); 0 draws none. ``outlineWidth(width:height:)``
    ///     suits the image size.
    /// - Returns: an RGB image (`channels == 3`) of the image's size.
    /// - Precondition: the label map is non-empty when the image is.
    public static func render(image: Image, labels: LabelMap, palette: ColorPalette = .voc,
                              alpha: Float = 0.5, drawIgnored: Bool = false, outline: Int = 0) -> Image {
        let width = image.width, height = image.height
        let rgb = rgbPixels(of: image)
        if width == 0 || height == 0 { return Image(width: width, height: height, channels: 3, pixels: rgb) }
        precondition(labels.width > 0 && labels.height > 0, "cannot overlay an empty label map")
        let a = Int((max(0, min(1, alpha.isNaN ? 0 : alpha)) * 256).rounded())
        // Per label: the colour premultiplied by alpha (+ rounding), or -1 for uncoloured.
        var tint = [Int](repeating: -1, count: 256 * 3)
        for label in 1..<256 where label != 255 || drawIgnored {
            let c = palette.color(of: UInt8(label))
            tint[3 * label] = Int(c.r) * a + 128
            tint[3 * label + 1] = Int(c.g) * a + 128
            tint[3 * label + 2] = Int(c.b) * a + 128
        }
        let keep = 256 - a
        // Nearest-neighbour source column for each output column (identity when sizes agree).
        let columns = (0..<width).map { x in min(labels.width - 1, (2 * x + 1) * labels.width / (2 * width)) }
        var out = rgb
        out.withUnsafeMutableBufferPointer { o in
            labels.labels.withUnsafeBufferPointer { l in
                tint.withUnsafeBufferPointer { t in
                    columns.withUnsafeBufferPointer { cols in
                        let op = o.baseAddress!, lp = l.baseAddress!, tp = t.baseAddress!
                        Parallel.forEachChunk(of: 0..<height, minimumChunk: 32) { rows in
                            for y in rows {
                                let sy = min(labels.height - 1, (2 * y + 1) * labels.height / (2 * height))
                                let labelRow = lp + sy * labels.width
                                let pixelRow = op + y * width * 3
                                for x in 0..<width {
                                    let label = Int(labelRow[cols[x]])
                                    let r = tp[3 * label]
                                    if r < 0 { continue }
                                    let p = pixelRow + 3 * x
                                    p[0] = UInt8(truncatingIfNeeded: (Int(p[0]) * keep + r) >> 8)
                                    p[1] = UInt8(truncatingIfNeeded: (Int(p[1]) * keep + tp[3 * label + 1]) >> 8)
                                    p[2] = UInt8(truncatingIfNeeded: (Int(p[2]) * keep + tp[3 * label + 2]) >> 8)
                                }
                            }
                        }
                    }
                }
            }
        }
        if outline > 0 {
            let rows = (0..<height).map { y in min(labels.height - 1, (2 * y + 1) * labels.height / (2 * height)) }
            drawOutline(into: &out, width: width, height: height, outline: outline, palette: palette,
                        coloured: { tint[3 * Int($0)] >= 0 },
                        label: { x, y in labels.labels[rows[y] * labels.width + columns[x]] })
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// An outline width that stays visible at the image's size: 1 pixel up to 400 pixels on
    /// the short side, one more per 400 after that.
    public static func outlineWidth(width: Int, height: Int) -> Int {
        max(1, min(width, height) / 400 + 1)
    }

    /// The colour of `label`'s outline: its palette colour, mixed 60 % towards white when
    /// its CIELAB lightness is below 50.
    public static func outlineColor(of label: UInt8, palette: ColorPalette) -> (r: UInt8, g: UInt8, b: UInt8) {
        let c = palette.color(of: label)
        guard ColorPalette.lab(of: c).0 < 50 else { return c }
        func lighten(_ v: UInt8) -> UInt8 {
            let mixed: Int = (2 * Int(v) + 767) / 5      // 40 % colour + 60 % white, rounded
            return UInt8(mixed)
        }
        return (lighten(c.r), lighten(c.g), lighten(c.b))
    }

    /// Paints, opaque, every pixel of a coloured label within `outline − 1` steps of a pixel
    /// whose 4-neighbour has another label (the image border is not an edge).
    private static func drawOutline(into out: inout [UInt8], width: Int, height: Int, outline: Int,
                                    palette: ColorPalette, coloured: (UInt8) -> Bool,
                                    label: (Int, Int) -> UInt8) {
        var map = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height { for x in 0..<width { map[y * width + x] = label(x, y) } }
        var colors = [(r: UInt8, g: UInt8, b: UInt8)?](repeating: nil, count: 256)
        for l in 0..<256 where coloured(UInt8(l)) { colors[l] = outlineColor(of: UInt8(l), palette: palette) }
        // Pixels next to a label change (4-neighbours), then grown to the outline's width.
        var distance = [Int](repeating: Int.max, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x, l = map[i]
                if (x > 0 && map[i - 1] != l) || (x + 1 < width && map[i + 1] != l)
                    || (y > 0 && map[i - width] != l) || (y + 1 < height && map[i + width] != l) {
                    distance[i] = 0
                }
            }
        }
        for _ in 1..<max(outline, 1) {
            var next = distance
            for y in 0..<height {
                for x in 0..<width where distance[y * width + x] == Int.max {
                    let i = y * width + x
                    let near = (x > 0 && distance[i - 1] != Int.max) || (x + 1 < width && distance[i + 1] != Int.max)
                        || (y > 0 && distance[i - width] != Int.max) || (y + 1 < height && distance[i + width] != Int.max)
                    if near { next[i] = 1 }
                }
            }
            distance = next
        }
        for i in 0..<(width * height) where distance[i] != Int.max {
            guard let c = colors[Int(map[i])] else { continue }
            out[3 * i] = c.r
            out[3 * i + 1] = c.g
            out[3 * i + 2] = c.b
        }
    }

    /// The pixels of `image` as interleaved RGB: gray replicated, alpha dropped.
    static func rgbPixels(of image: Image) -> [UInt8] {
        let n = image.width * image.height
        switch image.channels {
        case 3:
            return image.pixels
        case 4:
            return [UInt8](unsafeUninitializedCapacity: 3 * n) { buffer, count in
                for i in 0..<n {
                    buffer[3 * i] = image.pixels[4 * i]
                    buffer[3 * i + 1] = image.pixels[4 * i + 1]
                    buffer[3 * i + 2] = image.pixels[4 * i + 2]
                }
                count = 3 * n
            }
        default: // 1 gray, 2 gray + alpha
            let stride = image.channels
            return [UInt8](unsafeUninitializedCapacity: 3 * n) { buffer, count in
                for i in 0..<n {
                    let v = image.pixels[stride * i]
                    buffer[3 * i] = v
                    buffer[3 * i + 1] = v
                    buffer[3 * i + 2] = v
                }
                count = 3 * n
            }
        }
    }
}
