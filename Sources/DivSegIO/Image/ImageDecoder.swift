import CDivSegShims

/// Decodes PNG and JPEG files into ``Image`` (photos) and ``LabelMap`` (ground-truth masks).
///
/// The format is recognised by the file's first bytes, never by its extension. Decoding is
/// done in C (libpng, libjpeg-turbo) and is safe to call from many threads at once.
/// Malformed input never crashes or hangs: it throws an ``ImageError`` naming the file.
///
/// ```swift
/// let photo = try ImageDecoder.decodeRGB(contentsOf: "coco/000000000025.jpg")
/// let truth = try ImageDecoder.decodeLabels(contentsOf: "voc/SegmentationClass/2007_000032.png")
/// precondition(photo.channels == 3)
/// ```
public enum ImageDecoder {
    /// Images whose header claims more pixels than this (100 megapixels) are refused with
    /// ``ImageError/tooLarge(path:width:height:)`` before any pixel memory is allocated.
    public static let maxPixels = 100_000_000

    /// Decodes a PNG or JPEG file to 8-bit RGB (`channels == 3`).
    ///
    /// - PNG: gray, gray+alpha, RGB, RGBA and palette images of any bit depth, interlaced or
    ///   not. Gray is replicated to RGB, palettes are expanded, 16-bit samples keep their high
    ///   byte (as Pillow does). **Alpha is dropped, not composited**: transparent pixels keep
    ///   whatever colour they store. Gamma and ICC profiles are ignored (values as stored).
    /// - JPEG: baseline and progressive, grayscale, YCbCr and RGB; CMYK/YCCK are converted
    ///   naively (Adobe-inverted CMYK recognised, no ICC). **EXIF orientation is ignored**:
    ///   pixels come in stored order, as in COCO/VOC-style pipelines, so a rotated phone photo
    ///   stays rotated. A file whose data ends before all of its pixels is
    ///   ``ImageError/truncated(path:)`` (libjpeg alone would pad it with grey). A baseline
    ///   JPEG lacking only its final end-of-image marker is complete and accepted; a
    ///   progressive one is refused, as missing final scans cannot be ruled out.
    ///
    /// ```swift
    /// let image = try ImageDecoder.decodeRGB(contentsOf: "photos/cat.jpg")
    /// print(image.width, image.height)
    /// ```
    public static func decodeRGB(contentsOf path: String) throws(ImageError) -> Image {
        try decodeRGB(data: ImageFile.read(path), name: path)
    }

    /// Decodes PNG or JPEG bytes already in memory; see ``decodeRGB(contentsOf:)``.
    /// `name` stands in for the path in errors (a file name, URL, archive member, …).
    ///
    /// ```swift
    /// let image = try ImageDecoder.decodeRGB(data: bytes, name: "upload #3")
    /// ```
    public static func decodeRGB(data: [UInt8], name: String) throws(ImageError) -> Image {
        let decoded: Decoded
        switch try format(of: data, name: name) {
        case .png:
            decoded = try run(name, data) { ds_png_decode($0, $1, DS_PNG_RGB8, maxPixels, $2, $3, $4) }
        case .jpeg:
            decoded = try run(name, data) { ds_jpeg_decode($0, $1, maxPixels, $2, $3, $4) }
        }
        return Image(width: decoded.width, height: decoded.height, channels: 3, pixels: decoded.bytes)
    }

    /// Decodes a label PNG: one class id per pixel, for ground-truth masks.
    ///
    /// Palette PNGs (VOC `SegmentationClass`) give their raw palette indices, whatever the
    /// colours; grayscale PNGs of 8 bits or fewer (COCO-style masks) give their raw values,
    /// not rescaled. RGB, alpha and 16-bit PNGs and JPEGs are refused with
    /// ``ImageError/notALabelImage(path:reason:)``: their pixel values are not class ids.
    ///
    /// ```swift
    /// let truth = try ImageDecoder.decodeLabels(contentsOf: "SegmentationClass/2007_000032.png")
    /// let ignored = truth.labels.filter { $0 == 255 }.count
    /// ```
    public static func decodeLabels(contentsOf path: String) throws(ImageError) -> LabelMap {
        try decodeLabels(data: ImageFile.read(path), name: path)
    }

    /// Decodes label PNG bytes already in memory; see ``decodeLabels(contentsOf:)``.
    public static func decodeLabels(data: [UInt8], name: String) throws(ImageError) -> LabelMap {
        switch try format(of: data, name: name) {
        case .png:
            let decoded = try run(name, data) {
                ds_png_decode($0, $1, DS_PNG_LABELS, maxPixels, $2, $3, $4)
            }
            return LabelMap(width: decoded.width, height: decoded.height, labels: decoded.bytes)
        case .jpeg:
            throw .notALabelImage(path: name, reason: "it is a JPEG, whose lossy compression "
                                  + "blurs class ids; masks must be stored as PNG")
        }
    }

    // MARK: - Bridge to C

    private struct Decoded {
        var width: Int
        var height: Int
        var bytes: [UInt8]
    }

    private static func format(of data: [UInt8], name: String) throws(ImageError) -> ImageFormat {
        if data.isEmpty { throw .empty(path: name) }
        guard let format = ImageFormat.detect(data) else {
            throw .unsupportedFormat(path: name, reason: ImageFormat.describeForeign(data))
        }
        return format
    }

    private typealias DecodeCall = (UnsafePointer<UInt8>, Int, UnsafeMutablePointer<ds_decoded>,
                                    UnsafeMutablePointer<CChar>, Int) -> ds_status

    /// Runs one C decode and takes ownership of its buffer: the pixels are copied once into
    /// a Swift array (a memcpy) and the C buffer is freed on every path.
    private static func run(_ name: String, _ data: [UInt8], _ call: DecodeCall) throws(ImageError) -> Decoded {
        var out = ds_decoded()
        var message = [CChar](repeating: 0, count: 512)
        let status = data.withUnsafeBufferPointer { input in
            message.withUnsafeMutableBufferPointer { text in
                call(input.baseAddress!, input.count, &out, text.baseAddress!, text.count)
            }
        }
        if status == DS_OK {
            defer { ds_free(out.data) }
            let bytes = Array(UnsafeBufferPointer(start: out.data, count: out.size))
            return Decoded(width: Int(out.width), height: Int(out.height), bytes: bytes)
        }
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                            as: UTF8.self)
        switch status {
        case DS_ERR_TRUNCATED:
            throw .truncated(path: name)
        case DS_ERR_TOO_LARGE:
            throw .tooLarge(path: name, width: Int(out.width), height: Int(out.height))
        case DS_ERR_UNSUPPORTED:
            throw .unsupportedFormat(path: name, reason: reason)
        case DS_ERR_NOMEM:
            throw .unreadable(path: name, reason: "memory ran out while decoding it (\(reason))")
        case DS_ERR_NOT_LABELS:
            throw .notALabelImage(path: name, reason: reason)
        default: // DS_ERR_CORRUPT, and DS_ERR_INVALID_ARGUMENT which Swift never causes
            throw .corrupt(path: name, reason: reason)
        }
    }
}
