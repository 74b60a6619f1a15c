import DivSeg
import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

/// A fresh temporary directory for files a test writes.
func visualizationTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "divseg-visualization-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite("Visualization: label overlays")
struct VisualizationOverlayTests {
    @Test("a real COCO giraffe: pixels in the mask change, the others do not")
    func cocoGiraffe() throws {
        let image = try ImageDecoder.decodeRGB(contentsOf: SharedData.cocoMiniImage("000000000025"))
        let coco = try ImageDecoder.decodeLabels(contentsOf: SharedData.cocoMiniMasks + "/000000000025.png")
        #expect(coco.width == image.width && coco.height == image.height)
        // COCO category 25 = giraffe → label 1, everything else → background.
        let mask = LabelMap(width: coco.width, height: coco.height, labels: coco.labels.map { $0 == 25 ? 1 : 0 })
        let giraffePixels = mask.labels.filter { $0 == 1 }.count
        #expect(giraffePixels > 10_000)

        let overlay = Overlay.render(image: image, labels: mask)
        let directory = try visualizationTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/000000000025_overlay.png"
        try PNGEncoder.write(overlay, to: path)
        let written = try ImageDecoder.decodeRGB(contentsOf: path)
        #expect(written == overlay)
        #expect(written.width == image.width && written.height == image.height && written.channels == 3)

        let (r, g, b) = ColorPalette.voc.color(of: 1)   // (128, 0, 0)
        var changedInside = 0, changedOutside = 0, wrongBlend = 0
        for i in 0..<(image.width * image.height) {
            let before = image.pixels[(3 * i)..<(3 * i + 3)], after = written.pixels[(3 * i)..<(3 * i + 3)]
            if mask.labels[i] == 1 {
                if before != after { changedInside += 1 }
                // alpha 0.5: the rounded mean of pixel and colour.
                let expected = zip(before, [r, g, b]).map { UInt8((Int($0) + Int($1) + 1) / 2) }
                if Array(after) != expected { wrongBlend += 1 }
            } else if before != after {
                changedOutside += 1
            }
        }
        #expect(changedOutside == 0)
        #expect(wrongBlend == 0)
        #expect(Double(changedInside) >= 0.99 * Double(giraffePixels))
    }

    @Test("a smaller label map is stretched with nearest neighbour; 255 and alpha")
    func nearestNeighbourAndIgnore() {
        let image = Image(width: 4, height: 4, channels: 1, pixels: [UInt8](repeating: 100, count: 16))
        let labels = LabelMap(width: 2, height: 2, labels: [0, 15, 255, 1])
        let overlay = Overlay.render(image: image, labels: labels, alpha: 1)
        #expect(overlay.channels == 3 && overlay.width == 4 && overlay.height == 4)
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(overlay.pixels[(3 * (y * 4 + x))..<(3 * (y * 4 + x) + 3)]) }
        for y in 0..<2 {
            for x in 0..<2 {
                #expect(pixel(x, y) == [100, 100, 100])           // background: gray kept
                #expect(pixel(x + 2, y) == [192, 128, 128])       // person, alpha 1
                #expect(pixel(x, y + 2) == [100, 100, 100])       // 255 left uncoloured
                #expect(pixel(x + 2, y + 2) == [128, 0, 0])       // aeroplane
            }
        }
        let drawn = Overlay.render(image: image, labels: labels, alpha: 1, drawIgnored: true)
        #expect(Array(drawn.pixels[(3 * 8)..<(3 * 8 + 3)]) == [224, 224, 192])
        let none = Overlay.render(image: image, labels: labels, alpha: 0)
        #expect(none.pixels == [UInt8](repeating: 100, count: 48))
    }
}
