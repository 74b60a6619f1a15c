/// An 8-bit image: row-major, channels interleaved (1 = gray, 3 = RGB; 2 and 4 add alpha
/// and are accepted by ``PNGEncoder`` too).
///
/// The byte of channel `c` of pixel `(x, y)` is `pixels[(y * width + x) * channels + c]`.
///
/// ```swift
/// let image = try ImageDecoder.decodeRGB(contentsOf: "cat.jpg")   // channels == 3
/// let i = (10 * image.width + 20) * image.channels
/// let (r, g, b) = (image.pixels[i], image.pixels[i + 1], image.pixels[i + 2])
/// ```
public struct Image: Sendable, Equatable {
    /// Pixels per row.
    public var width: Int
    /// Number of rows.
    public var height: Int
    /// Bytes per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
    public var channels: Int
    /// `height` rows of `width * channels` bytes, top row first.
    public var pixels: [UInt8]

    /// - Precondition: `pixels.count == width * height * channels`, sizes non-negative,
    ///   `channels` in 1...4. A mismatch is a programming error, not bad input data.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "Image size must not be negative")
        precondition((1...4).contains(channels), "Image channels must be 1...4, got \(channels)")
        let (wh, o1) = width.multipliedReportingOverflow(by: height)
        let (count, o2) = wh.multipliedReportingOverflow(by: channels)
        precondition(!o1 && !o2 && pixels.count == count,
                     "Image \(width)×\(height)×\(channels) needs \(count) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}
