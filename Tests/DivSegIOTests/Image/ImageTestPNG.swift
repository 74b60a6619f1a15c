/// A minimal PNG writer for tests, independent of libpng: every colour type and bit depth,
/// Adam7 interlacing, tRNS, extra chunks, IDAT split into small chunks (so files can be
/// cut "mid-IDAT"), deflate "stored" blocks (no compression needed). With it the decoder is
/// checked against files not produced by the library under test.
struct ImageTestPNG {
    enum ColorType: UInt8, CaseIterable {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

        var channels: Int {
            switch self {
            case .gray, .palette: return 1
            case .grayAlpha: return 2
            case .rgb: return 3
            case .rgba: return 4
            }
        }

        var validDepths: [Int] {
            switch self {
            case .gray: return [1, 2, 4, 8, 16]
            case .palette: return [1, 2, 4, 8]
            case .rgb, .grayAlpha, .rgba: return [8, 16]
            }
        }
    }

    var width: Int
    var height: Int
    var colorType: ColorType
    var bitDepth: Int
    var interlaced = false
    /// width * height * channels sample values, each in 0 ..< 2^bitDepth.
    var samples: [Int]
    /// RGB triples (palette images).
    var palette: [UInt8]? = nil
    /// Raw tRNS chunk data.
    var transparency: [UInt8]? = nil
    /// Ancillary chunks written before IDAT.
    var extraChunks: [(type: String, data: [UInt8])] = []
    var idatChunkSize = 100
    /// Writes no IDAT at all: for headers whose claimed size does not match `samples`.
    var headerOnly = false

    /// A deterministic test image whose samples vary in every bit.
    static func pattern(_ colorType: ColorType, depth: Int, width: Int = 13, height: Int = 11,
                        interlaced: Bool = false, withTransparency: Bool = false) -> ImageTestPNG {
        let max = (1 << depth) - 1
        let channels = colorType.channels
        var samples = [Int]()
        samples.reserveCapacity(width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    samples.append(depth == 16 ? (x * 7919 + y * 104_729 + c * 40_503) & max
                                               : (x * 7 + y * 13 + c * 29 + 5) & max)
                }
            }
        }
        var png = ImageTestPNG(width: width, height: height, colorType: colorType, bitDepth: depth,
                               interlaced: interlaced, samples: samples)
        if colorType == .palette {
            var palette = [UInt8]()
            for i in 0...max {
                let r: Int = (i * 37 + 11) % 256, g: Int = (i * 91 + 3) % 256, b: Int = (i * 53 + 200) % 256
                palette += [UInt8(r), UInt8(g), UInt8(b)]
            }
            png.palette = palette
        }
        if withTransparency {
            switch colorType {
            case .palette: png.transparency = [0, 128, 255, 7].prefix(max + 1).map { $0 }
            case .gray: png.transparency = [0, 1]
            case .rgb: png.transparency = [0, 5, 0, 5, 0, 5]
            default: break
            }
        }
        return png
    }

    /// What decodeRGB must return: gray replicated and scaled to 8 bits, palette expanded,
    /// 16-bit reduced to its high byte, alpha dropped.
    var expectedRGB: [UInt8] {
        let channels = colorType.channels
        var out = [UInt8]()
        out.reserveCapacity(width * height * 3)
        func to8(_ v: Int) -> UInt8 {
            bitDepth == 16 ? UInt8(v >> 8) : UInt8(v * 255 / ((1 << bitDepth) - 1))
        }
        for p in 0..<(width * height) {
            let s = Array(samples[(p * channels)..<(p * channels + channels)])
            switch colorType {
            case .gray, .grayAlpha: out += [to8(s[0]), to8(s[0]), to8(s[0])]
            case .rgb, .rgba: out += [to8(s[0]), to8(s[1]), to8(s[2])]
            case .palette: out += palette![(3 * s[0])..<(3 * s[0] + 3)]
            }
        }
        return out
    }

    var bytes: [UInt8] {
        var header = ImageTestPNG.be32(width) + ImageTestPNG.be32(height)
        header += [UInt8(bitDepth), colorType.rawValue, 0, 0, interlaced ? 1 : 0]
        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        file += ImageTestPNG.chunk("IHDR", header)
        for extra in extraChunks { file += ImageTestPNG.chunk(extra.type, extra.data) }
        if let palette { file += ImageTestPNG.chunk("PLTE", palette) }
        if let transparency { file += ImageTestPNG.chunk("tRNS", transparency) }
        let stream = headerOnly ? [] : ImageTestPNG.zlibStored(scanlines)
        var offset = 0
        while offset < stream.count {
            let end = min(offset + idatChunkSize, stream.count)
            file += ImageTestPNG.chunk("IDAT", Array(stream[offset..<end]))
            offset = end
        }
        file += ImageTestPNG.chunk("IEND", [])
        return file
    }

    /// Filter byte 0 + packed samples per row; for Adam7, the rows of each non-empty pass.
    private var scanlines: [UInt8] {
        let passes: [(x0: Int, y0: Int, dx: Int, dy: Int)] = interlaced
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)]
        let channels = colorType.channels
        var data = [UInt8]()
        for pass in passes {
            let xs = Array(stride(from: pass.x0, to: width, by: pass.dx))
            let ys = Array(stride(from: pass.y0, to: height, by: pass.dy))
            if xs.isEmpty || ys.isEmpty { continue }
            for y in ys {
                data.append(0)
                var bits = 0, acc = 0
                for x in xs {
                    for c in 0..<channels {
                        let v = samples[(y * width + x) * channels + c]
                        if bitDepth == 16 {
                            data += [UInt8(v >> 8), UInt8(v & 255)]
                        } else {
                            acc = (acc << bitDepth) | v
                            bits += bitDepth
                            if bits == 8 { data.append(UInt8(acc)); acc = 0; bits = 0 }
                        }
                    }
                }
                if bits > 0 { data.append(UInt8(acc << (8 - bits))) }
            }
        }
        return data
    }

    static func be32(_ v: Int) -> [UInt8] {
        [UInt8((v >> 24) & 255), UInt8((v >> 16) & 255), UInt8((v >> 8) & 255), UInt8(v & 255)]
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeAndData = Array(type.utf8) + data
        return be32(data.count) + typeAndData + be32(Int(crc32(typeAndData)))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// zlib stream of uncompressed deflate blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out += [final, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8((~n >> 8) & 255)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return out + be32(Int((b << 16) | a))
    }

    /// Offset of the first chunk of `type` in a PNG file (its length field), or nil.
    static func chunkOffset(_ type: String, in file: [UInt8]) -> Int? {
        var offset = 8
        let wanted = Array(type.utf8)
        while offset + 8 <= file.count {
            let length = Int(file[offset]) << 24 | Int(file[offset + 1]) << 16
                | Int(file[offset + 2]) << 8 | Int(file[offset + 3])
            if Array(file[(offset + 4)..<(offset + 8)]) == wanted { return offset }
            offset += 12 + length
        }
        return nil
    }
}
