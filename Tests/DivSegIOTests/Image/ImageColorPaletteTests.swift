import DivSegIO
import Testing

@Suite("Image: colour palettes")
struct ImageColorPaletteTests {
    @Test("the VOC colour map")
    func voc() {
        let voc = ColorPalette.voc
        #expect(voc.rgb.count == 768)
        #expect(voc.color(of: 0) == (0, 0, 0))
        #expect(voc.color(of: 1) == (128, 0, 0))       // aeroplane
        #expect(voc.color(of: 2) == (0, 128, 0))       // bicycle
        #expect(voc.color(of: 15) == (192, 128, 128))  // person
        #expect(voc.color(of: 20) == (0, 64, 128))     // tvmonitor
        #expect(voc.color(of: 255) == (224, 224, 192)) // ignore / boundary
    }

    @Test("colours can be read and replaced; short palettes are padded with black")
    func editing() {
        var palette = ColorPalette(colors: [(1, 2, 3), (4, 5, 6)])
        #expect(palette.colors.count == 256)
        #expect(palette.color(of: 1) == (4, 5, 6) && palette.color(of: 2) == (0, 0, 0))
        palette.setColor((9, 8, 7), of: 200)
        #expect(palette.color(of: 200) == (9, 8, 7))
        var copy = palette
        copy.colors[3] = (10, 11, 12)
        #expect(copy.color(of: 3) == (10, 11, 12) && copy != palette)
        #expect(ColorPalette(rgb: ColorPalette.voc.rgb) == .voc)
    }
}
