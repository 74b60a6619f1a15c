/// Why an image could not be read, decoded or written.
///
/// Every case names the file (for in-memory data, the `name` the caller passed), and
/// ``description`` is a sentence a user can act on:
///
/// ```swift
/// do {
///     let image = try ImageDecoder.decodeRGB(contentsOf: "photos/cat.jpg")
/// } catch {
///     print(error)   // 'photos/cat.jpg' is truncated: the file ends before its image data does …
/// }
/// ```
public enum ImageError: Error, Equatable, CustomStringConvertible {
    /// No file at the path (or a directory on the way does not exist).
    case fileNotFound(path: String)
    /// The file exists but could not be read: permissions, a directory, an I/O error, or
    /// memory ran out while decoding it.
    case unreadable(path: String, reason: String)
    /// The file has zero bytes.
    case empty(path: String)
    /// Not a PNG or JPEG (judged by the first bytes, not the extension), or a PNG/JPEG
    /// variant this build cannot decode (12-bit or lossless JPEG, …).
    case unsupportedFormat(path: String, reason: String)
    /// The data is damaged: a CRC mismatch, an invalid header, a corrupt compressed stream.
    case corrupt(path: String, reason: String)
    /// The file ends before the image data does.
    case truncated(path: String)
    /// The header claims more than ``ImageDecoder/maxPixels`` pixels, or a zero width or
    /// height. Raised before any pixel memory is allocated.
    case tooLarge(path: String, width: Int, height: Int)
    /// ``ImageDecoder/decodeLabels(contentsOf:)`` was given something that does not hold one
    /// class id per pixel (an RGB, alpha or 16-bit PNG, or a JPEG).
    case notALabelImage(path: String, reason: String)
    /// Writing the file failed; the previous file at the path, if any, is unchanged.
    case writeFailed(path: String, reason: String)
    /// The in-memory image cannot be encoded (no file is involved yet).
    case cannotEncode(reason: String)

    /// The file the error is about (empty for ``cannotEncode(reason:)``).
    public var path: String {
        switch self {
        case .fileNotFound(let path), .unreadable(let path, _), .empty(let path),
             .unsupportedFormat(let path, _), .corrupt(let path, _), .truncated(let path),
             .tooLarge(let path, _, _), .notALabelImage(let path, _), .writeFailed(let path, _):
            return path
        case .cannotEncode:
            return ""
        }
    }

    /// One sentence naming the file, the problem and what to do about it.
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "No such file: '\(path)'. Check the path and the data root it is relative to."
        case .unreadable(let path, let reason):
            return "Cannot read '\(path)': \(reason)."
        case .empty(let path):
            return "'\(path)' is empty (0 bytes); re-download or re-export it."
        case .unsupportedFormat(let path, let reason):
            return "'\(path)' cannot be decoded: \(reason). Convert it to an 8-bit PNG or a "
                + "baseline/progressive JPEG."
        case .corrupt(let path, let reason):
            return "'\(path)' is damaged (\(reason)); re-download or re-export it."
        case .truncated(let path):
            return "'\(path)' is truncated: the file ends before its image data does (an "
                + "interrupted download or copy?); re-download or re-export it."
        case .tooLarge(let path, let width, let height):
            if width <= 0 || height <= 0 {
                return "'\(path)' claims to be \(width)×\(height) pixels; an image needs at "
                    + "least one pixel, so its header is damaged. Re-export it."
            }
            let megapixels = (Double(width) * Double(height) / 1e6).formatted1
            return "'\(path)' claims to be \(width)×\(height) pixels (\(megapixels) megapixels), "
                + "more than the limit of \(ImageDecoder.maxPixels / 1_000_000) megapixels; "
                + "downscale it first."
        case .notALabelImage(let path, let reason):
            return "'\(path)' is not a label image: \(reason). Ground-truth masks must be "
                + "palette PNGs (as in VOC) or 8-bit grayscale PNGs (as in COCO) holding one "
                + "class id per pixel."
        case .writeFailed(let path, let reason):
            return "Could not write '\(path)': \(reason). Any previous file there is unchanged."
        case .cannotEncode(let reason):
            return "Cannot encode the image as PNG: \(reason)."
        }
    }
}

extension Double {
    /// One decimal without Foundation's formatters.
    fileprivate var formatted1: String {
        let tenths = (self * 10).rounded()
        guard tenths.isFinite, abs(tenths) < 1e15 else { return "\(self)" }
        let t = Int(tenths)
        return "\(t / 10).\(abs(t % 10))"
    }
}
