import DivSeg
import DivSegIO
import Testing

@Suite("Visualization: legends, colour bars, outlines")
struct LegendTests {
    static func gray(_ width: Int, _ height: Int, _ value: UInt8 = 128) -> Image {
        Image(width: width, height: height, channels: 3, pixels: [UInt8](repeating: value, count: 3 * width * height))
    }

    static func pixel(_ image: Image, _ x: Int, _ y: Int) -> [UInt8] {
        let i = 3 * (y * image.width + x)
        return Array(image.pixels[i..<(i + 3)])
    }

    @Test("a legend draws a panel, one swatch per class in its colour, and white text")
    func legend() {
        let legend = Legend(entries: [.init(name: "giraffe", color: (10, 200, 30), detail: "31.2 %"),
                                      .init(name: "cat", color: (64, 0, 0), detail: "4.0 %")])
        let image = Self.gray(400, 300)
        let drawn = legend.draw(on: image)
        let layout = legend.layout(width: 400, height: 300)
        #expect(layout.swatches.count == 2 && layout.hidden == 0)
        for (swatch, color) in zip(layout.swatches, [[10, 200, 30], [64, 0, 0]] as [[UInt8]]) {
            #expect(Self.pixel(drawn, swatch[0], swatch[1]) == color)
            #expect(Self.pixel(drawn, swatch[0] + swatch[2] - 1, swatch[1] + swatch[2] - 1) == color)
            // The white frame around it keeps a dark colour visible.
            #expect(Self.pixel(drawn, swatch[0] - 1, swatch[1]) == [255, 255, 255])
        }
        let p = layout.panel
        #expect(Self.pixel(drawn, p[0], p[1]) == [24, 24, 24])
        var white = 0
        for y in p[1]..<(p[1] + p[3]) {
            for x in (layout.swatches[0][0] + layout.swatches[0][2] + 2)..<(p[0] + p[2]) where Self.pixel(drawn, x, y) == [255, 255, 255] {
                white += 1
            }
        }
        #expect(white > 100, "the names and areas are written: \(white) white pixels")
        // Outside the panel, the picture is untouched.
        #expect(Self.pixel(drawn, 399, 299) == [128, 128, 128])
        #expect(Self.pixel(drawn, p[0] + p[2], p[1]) == [128, 128, 128])
    }

    @Test("rows that do not fit are summed up as +N more")
    func overflow() {
        let entries = (0..<40).map { Legend.Entry(name: "class\($0)", color: (UInt8($0), 0, 0), detail: "1.0 %") }
        let layout = Legend(entries: entries).layout(width: 200, height: 120)
        #expect(layout.hidden > 0 && layout.swatches.count + layout.hidden == 40)
        #expect(layout.panel[1] + layout.panel[3] <= 120)
    }

    @Test("a colour bar: hottest colour on top, coolest at the bottom, on a panel at the right")
    func colorBar() {
        let bar = ColorBar(range: -1.5...2.25, title: "giraffe")
        #expect(bar.labels == ["2.25", "0.38", "-1.50"])
        let drawn = bar.draw(on: Self.gray(640, 480))
        let layout = bar.layout(width: 640, height: 480)
        let b = layout.bar
        let top = ColorMap.inferno.color(at: 1), bottom = ColorMap.inferno.color(at: 0)
        #expect(Self.pixel(drawn, b[0], b[1]) == [top.r, top.g, top.b])
        #expect(Self.pixel(drawn, b[0] + b[2] - 1, b[1] + b[3] - 1) == [bottom.r, bottom.g, bottom.b])
        #expect(layout.panel[0] + layout.panel[2] < 640 && layout.panel[0] > 320)
        #expect(Self.pixel(drawn, 0, 0) == [128, 128, 128])
    }

    @Test("HeatMap.displayRange is the finite scores' span")
    func displayRange() {
        #expect(HeatMap.displayRange(of: [0.5, -.infinity, 2, .nan, -1]) == -1...2)
        #expect(HeatMap.displayRange(of: [.nan]) == nil)
    }

    @Test("outlines: a dark class's edge is drawn lightened and opaque, its inside blended")
    func outline() {
        var labels = [UInt8](repeating: 0, count: 20 * 20)
        for y in 5..<15 { for x in 5..<15 { labels[y * 20 + x] = 8 } }      // VOC cat: (64, 0, 0)
        let map = LabelMap(width: 20, height: 20, labels: labels)
        let black = Self.gray(20, 20, 0)
        let plain = Overlay.render(image: black, labels: map, palette: .voc)
        let outlined = Overlay.render(image: black, labels: map, palette: .voc, outline: 1)
        let edge = Overlay.outlineColor(of: 8, palette: .voc)
        #expect(edge.r > 150 && edge.g > 100, "cat's (64, 0, 0) is lightened: \(edge)")
        #expect(Self.pixel(outlined, 5, 5) == [edge.r, edge.g, edge.b])
        #expect(Self.pixel(outlined, 14, 9) == [edge.r, edge.g, edge.b])
        #expect(Self.pixel(outlined, 9, 9) == Self.pixel(plain, 9, 9))      // inside: blended as before
        #expect(Self.pixel(outlined, 4, 4) == [0, 0, 0])                    // background untouched
        let thick = Overlay.render(image: black, labels: map, palette: .voc, outline: 2)
        #expect(Self.pixel(thick, 6, 9) == [edge.r, edge.g, edge.b] && Self.pixel(outlined, 6, 9) != [edge.r, edge.g, edge.b])
        // A light colour is kept as it is.
        #expect(Overlay.outlineColor(of: 15, palette: .voc) == ColorPalette.voc.color(of: 15))
    }

    @Test("the bitmap font covers printable ASCII")
    func font() {
        var pixels = [UInt8](repeating: 0, count: 3 * 60 * 10)
        BitmapFont.draw("a%", into: &pixels, width: 60, height: 10, x: 0, y: 0, scale: 1, color: (255, 255, 255))
        #expect(pixels.contains(255))
        #expect(BitmapFont.width(of: "giraffe", scale: 2) == 84)
        var empty = [UInt8](repeating: 0, count: 3 * 60 * 10)
        BitmapFont.draw("  ", into: &empty, width: 60, height: 10, x: 0, y: 0, scale: 1, color: (255, 255, 255))
        #expect(!empty.contains(255))
    }
}
