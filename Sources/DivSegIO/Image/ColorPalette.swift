/// 256 RGB colours, one per label value, as written into palette PNGs.
///
/// Stored flat (`rgb[3 * label ..< 3 * label + 3]`) because tuples are not `Equatable`.
///
/// ```swift
/// let (r, g, b) = ColorPalette.voc.color(of: 15)          // person: (192, 128, 128)
/// var palette = ColorPalette.voc
/// palette.setColor((0, 255, 0), of: 21)                   // a class VOC does not have
/// try PNGEncoder.write(prediction, palette: palette, to: "out/2007_000129.png")
/// ```
public struct ColorPalette: Sendable, Equatable {
    /// 768 bytes: r, g, b of label 0, then of label 1, …
    public private(set) var rgb: [UInt8]

    /// - Parameter rgb: up to 256 RGB triples, flat; missing entries are black.
    /// - Precondition: `rgb.count` is a multiple of 3 and at most 768.
    public init(rgb: [UInt8]) {
        precondition(rgb.count % 3 == 0 && rgb.count <= 768,
                     "ColorPalette needs up to 256 RGB triples (≤ 768 bytes), got \(rgb.count) bytes")
        self.rgb = rgb + [UInt8](repeating: 0, count: 768 - rgb.count)
    }

    /// - Parameter colors: up to 256 colours, label 0 first; missing entries are black.
    public init(colors: [(r: UInt8, g: UInt8, b: UInt8)]) {
        precondition(colors.count <= 256, "ColorPalette holds 256 colours, got \(colors.count)")
        self.init(rgb: colors.flatMap { [$0.r, $0.g, $0.b] })
    }

    /// All 256 colours, label 0 first.
    public var colors: [(r: UInt8, g: UInt8, b: UInt8)] {
        get { (0..<256).map { color(of: UInt8($0)) } }
        set { self = ColorPalette(colors: newValue) }
    }

    /// The colour shown for `label`.
    public func color(of label: UInt8) -> (r: UInt8, g: UInt8, b: UInt8) {
        let i = Int(label) * 3
        return (rgb[i], rgb[i + 1], rgb[i + 2])
    }

    /// Replaces the colour shown for `label`, e.g. for a class added beyond VOC's 20.
    public mutating func setColor(_ color: (r: UInt8, g: UInt8, b: UInt8), of label: UInt8) {
        let i = Int(label) * 3
        rgb[i] = color.r
        rgb[i + 1] = color.g
        rgb[i + 2] = color.b
    }

    /// The PASCAL VOC colour map (the devkit's `labelcolormap`): bits 0, 1, 2 of the label
    /// go to the top bit of r, g, b, bits 3, 4, 5 to the next one, and so on. So
    /// 0 → black, 1 (aeroplane) → (128, 0, 0), 15 (person) → (192, 128, 128) and
    /// 255 (ignore/boundary) → (224, 224, 192), exactly as in the VOC ground-truth PNGs.
    public static let voc: ColorPalette = {
        var rgb = [UInt8](repeating: 0, count: 768)
        for label in 0..<256 {
            var (r, g, b, c) = (0, 0, 0, label)
            for bit in 0..<8 {
                r |= (c & 1) << (7 - bit)
                g |= ((c >> 1) & 1) << (7 - bit)
                b |= ((c >> 2) & 1) << (7 - bit)
                c >>= 3
            }
            rgb[3 * label] = UInt8(r)
            rgb[3 * label + 1] = UInt8(g)
            rgb[3 * label + 2] = UInt8(b)
        }
        return ColorPalette(rgb: rgb)
    }()
}
