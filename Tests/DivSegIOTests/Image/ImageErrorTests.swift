import DivSegIO
import Foundation
import Testing

/// Missing, empty, foreign, truncated, damaged and oversized files: always the specific
/// ImageError naming the file, never a crash, a hang or a partially filled image.
@Suite("Image: errors")
struct ImageErrorTests {
    typealias S = ImageTestSupport

    /// A compressed PNG made by libpng (several IDAT-sized pieces of real deflate data).
    static let samplePNG: [UInt8] = {
        let image = Image(width: 64, height: 48, channels: 3,
                          pixels: S.pseudoRandomBytes(count: 64 * 48 * 3, seed: 9))
        return try! PNGEncoder.encode(image)
    }()

    @Test("missing file, directory, empty file")
    func fileProblems() throws {
        try S.withTemporaryDirectory { dir in
            let missing = dir + "/nope.png"
            #expect(throws: ImageError.fileNotFound(path: missing)) { try ImageDecoder.decodeRGB(contentsOf: missing) }
            let missingDir = dir + "/nodir/x.png"
            #expect(throws: ImageError.fileNotFound(path: missingDir)) { try ImageDecoder.decodeLabels(contentsOf: missingDir) }
            #expect(ImageError.fileNotFound(path: missing).description.contains(missing))

            let directory = S.error { () throws(ImageError) in try ImageDecoder.decodeRGB(contentsOf: dir) }
            guard case .unreadable(path: dir, let reason)? = directory else {
                Issue.record("expected unreadable, got \(String(describing: directory))")
                return
            }
            #expect(reason.contains("directory"))

            let empty = dir + "/empty.jpg"
            try S.writeFile([], to: empty)
            #expect(throws: ImageError.empty(path: empty)) { try ImageDecoder.decodeRGB(contentsOf: empty) }
            #expect(ImageError.empty(path: empty).description.contains(empty))
        }
    }

    @Test("foreign files: text, HTML, GIF, random bytes")
    func foreignFiles() throws {
        let cases: [(String, [UInt8], String)] = [
            ("notes.png", Array("just some text\nnot an image\n".utf8), "text"),
            ("page.jpg", Array("<!DOCTYPE html><html><body>404</body></html>".utf8), "HTML"),
            ("anim.png", Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0], "GIF"),
            ("noise.png", [0x00, 0x13] + S.pseudoRandomBytes(count: 1000, seed: 7), "neither"),
        ]
        try S.withTemporaryDirectory { dir in
            for (name, bytes, word) in cases {
                let path = dir + "/" + name
                try S.writeFile(bytes, to: path)
                let error = S.error { () throws(ImageError) in try ImageDecoder.decodeRGB(contentsOf: path) }
                guard case .unsupportedFormat(path: path, let reason)? = error else {
                    Issue.record("\(name): expected unsupportedFormat, got \(String(describing: error))")
                    continue
                }
                #expect(reason.contains(word), "\(reason)")
                #expect(error!.description.contains(path))
            }
        }
    }

    @Test("random bytes behind a valid signature are reported as damage")
    func garbageAfterSignature() {
        for seed in UInt64(1)...20 {
            let noise = S.pseudoRandomBytes(count: 2000, seed: seed)
            for head in [Array(Self.samplePNG.prefix(8)), Array(Self.samplePNG.prefix(33)), [0xFF, 0xD8, 0xFF]] {
                let error = S.error { () throws(ImageError) in try ImageDecoder.decodeRGB(data: head + noise, name: "g") }
                switch error {
                case .corrupt(path: "g", _)?, .truncated(path: "g")?, .unsupportedFormat(path: "g", _)?,
                     .tooLarge(path: "g", _, _)?:
                    break
                default:
                    Issue.record("seed \(seed): unexpected \(String(describing: error))")
                }
            }
        }
    }

    @Test("a PNG cut anywhere is truncated (or corrupt), never a partial image")
    func truncatedPNG() {
        let png = Self.samplePNG
        let idat = ImageTestPNG.chunkOffset("IDAT", in: png)!
        let iend = ImageTestPNG.chunkOffset("IEND", in: png)!
        // Named cut points: inside the signature, header only, inside IHDR, mid-IDAT, just
        // before IEND, inside IEND's CRC.
        for cut in [4, 8, 20, 33, idat + 4, (idat + iend) / 2, iend, png.count - 1] {
            let name = "cut-\(cut).png"
            #expect(throws: ImageError.truncated(path: name), "cut at \(cut) of \(png.count)") {
                try ImageDecoder.decodeRGB(data: Array(png.prefix(cut)), name: name)
            }
        }
        #expect(ImageError.truncated(path: "x/y.png").description.contains("x/y.png"))
        // Every other cut point of a small synthetic file, in both decoding modes.
        let small = ImageTestPNG.pattern(.palette, depth: 4, interlaced: true).bytes
        for cut in 1..<small.count {
            let data = Array(small.prefix(cut))
            for labels in [false, true] {
                let error = S.error { () throws(ImageError) in
                    if labels { _ = try ImageDecoder.decodeLabels(data: data, name: "s") }
                    else { _ = try ImageDecoder.decodeRGB(data: data, name: "s") }
                }
                switch error {
                case .truncated(path: "s")?, .corrupt(path: "s", _)?: break
                default: Issue.record("cut \(cut): unexpected \(String(describing: error))")
                }
            }
        }
    }

    @Test("a JPEG cut in half is truncated, not padded with grey")
    func truncatedJPEG() throws {
        try S.withTemporaryDirectory { dir in
            let full = try S.bytes(S.cocoImages + "/000000000025.jpg")
            let path = dir + "/half.jpg"
            try S.writeFile(Array(full.prefix(full.count / 2)), to: path)
            #expect(throws: ImageError.truncated(path: path)) { try ImageDecoder.decodeRGB(contentsOf: path) }
        }
        // Every cut of the small baseline and progressive JPEGs fails, except dropping only
        // the final EOI marker (all pixels present).
        for (label, jpeg) in [("baseline", S.baselineJPEG), ("progressive", S.progressiveJPEG)] {
            for cut in 1..<(jpeg.count - 2) {
                let error = S.error { () throws(ImageError) in
                    try ImageDecoder.decodeRGB(data: Array(jpeg.prefix(cut)), name: label)
                }
                switch error {
                case .truncated(path: label)?, .corrupt(path: label, _)?: break
                default: Issue.record("\(label) cut \(cut): unexpected \(String(describing: error))")
                }
            }
        }
    }

    @Test("CRC errors are corruption, in critical and ancillary chunks")
    func crcErrors() {
        var withText = ImageTestPNG.pattern(.rgb, depth: 8)
        withText.extraChunks = [("tEXt", Array("Title\u{0}x".utf8))]
        let cases: [(String, [UInt8])] = [("IHDR", Self.samplePNG), ("IDAT", Self.samplePNG),
                                          ("IEND", Self.samplePNG), ("tEXt", withText.bytes)]
        for (chunk, file) in cases {
            var damaged = file
            let offset = ImageTestPNG.chunkOffset(chunk, in: damaged)!
            let length = Int(damaged[offset]) << 24 | Int(damaged[offset + 1]) << 16
                | Int(damaged[offset + 2]) << 8 | Int(damaged[offset + 3])
            damaged[offset + 8 + length] ^= 0x01 // first CRC byte
            let name = "crc-\(chunk).png"
            let error = S.error { () throws(ImageError) in try ImageDecoder.decodeRGB(data: damaged, name: name) }
            guard case .corrupt(path: name, let reason)? = error else {
                Issue.record("\(chunk): expected corrupt, got \(String(describing: error))")
                continue
            }
            #expect(reason.contains("CRC"), "\(reason)")
            #expect(error!.description.contains(name))
        }
    }

    @Test("flipped bytes anywhere never crash or hang")
    func mutations() {
        var outcomes = [String: Int]()
        for (label, file) in [("png", Self.samplePNG), ("jpeg", S.baselineJPEG), ("progressive", S.progressiveJPEG)] {
            var state: UInt64 = 12345
            for _ in 0..<150 {
                var damaged = file
                for _ in 0..<3 {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    damaged[Int(state >> 33) % damaged.count] ^= UInt8(truncatingIfNeeded: state >> 20) | 1
                }
                do {
                    let image = try ImageDecoder.decodeRGB(data: damaged, name: label)
                    #expect(image.pixels.count == image.width * image.height * 3)
                    outcomes["\(label) decoded", default: 0] += 1
                } catch {
                    #expect(error.path == label)
                    outcomes["\(label) \(error)".split(separator: "(").first.map(String.init)!, default: 0] += 1
                }
            }
        }
        #expect(!outcomes.isEmpty)
    }

    @Test("a PNG header claiming 20000×20000 or a zero side is refused before decoding")
    func oversizedPNG() {
        for (w, h) in [(20_000, 20_000), (0, 10), (10, 0), (2_000_000_000, 2_000_000_000)] {
            var png = ImageTestPNG.pattern(.rgb, depth: 8, width: 1, height: 1)
            png.width = w // only the IHDR changes; there is no pixel data behind it
            png.height = h
            png.headerOnly = true
            let name = "huge-\(w)x\(h).png"
            // With no pixel data behind the header, `tooLarge` (not `truncated`) shows the
            // size was refused before any decoding started.
            #expect(throws: ImageError.tooLarge(path: name, width: w, height: h)) {
                try ImageDecoder.decodeRGB(data: png.bytes, name: name)
            }
            #expect(throws: ImageError.tooLarge(path: name, width: w, height: h)) {
                try ImageDecoder.decodeLabels(data: png.bytes, name: name)
            }
            #expect(ImageError.tooLarge(path: name, width: w, height: h).description.contains(name))
        }
        // Just above the limit (10001×10000) is refused, a legitimately long strip is not.
        var justAbove = ImageTestPNG.pattern(.gray, depth: 8, width: 1, height: 1)
        justAbove.width = 10_001
        justAbove.height = 10_000
        justAbove.headerOnly = true
        #expect(throws: ImageError.tooLarge(path: "a", width: 10_001, height: 10_000)) {
            try ImageDecoder.decodeRGB(data: justAbove.bytes, name: "a")
        }
        let strip = ImageTestPNG.pattern(.gray, depth: 1, width: 1_500_000, height: 1)
        #expect((try? ImageDecoder.decodeLabels(data: strip.bytes, name: "strip"))?.width == 1_500_000)
    }

    /// Rewrites the height/width of the first SOF0/SOF2 segment of a real JPEG.
    static func withSOFSize(_ jpeg: [UInt8], width: Int, height: Int) -> [UInt8] {
        var data = jpeg
        var i = 2
        while i + 9 < data.count {
            guard data[i] == 0xFF else { i += 1; continue }
            let marker = data[i + 1]
            let length = Int(data[i + 2]) << 8 | Int(data[i + 3])
            if marker == 0xC0 || marker == 0xC2 {
                data[i + 5] = UInt8(height >> 8); data[i + 6] = UInt8(height & 255)
                data[i + 7] = UInt8(width >> 8); data[i + 8] = UInt8(width & 255)
                return data
            }
            i += 2 + length
        }
        fatalError("no SOF marker")
    }

    @Test("a JPEG SOF claiming 65000×65000 (or a zero side, or > 65500) is refused before decoding")
    func oversizedJPEG() throws {
        let real = try S.bytes(S.cocoImages + "/000000000009.jpg")
        for (w, h) in [(65_000, 65_000), (10_001, 10_000), (0, 480), (640, 0), (65_535, 65_535)] {
            let name = "huge-\(w)x\(h).jpg"
            let data = Self.withSOFSize(real, width: w, height: h)
            #expect(throws: ImageError.tooLarge(path: name, width: w, height: h)) {
                try ImageDecoder.decodeRGB(data: data, name: name)
            }
            // Cut after the scan header, decoding would fail as `truncated`: `tooLarge`
            // shows the size was refused first.
            #expect(throws: ImageError.tooLarge(path: name, width: w, height: h)) {
                try ImageDecoder.decodeRGB(data: Self.headersOnly(data), name: name)
            }
        }
        // The cut file is indeed truncated for a decoder that gets past the size check.
        #expect(throws: ImageError.truncated(path: "cut.jpg")) {
            try ImageDecoder.decodeRGB(data: Self.headersOnly(real), name: "cut.jpg")
        }
    }

    /// A JPEG's markers up to and including its first scan header, without the scan's data.
    static func headersOnly(_ jpeg: [UInt8]) -> [UInt8] {
        var i = 2
        while i + 3 < jpeg.count {
            let length = Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])
            if jpeg[i + 1] == 0xDA { return Array(jpeg[..<(i + 2 + length)]) }
            i += 2 + length
        }
        fatalError("no SOS marker")
    }

    /// The progressive JPEG with its last scan repeated `extra` times before EOI.
    static func withRepeatedLastScan(_ jpeg: [UInt8], extra: Int) -> [UInt8] {
        var i = 2
        var lastScan = 0..<0
        while i + 3 < jpeg.count, jpeg[i + 1] != 0xD9 {
            let length = Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])
            var end = i + 2 + length
            if jpeg[i + 1] == 0xDA { // entropy-coded data runs to the next non-RST marker
                while !(jpeg[end] == 0xFF && jpeg[end + 1] != 0 && !(0xD0...0xD7).contains(jpeg[end + 1])) {
                    end += 1
                }
                lastScan = i..<end
            }
            i = end
        }
        var out = Array(jpeg[..<i])
        for _ in 0..<extra { out += jpeg[lastScan] }
        return out + [0xFF, 0xD9]
    }

    @Test("a progressive JPEG with hundreds of scans is refused instead of decoded for minutes")
    func tooManyScans() {
        let hostile = Self.withRepeatedLastScan(S.progressiveJPEG, extra: 600)
        let error = S.error { () throws(ImageError) in try ImageDecoder.decodeRGB(data: hostile, name: "scans.jpg") }
        guard case .corrupt(path: "scans.jpg", let reason)? = error else {
            Issue.record("expected corrupt, got \(String(describing: error))")
            return
        }
        // Only the scan counter, which stops decoding at its limit, gives this reason.
        #expect(reason.contains("scans"))
        // A handful of extra scans is merely odd, not refused.
        #expect((try? ImageDecoder.decodeRGB(data: Self.withRepeatedLastScan(S.progressiveJPEG, extra: 3), name: "x"))?.width == 48)
    }
}
