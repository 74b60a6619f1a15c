import Foundation

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

extension ColorPalette {
    /// VOC's colours for labels 0–20 (background and the 20 VOC classes, as in every VOC
    /// ground truth), then, for labels 21–254, colours spread as far apart as possible in
    /// CIELAB: each is the candidate (an 8-level RGB grid, too-dark colours excluded) farthest
    /// from every colour already taken, VOC's included. So a class added beyond VOC's 20 never
    /// gets a near-copy of another class's colour (labels 21–30 are at least 36 ΔE from every
    /// other colour, 21–80 at least 20 ΔE), and a label id keeps its colour for ever.
    /// Label 255 stays VOC's cream (ignore / boundaries).
    ///
    /// ```swift
    /// let zebra = ColorPalette.distinct.color(of: 23)   // far from every VOC colour
    /// ```
    public static let distinct: ColorPalette = {
        var palette = ColorPalette.voc
        let levels: [UInt8] = [0, 36, 73, 109, 146, 182, 219, 255]
        var candidates: [(rgb: (r: UInt8, g: UInt8, b: UInt8), lab: (Double, Double, Double))] = []
        for r in levels { for g in levels { for b in levels {
            let lab = lab(of: (r, g, b))
            if lab.0 >= 40 { candidates.append(((r, g, b), lab)) }   // dark colours vanish on dark photos
        } } }
        // Distance of each candidate to the nearest colour taken so far.
        var nearest = [Double](repeating: .infinity, count: candidates.count)
        func take(_ color: (r: UInt8, g: UInt8, b: UInt8)) {
            let l = lab(of: color)
            for i in candidates.indices {
                let c = candidates[i].lab
                let d = ((c.0 - l.0) * (c.0 - l.0) + (c.1 - l.1) * (c.1 - l.1) + (c.2 - l.2) * (c.2 - l.2)).squareRoot()
                nearest[i] = min(nearest[i], d)
            }
        }
        for label in 0...20 { take(palette.color(of: UInt8(label))) }
        take(palette.color(of: 255))
        for label in 21...254 {
            var best = 0
            for i in candidates.indices where nearest[i] > nearest[best] { best = i }
            let color = candidates[best].rgb
            palette.setColor(color, of: UInt8(label))
            take(color)
        }
        return palette
    }()

    /// CIELAB (D65) of an sRGB colour: `(L*, a*, b*)`.
    public static func lab(of color: (r: UInt8, g: UInt8, b: UInt8)) -> (Double, Double, Double) {
        func linear(_ v: UInt8) -> Double {
            let c = Double(v) / 255
            return c <= 0.04045 ? c / 12.92 : Foundation.pow((c + 0.055) / 1.055, 2.4)
        }
        let r = linear(color.r), g = linear(color.g), b = linear(color.b)
        let x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
        let y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
        let z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883
        func f(_ t: Double) -> Double { t > 216.0 / 24389 ? Foundation.cbrt(t) : (24389.0 / 27 * t + 16) / 116 }
        return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))
    }
}
