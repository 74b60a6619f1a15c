import DivSegIO
import Foundation
import Testing

@Suite("Image: PNG decoding")
struct ImagePNGDecodeTests {
    typealias S = ImageTestSupport

    static let allKinds: [(ImageTestPNG.ColorType, Int)] = ImageTestPNG.ColorType.allCases.flatMap { type in
        type.validDepths.map { (type, $0) }
    }

    @Test("every colour type and bit depth, plain and Adam7-interlaced, decodes to the expected RGB",
          arguments: [false, true])
    func everyColorTypeAndDepth(interlaced: Bool) throws {
        for (type, depth) in Self.allKinds {
            for transparency in [false, true] where !(transparency && (type == .rgba || type == .grayAlpha)) {
                let png = ImageTestPNG.pattern(type, depth: depth, interlaced: interlaced,
                                               withTransparency: transparency)
                let name = "\(type) \(depth)-bit interlaced=\(interlaced) tRNS=\(transparency)"
                let image = try ImageDecoder.decodeRGB(data: png.bytes, name: name)
                #expect(image.width == 13 && image.height == 11 && image.channels == 3, "\(name)")
                #expect(image.pixels == png.expectedRGB, "\(name)")
            }
        }
    }

    @Test("tiny sizes whose Adam7 passes are partly empty")
    func tinyInterlaced() throws {
        for (w, h) in [(1, 1), (2, 1), (1, 5), (3, 2), (9, 9)] {
            let png = ImageTestPNG.pattern(.rgb, depth: 8, width: w, height: h, interlaced: true)
            let image = try ImageDecoder.decodeRGB(data: png.bytes, name: "\(w)x\(h)")
            #expect(image.width == w && image.height == h)
            #expect(image.pixels == png.expectedRGB, "\(w)×\(h)")
        }
    }

    @Test("alpha is dropped, not composited: a fully transparent pixel keeps its colour")
    func alphaDropped() throws {
        var png = ImageTestPNG.pattern(.rgba, depth: 8, width: 2, height: 1)
        png.samples = [200, 100, 50, 0, 1, 2, 3, 255]
        let image = try ImageDecoder.decodeRGB(data: png.bytes, name: "rgba")
        #expect(image.pixels == [200, 100, 50, 1, 2, 3])
    }

    @Test("ancillary chunks (text, gamma, unknown) are skipped")
    func ancillaryChunksSkipped() throws {
        var png = ImageTestPNG.pattern(.rgb, depth: 8)
        png.extraChunks = [("tEXt", Array("Comment\u{0}hello".utf8)), ("gAMA", ImageTestPNG.be32(100_000)),
                           ("zzZz", [1, 2, 3])]
        #expect(try ImageDecoder.decodeRGB(data: png.bytes, name: "extra").pixels == png.expectedRGB)
    }

    @Test("the file format is taken from the bytes, not the extension")
    func formatBySignature() throws {
        try S.withTemporaryDirectory { dir in
            let png = ImageTestPNG.pattern(.rgb, depth: 8)
            let path = dir + "/actually-a-png.jpg"
            try S.writeFile(png.bytes, to: path)
            #expect(try ImageDecoder.decodeRGB(contentsOf: path).pixels == png.expectedRGB)
            let jpegPath = dir + "/actually-a-jpeg.png"
            try S.writeFile(S.baselineJPEG, to: jpegPath)
            #expect(try ImageDecoder.decodeRGB(contentsOf: jpegPath).width == 48)
        }
    }

    /// Expected values measured with Pillow 13.0:
    /// `a = np.array(Image.open(p)).astype(int); a.reshape(-1,3).sum(0), a[0,0], a[128,168], a[255,335]`
    @Test("VGG-16 reference PNGs (336×256 RGB) match Pillow")
    func vggReferencePNGs() throws {
        let expected: [(String, sums: [Int], p00: [UInt8], mid: [UInt8], last: [UInt8])] = [
            ("000000000025_256x336.png", [10_353_934, 8_599_082, 5_097_223], [8, 9, 4], [48, 43, 15], [140, 110, 85]),
            ("000000000061_256x336.png", [12_297_696, 12_587_316, 11_367_702], [255, 253, 254], [44, 42, 53], [255, 253, 254]),
            ("000000000136_256x336.png", [11_350_683, 10_220_829, 8_449_975], [10, 14, 15], [176, 152, 123], [219, 201, 187]),
        ]
        #expect(try S.files(in: S.vggReference, suffix: ".png").count == expected.count)
        for e in expected {
            let image = try ImageDecoder.decodeRGB(contentsOf: S.vggReference + "/" + e.0)
            #expect(image.width == 336 && image.height == 256 && image.channels == 3)
            #expect(S.channelSums(image) == e.sums, "\(e.0)")
            #expect(S.pixel(image, 0, 0) == e.p00 && S.pixel(image, 168, 128) == e.mid
                    && S.pixel(image, 335, 255) == e.last, "\(e.0)")
        }
    }

    @Test("a VOC palette mask decoded as RGB shows the VOC colours of its labels")
    func paletteMaskAsRGB() throws {
        let path = S.vocMasks + "/2007_000032.png"
        let rgb = try ImageDecoder.decodeRGB(contentsOf: path)
        let labels = try ImageDecoder.decodeLabels(contentsOf: path)
        #expect(rgb.width == labels.width && rgb.height == labels.height)
        let palette = ColorPalette.voc
        var mismatches = 0
        for (i, label) in labels.labels.enumerated() {
            let c = palette.color(of: label)
            if rgb.pixels[3 * i] != c.r || rgb.pixels[3 * i + 1] != c.g || rgb.pixels[3 * i + 2] != c.b {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }
}
