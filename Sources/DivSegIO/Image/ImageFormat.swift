/// The container formats the decoder understands, recognised by their first bytes:
/// extensions lie (COCO and web scrapes contain PNGs named .jpg and vice versa).
enum ImageFormat: Sendable, Equatable {
    case png
    case jpeg

    private static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    private static let jpegSignature: [UInt8] = [0xFF, 0xD8, 0xFF]

    /// The format `bytes` start with. A file shorter than the signature that matches as far
    /// as it goes counts as that format, so that it is reported as truncated rather than as
    /// foreign.
    static func detect(_ bytes: [UInt8]) -> ImageFormat? {
        if matches(bytes, pngSignature) { return .png }
        if matches(bytes, jpegSignature) { return .jpeg }
        return nil
    }

    private static func matches(_ bytes: [UInt8], _ signature: [UInt8]) -> Bool {
        !bytes.isEmpty && bytes.prefix(signature.count).elementsEqual(signature.prefix(bytes.count))
    }

    /// A guess at what a foreign file is, for the error message: users mostly hit this with
    /// GIF/WebP/TIFF downloads or an HTML error page saved under an image name.
    static func describeForeign(_ bytes: [UInt8]) -> String {
        func starts(_ s: String) -> Bool { bytes.starts(with: Array(s.utf8)) }
        if starts("GIF87a") || starts("GIF89a") { return "it is a GIF file, not a PNG or JPEG" }
        if starts("RIFF") && bytes.count >= 12 && Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return "it is a WebP file, not a PNG or JPEG"
        }
        if starts("BM") { return "it looks like a BMP file, not a PNG or JPEG" }
        if starts("II*\u{0}") || starts("MM\u{0}*") { return "it is a TIFF file, not a PNG or JPEG" }
        if bytes.count >= 12 && Array(bytes[4..<8]) == Array("ftyp".utf8) {
            return "it is an HEIF/AVIF/MP4-family file, not a PNG or JPEG"
        }
        let head = bytes.prefix(512)
        let printable = head.allSatisfy { $0 == 9 || $0 == 10 || $0 == 13 || (32...126).contains($0) || $0 >= 0x80 }
        if printable {
            let text = String(decoding: head, as: UTF8.self).lowercased()
            if text.contains("<html") || text.contains("<!doctype") {
                return "it is an HTML page (a failed download?), not an image"
            }
            return "it is a text file, not a PNG or JPEG image"
        }
        return "it is neither a PNG nor a JPEG file (judged by its first bytes, not its name)"
    }
}
