import DivSegIO
import Foundation
import Testing

@Suite("Image: label PNG decoding")
struct ImageLabelDecodeTests {
    typealias S = ImageTestSupport

    static func histogram(_ labels: LabelMap) -> [UInt8: Int] {
        var counts = [Int](repeating: 0, count: 256)
        labels.labels.withUnsafeBufferPointer { for v in $0 { counts[Int(v)] += 1 } }
        var result = [UInt8: Int]()
        for (v, n) in counts.enumerated() where n > 0 { result[UInt8(v)] = n }
        return result
    }

    /// Measured with Pillow 13.0: `a = np.array(Image.open(p))`;
    /// `dict(zip(*np.unique(a, return_counts=True)))`, `a[0,0]`, `a[h//2, w//2]`.
    @Test("COCO gray masks and VOC palette masks match Pillow")
    func matchesPillow() throws {
        let expected: [(String, w: Int, h: Int, counts: [UInt8: Int], corner: UInt8, centre: UInt8)] = [
            (S.cocoMasks + "/000000000009.png", 640, 480, [0: 118_656, 51: 128_585, 55: 10_430, 56: 49_529], 0, 51),
            (S.cocoMasks + "/000000000025.png", 640, 426, [0: 250_154, 25: 22_486], 0, 0),
            (S.vocMasks + "/2007_000032.png", 500, 281, [0: 129_545, 1: 4_734, 15: 866, 255: 5_355], 0, 1),
            (S.vocMasks + "/2007_000129.png", 334, 500, [0: 54_389, 2: 34_183, 15: 61_143, 255: 17_285], 255, 2),
        ]
        for e in expected {
            let map = try ImageDecoder.decodeLabels(contentsOf: e.0)
            #expect(map.width == e.w && map.height == e.h, "\(e.0)")
            #expect(Self.histogram(map) == e.counts, "\(e.0)")
            #expect(map.labels[0] == e.corner, "\(e.0)")
            #expect(map.labels[(e.h / 2) * e.w + e.w / 2] == e.centre, "\(e.0)")
        }
    }

    /// Pillow over all 460 masks: Σ width 265 500, Σ height 222 295 (each mask has the size
    /// of its image).
    @Test("all 460 COCO masks decode as labels")
    func allCocoMasks() throws {
        let paths = try S.files(in: S.cocoMasks, suffix: ".png")
        #expect(paths.count == 460)
        var widths = 0, heights = 0
        for path in paths {
            let map = try ImageDecoder.decodeLabels(contentsOf: path)
            widths += map.width
            heights += map.height
        }
        #expect(widths == 265_500 && heights == 222_295)
    }

    /// Every 50th VOC mask in sorted order (59 files). Pillow: Σ width 28 813, Σ height
    /// 22 353, Σ of all label values 160 677 543 (`np.array(im).astype(np.int64).sum()`).
    @Test("a deterministic subset of VOC masks matches Pillow's totals")
    func vocSubset() throws {
        let all = try S.files(in: S.vocMasks, suffix: ".png")
        #expect(all.count == 2913)
        let subset = stride(from: 0, to: all.count, by: 50).map { all[$0] }
        var widths = 0, heights = 0, total = 0
        for path in subset {
            let map = try ImageDecoder.decodeLabels(contentsOf: path)
            widths += map.width
            heights += map.height
            for (value, count) in Self.histogram(map) { total += Int(value) * count }
        }
        #expect(subset.count == 59 && widths == 28_813 && heights == 22_353)
        #expect(total == 160_677_543)
    }

    @Test("palette indices and gray values of 8 bits or fewer come back raw, also interlaced",
          arguments: [false, true])
    func rawValues(interlaced: Bool) throws {
        for (type, depth) in [(ImageTestPNG.ColorType.palette, 1), (.palette, 2), (.palette, 4), (.palette, 8),
                              (.gray, 1), (.gray, 2), (.gray, 4), (.gray, 8)] {
            let png = ImageTestPNG.pattern(type, depth: depth, interlaced: interlaced,
                                           withTransparency: type == .palette)
            let map = try ImageDecoder.decodeLabels(data: png.bytes, name: "\(type)\(depth)")
            #expect(map.width == png.width && map.height == png.height)
            #expect(map.labels == png.samples.map { UInt8($0) }, "\(type) \(depth)-bit")
        }
    }

    @Test("RGB, alpha, 16-bit PNGs and JPEGs are not label images")
    func refused() throws {
        let cases: [(ImageTestPNG.ColorType, Int, String)] = [
            (.rgb, 8, "RGB"), (.rgba, 8, "RGBA"), (.grayAlpha, 8, "gray+alpha"), (.gray, 16, "16-bit"),
            (.rgb, 16, "16-bit"),
        ]
        for (type, depth, word) in cases {
            let name = "mask-\(type)-\(depth).png"
            let error = S.error { () throws(ImageError) in
                try ImageDecoder.decodeLabels(data: ImageTestPNG.pattern(type, depth: depth).bytes, name: name)
            }
            guard case .notALabelImage(let path, let reason)? = error else {
                Issue.record("\(name): expected notALabelImage, got \(String(describing: error))")
                continue
            }
            #expect(path == name && reason.contains(word), "\(reason)")
            #expect(error!.description.contains(name))
        }
        let jpeg = S.error { () throws(ImageError) in try ImageDecoder.decodeLabels(data: S.baselineJPEG, name: "m.jpg") }
        guard case .notALabelImage(path: "m.jpg", _)? = jpeg else {
            Issue.record("JPEG: expected notALabelImage, got \(String(describing: jpeg))")
            return
        }
    }
}
