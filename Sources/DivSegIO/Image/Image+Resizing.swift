import DivSegCore

extension Image {
    /// This image as 8-bit RGB of `height × width`: bilinear, antialiased when shrinking (the
    /// network input's resizing, ``Resampler/resize(_:height:width:antialias:)``); the image
    /// itself when it already has that size and three channels. Gray images are repeated into
    /// the three channels and alpha is dropped.
    ///
    /// ```swift
    /// let half = image.resized(height: image.height / 2, width: image.width / 2)
    /// ```
    ///
    /// - Precondition: `height` and `width` are positive.
    public func resized(height: Int, width: Int) -> Image {
        precondition(height > 0 && width > 0, "a resized image needs a positive size, got \(width)×\(height)")
        if self.height == height && self.width == width && channels == 3 { return self }
        let plane = self.width * self.height
        var scalars = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane {
            for c in 0..<3 { scalars[c * plane + i] = Float(pixels[i * channels + (channels >= 3 ? c : 0)]) }
        }
        let resized = Resampler.resize(Tensor(shape: [3, self.height, self.width], scalars: scalars),
                                       height: height, width: width)
        let out = height * width
        var bytes = [UInt8](repeating: 0, count: 3 * out)
        resized.scalars.withUnsafeBufferPointer { s in
            for i in 0..<out {
                for c in 0..<3 { bytes[i * 3 + c] = UInt8(max(0, min(255, s[c * out + i].rounded()))) }
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: bytes)
    }
}
