import DivSeg
import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

@Suite("Visualization: heat maps")
struct VisualizationHeatMapTests {
    @Test("output has the image's size, on a real COCO image, and is written as PNG")
    func realImageSize() throws {
        let image = try ImageDecoder.decodeRGB(contentsOf: SharedData.cocoMiniImage("000000000025"))
        let scores = (0..<(64 * 84)).map { (i: Int) -> Float in
            let column = Float(i % 84), row = Float(i / 84)
            return column / 84 - row / 64
        }
        let heat = HeatMap.render(image: image, scores: scores, width: 84, height: 64)
        #expect(heat.width == image.width && heat.height == image.height && heat.channels == 3)
        #expect(heat.pixels != image.pixels)
        let directory = try visualizationTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try PNGEncoder.write(heat, to: directory + "/heat.png")
        #expect(try ImageDecoder.decodeRGB(contentsOf: directory + "/heat.png") == heat)
    }

    @Test("a peak in the grid gives the hottest colour at the matching image location")
    func peakLocation() {
        // Grid 84 × 64 over a black 336 × 256 image (×4). A 3 × 3 plateau centred on grid
        // row 20, column 50: inside the centre cell the upsampled score is exactly the maximum.
        let (gw, gh) = (84, 64)
        var scores = [Float](repeating: 0, count: gw * gh)
        for dy in -1...1 { for dx in -1...1 { scores[(20 + dy) * gw + 50 + dx] = 1 } }
        let black = Image(width: 336, height: 256, channels: 3, pixels: [UInt8](repeating: 0, count: 336 * 256 * 3))
        let heat = HeatMap.render(image: black, scores: scores, width: gw, height: gh, alpha: 1)

        let hottest = ColorMap.inferno.color(index: 255)
        #expect(hottest == (252, 255, 164))
        var xs: [Int] = [], ys: [Int] = []
        for y in 0..<256 {
            for x in 0..<336 {
                let i = 3 * (y * 336 + x)
                if heat.pixels[i] == hottest.r && heat.pixels[i + 1] == hottest.g && heat.pixels[i + 2] == hottest.b {
                    xs.append(x)
                    ys.append(y)
                }
            }
        }
        #expect(!xs.isEmpty)
        // Cell (20, 50) covers image pixels x 200..<204, y 80..<84; the plateau spans one
        // more cell each way.
        #expect(xs.min()! >= 196 && xs.max()! < 208 && ys.min()! >= 76 && ys.max()! < 88)
        #expect(xs.contains(201) && ys.contains(81))
        // Far from the peak: the coolest colour.
        let coolest = ColorMap.inferno.color(index: 0)
        #expect(Array(heat.pixels[0..<3]) == [coolest.r, coolest.g, coolest.b])
    }

    @Test("range defaults to min…max, clamps outside values; colorize is one pixel per cell")
    func rangeAndColorize() {
        let scores: [Float] = [-2, 0, 2, 6]
        let plain = HeatMap.colorize(scores: scores, width: 2, height: 2)
        func color(_ image: Image, _ i: Int) -> [UInt8] { Array(image.pixels[(3 * i)..<(3 * i + 3)]) }
        let map = ColorMap.inferno
        func entry(_ k: UInt8) -> [UInt8] { let c = map.color(index: k); return [c.r, c.g, c.b] }
        #expect(color(plain, 0) == entry(0) && color(plain, 3) == entry(255))
        #expect(color(plain, 1) == entry(64))     // (0 + 2) / 8 · 255 = 63.75 → 64
        let fixed = HeatMap.colorize(scores: scores, width: 2, height: 2, range: 0...2)
        #expect(color(fixed, 0) == entry(0) && color(fixed, 1) == entry(0))
        #expect(color(fixed, 2) == entry(255) && color(fixed, 3) == entry(255))
        let constant = HeatMap.colorize(scores: [1, 1], width: 2, height: 1)
        #expect(color(constant, 0) == entry(0) && color(constant, 1) == entry(0))
    }

    @Test("the inferno table runs dark to bright")
    func colorMap() {
        let luminance = (0..<256).map { k -> Int in
            let c = ColorMap.inferno.color(index: UInt8(k))
            return 299 * Int(c.r) + 587 * Int(c.g) + 114 * Int(c.b)
        }
        #expect(zip(luminance, luminance.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(luminance[0] < luminance[128] && luminance[128] < luminance[255])
        #expect(ColorMap.inferno.color(index: 0) == (0, 0, 4))
    }
}
