import DivSegCore
import DivSegIO

/// Heat maps of per-location scores (localizer scores S_c, class probabilities, …) over
/// the image they were computed for.
///
/// ```swift
/// let scores = giraffe.score(compact)                  // a ClassLocalizer: 64 × 84, row-major
/// let picture = HeatMap.render(image: photo, scores: scores,
///                              width: FeatureGrid.width, height: FeatureGrid.height)
/// try PNGEncoder.write(picture, to: "out/000000000025_giraffe.png")
/// ```
public enum HeatMap {
    /// `image` overlaid with `scores` (a `height × width` grid, row-major) upsampled
    /// bilinearly to the image size (half-pixel centres, as
    /// ``Resampler/resize(_:height:width:antialias:)``), mapped through `colorMap`, and
    /// blended: `out = (1 − alpha) · pixel + alpha · colour`.
    ///
    /// - Parameters:
    ///   - range: the scores shown as the coolest and hottest colours; values outside are
    ///     clamped. Default: the minimum…maximum of the finite scores (a constant map shows
    ///     as the coolest colour). Fix it (e.g. `0...1`) to compare images on one scale.
    ///   - alpha: opacity of the heat map, clamped to `0...1`.
    /// - Returns: an RGB image of the image's size. The grid location `(i, j)` lands on the
    ///   image around `((j + ½) · W / width, (i + ½) · H / height)`.
    /// - Precondition: `scores.count == width * height`, `width, height > 0`.
    public static func render(image: Image, scores: [Float], width: Int, height: Int,
                              range: ClosedRange<Float>? = nil, alpha: Float = 0.6,
                              colorMap: ColorMap = .inferno) -> Image {
        precondition(width > 0 && height > 0 && scores.count == width * height,
                     "HeatMap needs width × height = \(width) × \(height) scores, got \(scores.count)")
        var out = Overlay.rgbPixels(of: image)
        let outWidth = image.width, outHeight = image.height
        if outWidth == 0 || outHeight == 0 {
            return Image(width: outWidth, height: outHeight, channels: 3, pixels: out)
        }
        let grid = Tensor(shape: [1, height, width], scalars: scores)
        let upsampled = Resampler.resize(grid, height: outHeight, width: outWidth)
        let (lo, scale) = normalization(scores, range)
        let a = Int((max(0, min(1, alpha.isNaN ? 0 : alpha)) * 256).rounded())
        let keep = 256 - a
        var tint = [Int](repeating: 0, count: 768)
        for i in 0..<768 { tint[i] = Int(colorMap.rgb[i]) * a + 128 }
        upsampled.scalars.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                tint.withUnsafeBufferPointer { t in
                    let sp = s.baseAddress!, op = o.baseAddress!, tp = t.baseAddress!
                    Parallel.forEachChunk(of: 0..<outHeight, minimumChunk: 32) { rows in
                        for y in rows {
                            for x in 0..<outWidth {
                                let i = y * outWidth + x
                                let entry = 3 * Int(ColorMap.index(of: (sp[i] - lo) * scale))
                                let p = op + 3 * i
                                p[0] = UInt8(truncatingIfNeeded: (Int(p[0]) * keep + tp[entry]) >> 8)
                                p[1] = UInt8(truncatingIfNeeded: (Int(p[1]) * keep + tp[entry + 1]) >> 8)
                                p[2] = UInt8(truncatingIfNeeded: (Int(p[2]) * keep + tp[entry + 2]) >> 8)
                            }
                        }
                    }
                }
            }
        }
        return Image(width: outWidth, height: outHeight, channels: 3, pixels: out)
    }

    /// The score grid alone as an RGB image of `width × height` pixels, one per location
    /// (no upsampling, no blending); `range` as in ``render(image:scores:width:height:range:alpha:colorMap:)``.
    ///
    /// ```swift
    /// try PNGEncoder.write(HeatMap.colorize(scores: s, width: 84, height: 64), to: "s.png")
    /// ```
    public static func colorize(scores: [Float], width: Int, height: Int,
                                range: ClosedRange<Float>? = nil, colorMap: ColorMap = .inferno) -> Image {
        precondition(width > 0 && height > 0 && scores.count == width * height,
                     "HeatMap needs width × height = \(width) × \(height) scores, got \(scores.count)")
        let (lo, scale) = normalization(scores, range)
        var pixels = [UInt8](repeating: 0, count: 3 * scores.count)
        for (i, v) in scores.enumerated() {
            let c = colorMap.color(index: ColorMap.index(of: (v - lo) * scale))
            pixels[3 * i] = c.r
            pixels[3 * i + 1] = c.g
            pixels[3 * i + 2] = c.b
        }
        return Image(width: width, height: height, channels: 3, pixels: pixels)
    }

    /// `(lower, 1 / (upper − lower))`, or a zero scale for an empty or degenerate range.
    static func normalization(_ scores: [Float], _ range: ClosedRange<Float>?) -> (Float, Float) {
        var lo: Float, hi: Float
        if let range {
            (lo, hi) = (range.lowerBound, range.upperBound)
        } else {
            (lo, hi) = (.infinity, -.infinity)
            for v in scores where v.isFinite {
                lo = min(lo, v)
                hi = max(hi, v)
            }
        }
        guard lo.isFinite, hi.isFinite, hi > lo else { return (lo.isFinite ? lo : 0, 0) }
        return (lo, 1 / (hi - lo))
    }
}
