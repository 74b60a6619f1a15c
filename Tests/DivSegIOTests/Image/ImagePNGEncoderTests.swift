import DivSegIO
import Foundation
import Testing

@Suite("Image: PNG encoding")
struct ImagePNGEncoderTests {
    typealias S = ImageTestSupport

    static func noise(width: Int, height: Int, channels: Int, seed: UInt64 = 1) -> Image {
        Image(width: width, height: height, channels: channels,
              pixels: S.pseudoRandomBytes(count: width * height * channels, seed: seed))
    }

    @Test("RGB and gray round trip exactly; gray comes back replicated to RGB")
    func roundTrip() throws {
        let rgb = Self.noise(width: 37, height: 23, channels: 3)
        let bytes = try PNGEncoder.encode(rgb)
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(try ImageDecoder.decodeRGB(data: bytes, name: "rgb") == rgb)

        let gray = Self.noise(width: 19, height: 31, channels: 1, seed: 2)
        let decoded = try ImageDecoder.decodeRGB(data: try PNGEncoder.encode(gray), name: "gray")
        #expect(decoded.pixels == gray.pixels.flatMap { [$0, $0, $0] })
        // A gray PNG is also a valid label image: values come back unchanged.
        let labels = try ImageDecoder.decodeLabels(data: try PNGEncoder.encode(gray), name: "gray")
        #expect(labels.labels == gray.pixels)
    }

    @Test("gray+alpha and RGBA encode; decoding drops the alpha channel")
    func alphaImages() throws {
        let rgba = Self.noise(width: 5, height: 4, channels: 4, seed: 3)
        let decoded = try ImageDecoder.decodeRGB(data: try PNGEncoder.encode(rgba), name: "rgba")
        let expected = stride(from: 0, to: rgba.pixels.count, by: 4).flatMap { rgba.pixels[$0..<$0 + 3] }
        #expect(decoded.pixels == expected)
        let ga = Self.noise(width: 5, height: 4, channels: 2, seed: 4)
        let g = try ImageDecoder.decodeRGB(data: try PNGEncoder.encode(ga), name: "ga")
        #expect(g.pixels == stride(from: 0, to: ga.pixels.count, by: 2).flatMap { [ga.pixels[$0], ga.pixels[$0], ga.pixels[$0]] })
    }

    @Test("label maps round trip through palette PNGs and show VOC colours")
    func paletteRoundTrip() throws {
        var values = (0...255).map { UInt8($0) }
        values += [1, 15, 255, 0]
        let labels = LabelMap(width: 26, height: 10, labels: values)
        let bytes = try PNGEncoder.encode(labels, palette: .voc)
        #expect(try ImageDecoder.decodeLabels(data: bytes, name: "labels") == labels)

        let colours = try ImageDecoder.decodeRGB(data: bytes, name: "labels")
        #expect(S.pixel(colours, 1, 0) == [128, 0, 0])         // label 1
        #expect(S.pixel(colours, 15, 0) == [192, 128, 128])    // label 15
        #expect(S.pixel(colours, 255 % 26, 255 / 26) == [224, 224, 192]) // label 255
        #expect(S.pixel(colours, 0, 0) == [0, 0, 0])
        for (i, label) in labels.labels.enumerated() {
            let c = ColorPalette.voc.color(of: label)
            #expect(Array(colours.pixels[(3 * i)..<(3 * i + 3)]) == [c.r, c.g, c.b])
        }
    }

    @Test("a real VOC mask re-encoded with the VOC palette keeps its labels")
    func realMaskRoundTrip() throws {
        let mask = try ImageDecoder.decodeLabels(contentsOf: S.vocMasks + "/2007_000129.png")
        let again = try ImageDecoder.decodeLabels(data: try PNGEncoder.encode(mask, palette: .voc), name: "x")
        #expect(again == mask)
    }

    @Test("write is atomic: the file appears complete, with no temporary left behind")
    func atomicWrite() throws {
        try S.withTemporaryDirectory { dir in
            let path = dir + "/out.png"
            let first = Self.noise(width: 8, height: 8, channels: 3, seed: 5)
            try PNGEncoder.write(first, to: path)
            #expect(try ImageDecoder.decodeRGB(contentsOf: path) == first)
            let second = LabelMap(width: 3, height: 1, labels: [0, 1, 255])
            try PNGEncoder.write(second, palette: .voc, to: path) // replaces the previous file
            #expect(try ImageDecoder.decodeLabels(contentsOf: path) == second)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.png"])
        }
    }

    @Test("a failed write names the file and leaves the old one intact")
    func failedWrite() throws {
        try S.withTemporaryDirectory { dir in
            let image = Self.noise(width: 4, height: 4, channels: 3)
            let missingDir = dir + "/no/such/dir/out.png"
            let error = S.error { () throws(ImageError) in try PNGEncoder.write(image, to: missingDir) }
            guard case .writeFailed(let path, _)? = error else {
                Issue.record("expected writeFailed, got \(String(describing: error))")
                return
            }
            #expect(path == missingDir && error!.description.contains(missingDir))

            // Writing over a directory fails at the rename; the directory survives and no
            // temporary file is left behind.
            let target = dir + "/taken"
            try FileManager.default.createDirectory(atPath: target + "/child", withIntermediateDirectories: true)
            #expect(throws: ImageError.self) { try PNGEncoder.write(image, to: target) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["taken"])
        }
    }

    @Test("images that cannot be PNGs are refused")
    func invalidImages() throws {
        var image = Image(width: 2, height: 2, channels: 3, pixels: [UInt8](repeating: 0, count: 12))
        image.pixels.removeLast() // public fields can drift out of sync with the size
        let error = S.error { () throws(ImageError) in try PNGEncoder.encode(image) }
        guard case .cannotEncode(let reason)? = error else {
            Issue.record("expected cannotEncode, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("12") && reason.contains("11"))

        let empty = Image(width: 0, height: 5, channels: 1, pixels: [])
        #expect(throws: ImageError.self) { try PNGEncoder.encode(empty) }
        let emptyLabels = LabelMap(width: 0, height: 0, labels: [])
        #expect(throws: ImageError.self) { try PNGEncoder.encode(emptyLabels, palette: .voc) }

        try S.withTemporaryDirectory { dir in
            let path = dir + "/bad.png"
            let previous = Self.noise(width: 3, height: 3, channels: 3)
            try PNGEncoder.write(previous, to: path)
            let failure = S.error { () throws(ImageError) in try PNGEncoder.write(empty, to: path) }
            guard case .writeFailed(path: path, _)? = failure else {
                Issue.record("expected writeFailed naming \(path), got \(String(describing: failure))")
                return
            }
            #expect(try ImageDecoder.decodeRGB(contentsOf: path) == previous)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["bad.png"])
        }
    }
}
