import DivSegIO
import Testing

@Suite("ColorPalette.distinct: VOC's colours kept, the others spread apart")
struct ImageDistinctPaletteTests {
    static func distance(_ a: (r: UInt8, g: UInt8, b: UInt8), _ b: (r: UInt8, g: UInt8, b: UInt8)) -> Double {
        let x = ColorPalette.lab(of: a), y = ColorPalette.lab(of: b)
        return ((x.0 - y.0) * (x.0 - y.0) + (x.1 - y.1) * (x.1 - y.1) + (x.2 - y.2) * (x.2 - y.2)).squareRoot()
    }

    @Test("labels 0–20 and 255 have VOC's colours")
    func vocKept() {
        for label in Array(0...20) + [255] {
            #expect(ColorPalette.distinct.color(of: UInt8(label)) == ColorPalette.voc.color(of: UInt8(label)))
        }
    }

    @Test("labels 21–254: distinct, not dark, and far from every VOC colour and from each other")
    func spread() {
        let palette = ColorPalette.distinct
        let voc = (0...20).map { palette.color(of: UInt8($0)) }
        let extra = (21...254).map { palette.color(of: UInt8($0)) }
        #expect(Set(extra.map { [$0.r, $0.g, $0.b] }).count == extra.count)
        for color in extra { #expect(ColorPalette.lab(of: color).0 >= 40) }
        // The first classes beyond VOC (the ones registries actually get) are well apart.
        let first = Array(extra.prefix(40))
        var closest = Double.infinity
        for (i, a) in first.enumerated() {
            for b in first[(i + 1)...] { closest = min(closest, Self.distance(a, b)) }
            for b in voc { closest = min(closest, Self.distance(a, b)) }
        }
        #expect(closest >= 20, "closest pair among VOC and the first 40 others: ΔE \(closest)")
        // The case: two neighbouring new labels are never near-copies.
        #expect(Self.distance(palette.color(of: 21), palette.color(of: 22)) >= 20)
    }

    @Test("CIELAB of reference colours")
    func lab() {
        let white = ColorPalette.lab(of: (255, 255, 255))
        #expect(abs(white.0 - 100) < 0.01 && abs(white.1) < 0.01 && abs(white.2) < 0.01)
        #expect(abs(ColorPalette.lab(of: (0, 0, 0)).0) < 1e-9)
        let red = ColorPalette.lab(of: (255, 0, 0))     // L 53.24, a 80.09, b 67.20
        #expect(abs(red.0 - 53.24) < 0.05 && abs(red.1 - 80.09) < 0.1 && abs(red.2 - 67.20) < 0.1)
    }
}
