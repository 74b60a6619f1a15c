import DivSegIO
import Foundation
import Testing

@Suite("Image: JPEG decoding")
struct ImageJPEGDecodeTests {
    typealias S = ImageTestSupport

    /// Every COCO image decodes, with plausible sizes, quickly. Totals measured with Pillow:
    /// `sizes = [Image.open(p).size for p in sorted(glob("images/*.jpg"))]` → 514 files,
    /// Σ width 296 248, Σ height 248 951, sides 213...640.
    @Test("all 514 coco-mini JPEGs decode with Pillow's sizes")
    func allCocoImages() throws {
        let paths = try S.files(in: S.cocoImages, suffix: ".jpg")
        #expect(paths.count == 514)
        var widthSum = 0, heightSum = 0, grayCount = 0, pixels = 0
        let clock = ContinuousClock()
        var decodeTime = Duration.zero
        for path in paths {
            let bytes = try S.bytes(path)
            var image: Image? = nil
            decodeTime += try clock.measure { image = try ImageDecoder.decodeRGB(data: bytes, name: path) }
            let decoded = try #require(image)
            #expect((213...640).contains(decoded.width) && (213...640).contains(decoded.height), "\(path)")
            #expect(decoded.channels == 3 && decoded.pixels.count == decoded.width * decoded.height * 3)
            widthSum += decoded.width
            heightSum += decoded.height
            pixels += decoded.width * decoded.height
            // A grayscale JPEG comes back with r == g == b everywhere; 997 pixels spread
            // over the image tell the two kinds apart.
            let step = max(1, decoded.width * decoded.height / 997)
            let isGray = stride(from: 0, to: decoded.width * decoded.height, by: step).allSatisfy { (p: Int) -> Bool in
                let (r, g, b) = (decoded.pixels[3 * p], decoded.pixels[3 * p + 1], decoded.pixels[3 * p + 2])
                return r == g && g == b
            }
            if isGray { grayCount += 1 }
        }
        #expect(widthSum == 296_248 && heightSum == 248_951)
        // Pillow, same sampling: 17 images look gray (2 stored as grayscale JPEGs, 15 as
        // YCbCr black-and-white photos).
        #expect(grayCount == 17)
        // Reported, not asserted: a time limit would test the machine and its load, not the
        // decoder (libjpeg-turbo needs ~3 ms for 640×480 on an idle core).
        let perImage = decodeTime / paths.count
        print("coco-mini: \(paths.count) JPEGs, \(pixels / 1_000_000) MP, decode mean \(perImage)")
    }

    /// Values measured with Pillow 13.0 (libjpeg-turbo 3.2):
    /// `a = np.array(Image.open(p).convert("RGB")).astype(int)`;
    /// `a.reshape(-1,3).sum(0), a[0,0], a[100,200], a[-1,-1]`.
    @Test("pixels match Pillow exactly (colour and grayscale JPEGs)")
    func matchesPillow() throws {
        let expected: [(String, w: Int, h: Int, sums: [Int], p00: [UInt8], p: [UInt8], last: [UInt8])] = [
            ("000000000009", 640, 480, [47_113_927, 33_746_959, 23_638_065], [2, 24, 109], [191, 146, 89], [2, 5, 20]),
            ("000000000025", 640, 426, [32_816_174, 27_254_404, 16_155_114], [8, 9, 4], [38, 35, 18], [139, 109, 83]),
            ("000000000086", 512, 640, [33_540_028, 33_540_028, 33_540_028], [203, 203, 203], [59, 59, 59], [106, 106, 106]),
            ("000000007888", 638, 640, [77_537_316, 77_537_316, 77_537_316], [180, 180, 180], [193, 193, 193], [2, 2, 2]),
        ]
        for e in expected {
            let image = try ImageDecoder.decodeRGB(contentsOf: "\(S.cocoImages)/\(e.0).jpg")
            #expect(image.width == e.w && image.height == e.h, "\(e.0)")
            #expect(S.channelSums(image) == e.sums, "\(e.0)")
            #expect(S.pixel(image, 0, 0) == e.p00, "\(e.0)")
            #expect(S.pixel(image, 200, 100) == e.p, "\(e.0)")
            #expect(S.pixel(image, e.w - 1, e.h - 1) == e.last, "\(e.0)")
        }
    }

    @Test("progressive and baseline encodings of the same picture decode identically")
    func progressiveEqualsBaseline() throws {
        let baseline = try ImageDecoder.decodeRGB(data: S.baselineJPEG, name: "baseline")
        let progressive = try ImageDecoder.decodeRGB(data: S.progressiveJPEG, name: "progressive")
        #expect(baseline.width == 48 && baseline.height == 32)
        #expect(baseline == progressive)
        // Pillow: sums [180475, 190509, 179621], a[0,0] = [0,1,0], a[17,29] = [146,136,137].
        #expect(S.channelSums(baseline) == [180_475, 190_509, 179_621])
        #expect(S.pixel(baseline, 0, 0) == [0, 1, 0] && S.pixel(baseline, 29, 17) == [146, 136, 137])
    }

    @Test("grayscale JPEG is replicated to RGB")
    func grayscale() throws {
        let image = try ImageDecoder.decodeRGB(data: S.grayJPEG, name: "gray")
        #expect(image.width == 16 && image.height == 16 && image.channels == 3)
        // Pillow (mode L): sum 32645, a[0,0] = 0, a[7,9] = 168, a[15,15] = 31.
        #expect(S.channelSums(image) == [32_645, 32_645, 32_645])
        #expect(S.pixel(image, 9, 7) == [168, 168, 168] && S.pixel(image, 15, 15) == [31, 31, 31])
    }

    @Test("CMYK JPEG (Adobe, inverted) is converted like Pillow's convert(\"RGB\")")
    func cmyk() throws {
        let image = try ImageDecoder.decodeRGB(data: S.cmykJPEG, name: "cmyk")
        #expect(image.width == 16 && image.height == 16)
        // Pillow: sums [29489, 29517, 29496], a[0,0] = [255,255,255], a[7,9] = [84,108,96],
        // a[15,15] = [2,2,2], a[3,12] = [54,179,116].
        #expect(S.channelSums(image) == [29_489, 29_517, 29_496])
        #expect(S.pixel(image, 0, 0) == [255, 255, 255] && S.pixel(image, 9, 7) == [84, 108, 96])
        #expect(S.pixel(image, 15, 15) == [2, 2, 2] && S.pixel(image, 12, 3) == [54, 179, 116])
    }

    @Test("a baseline JPEG missing only its end-of-image marker is accepted, a progressive one not")
    func missingEOI() throws {
        let full = try ImageDecoder.decodeRGB(data: S.baselineJPEG, name: "full")
        #expect(Array(S.baselineJPEG.suffix(2)) == [0xFF, 0xD9])
        let cut = try ImageDecoder.decodeRGB(data: Array(S.baselineJPEG.dropLast(2)), name: "no EOI")
        #expect(cut == full)
        // A progressive file could be missing whole scans as well: refused.
        #expect(throws: ImageError.truncated(path: "p")) {
            try ImageDecoder.decodeRGB(data: Array(S.progressiveJPEG.dropLast(2)), name: "p")
        }
    }

    @Test("decoding on many threads at once gives the same pixels as one thread")
    func concurrentDecoding() async throws {
        let paths = Array(try S.files(in: S.cocoImages, suffix: ".jpg").prefix(24))
            + (try S.files(in: S.vocMasks, suffix: ".png").prefix(8))
        let sequential = try paths.map { try ImageDecoder.decodeRGB(contentsOf: $0) }
        let parallel = try await withThrowingTaskGroup(of: (Int, Image).self) { group in
            for (i, path) in paths.enumerated() {
                group.addTask { (i, try ImageDecoder.decodeRGB(contentsOf: path)) }
            }
            var results = [Image?](repeating: nil, count: paths.count)
            for try await (i, image) in group { results[i] = image }
            return results
        }
        #expect(parallel == sequential.map { Optional($0) })
        // Errors are per call as well: concurrent failures do not mix up their messages.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<16 {
                group.addTask {
                    let name = "broken-\(i).jpg"
                    let half = Array(S.baselineJPEG.prefix(S.baselineJPEG.count / 2))
                    #expect(throws: ImageError.truncated(path: name)) {
                        try ImageDecoder.decodeRGB(data: half, name: name)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
