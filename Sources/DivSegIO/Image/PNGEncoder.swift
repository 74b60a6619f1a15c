import CDivSegShims

/// Encodes images and label maps as PNG, in memory or to a file written atomically.
///
/// ```swift
/// try PNGEncoder.write(overlay, to: "out/000000000025_overlay.png")
/// try PNGEncoder.write(prediction, palette: .voc, to: "out/000000000025.png")
/// ```
public enum PNGEncoder {
    /// PNG bytes of an 8-bit image: gray (1 channel), gray+alpha (2), RGB (3) or RGBA (4).
    ///
    /// ```swift
    /// let bytes = try PNGEncoder.encode(Image(width: 2, height: 1, channels: 1, pixels: [0, 255]))
    /// ```
    /// - Throws: ``ImageError/cannotEncode(reason:)`` for an empty image or one whose
    ///   `pixels` do not match its size.
    public static func encode(_ image: Image) throws(ImageError) -> [UInt8] {
        guard (1...4).contains(image.channels) else {
            throw .cannotEncode(reason: "PNG holds 1 to 4 channels, the image has \(image.channels)")
        }
        try check(width: image.width, height: image.height, channels: image.channels,
                  count: image.pixels.count)
        return try run(image.pixels, image.width, image.height, image.channels, palette: nil)
    }

    /// Writes ``encode(_:)-(Image)`` to `path` atomically: a temporary file in the same
    /// directory is renamed over `path`, so no reader ever sees a half-written PNG and a
    /// failure leaves any previous file intact.
    public static func write(_ image: Image, to path: String) throws(ImageError) {
        try ImageFile.writeAtomically(forWriting(path) { () throws(ImageError) in try encode(image) },
                                      to: path)
    }

    /// An 8-bit palette PNG whose pixel values are the labels and whose PLTE holds all 256
    /// colours of `palette`: viewers show colours, ``ImageDecoder/decodeLabels(contentsOf:)``
    /// gives back exactly `labels` (the VOC ground-truth convention).
    ///
    /// ```swift
    /// let bytes = try PNGEncoder.encode(prediction, palette: .voc)
    /// ```
    public static func encode(_ labels: LabelMap, palette: ColorPalette) throws(ImageError) -> [UInt8] {
        try check(width: labels.width, height: labels.height, channels: 1, count: labels.labels.count)
        return try run(labels.labels, labels.width, labels.height, 1, palette: palette.rgb)
    }

    /// Writes ``encode(_:palette:)`` to `path` atomically (temporary file + rename).
    public static func write(_ labels: LabelMap, palette: ColorPalette, to path: String) throws(ImageError) {
        try ImageFile.writeAtomically(
            forWriting(path) { () throws(ImageError) in try encode(labels, palette: palette) }, to: path)
    }

    // MARK: - Helpers

    /// zlib's fastest level rather than its default (6): the overlays `segment` writes are
    /// photos, which level 6 packs only 7 % smaller at four times the cost (a 640×480
    /// overlay: 26 ms instead of 106 ms, 587 KB instead of 544 KB); label maps stay a few KB.
    static let compressionLevel: Int32 = 1

    /// Encoding problems surface as `writeFailed` naming the destination when writing.
    private static func forWriting(_ path: String, _ encode: () throws(ImageError) -> [UInt8]) throws(ImageError) -> [UInt8] {
        do {
            return try encode()
        } catch {
            if case .cannotEncode(let reason) = error {
                throw .writeFailed(path: path, reason: "the image cannot be encoded as PNG: \(reason)")
            }
            throw error
        }
    }

    /// `width`/`height`/`pixels` are public mutable fields, so a mismatch is possible here
    /// even though the initialisers check; C must never read past the buffer.
    private static func check(width: Int, height: Int, channels: Int, count: Int) throws(ImageError) {
        guard width > 0, height > 0 else {
            throw .cannotEncode(reason: "a PNG needs at least one pixel, the image is \(width)×\(height)")
        }
        guard width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw .cannotEncode(reason: "PNG sides are limited to 2^31-1 pixels, the image is \(width)×\(height)")
        }
        let (wh, o1) = width.multipliedReportingOverflow(by: height)
        let (needed, o2) = wh.multipliedReportingOverflow(by: channels)
        guard !o1, !o2, needed == count else {
            throw .cannotEncode(reason: "a \(width)×\(height) image with \(channels) channel(s) "
                                + "needs \(needed) bytes, but has \(count)")
        }
    }

    private static func run(_ pixels: [UInt8], _ width: Int, _ height: Int, _ channels: Int,
                            palette: [UInt8]?) throws(ImageError) -> [UInt8] {
        var out = ds_encoded()
        var message = [CChar](repeating: 0, count: 512)
        let status = pixels.withUnsafeBufferPointer { input in
            message.withUnsafeMutableBufferPointer { text in
                if let palette {
                    return palette.withUnsafeBufferPointer { colors in
                        ds_png_encode(input.baseAddress!, UInt32(width), UInt32(height), 1,
                                      colors.baseAddress!, Int32(colors.count / 3), compressionLevel,
                                      &out, text.baseAddress!, text.count)
                    }
                }
                return ds_png_encode(input.baseAddress!, UInt32(width), UInt32(height), Int32(channels),
                                     nil, 0, compressionLevel, &out, text.baseAddress!, text.count)
            }
        }
        guard status == DS_OK else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                                as: UTF8.self)
            throw .cannotEncode(reason: status == DS_ERR_NOMEM ? "out of memory (\(reason))" : reason)
        }
        defer { ds_free(out.data) }
        return Array(UnsafeBufferPointer(start: out.data, count: out.size))
    }
}
