import DivSegCore
import DivSegIO

/// Turns segmenter logits on the feature grid into a full-resolution label map: bilinear
/// resizing of the logits to the image size (half-pixel centres, exactly as
/// ``Resampler/resize(_:height:width:antialias:)``), then the argmax per pixel
/// (DESIGN.md §1, "Prediction").
///
/// The `[C, H, W]` upsampled logits are never held in memory: the horizontal pass runs at
/// the grid's height (`C × h × W` floats, 3.8 MB for 23 classes at 64 → 640), and each output
/// row is finished (vertical pass + running argmax) from two of those rows, in parallel row
/// bands. The result equals `Resampler.resize` followed by a first-maximum argmax, bit for
/// bit.
///
/// ```swift
/// let logits = segmenter.logits(features)                         // [21, 64, 84]
/// let prediction = LabelUpsampler.labels(fromLogits: logits, height: 480, width: 640)
/// try matrix.add(groundTruth: truth, prediction: prediction)
/// ```
public enum LabelUpsampler {
    /// The per-pixel argmax of `logits` (`[C, h, w]`) resized to `height × width`.
    ///
    /// - Parameters:
    ///   - labelIDs: the label written for each channel (`labelIDs[c]` for channel `c`),
    ///     e.g. registry label ids; by default channel `c` gives label `c`.
    ///   - antialias: as in ``Resampler/resize(_:height:width:antialias:)``; matters only
    ///     when the grid is larger than the output.
    /// - Returns: a `width × height` map; ties go to the lowest channel, NaN never wins.
    /// - Precondition: `logits` is `[C, h, w]` with `1 ≤ C ≤ 256` and `h, w > 0`;
    ///   `height, width > 0`; `labelIDs`, if given, has `C` entries.
    public static func labels(fromLogits logits: Tensor, height: Int, width: Int,
                              labelIDs: [UInt8]? = nil, antialias: Bool = true) -> LabelMap {
        precondition(logits.rank == 3, "logits must be [C, h, w], got \(logits.shape)")
        let c = logits.shape[0], h = logits.shape[1], w = logits.shape[2]
        precondition((1...256).contains(c), "logits need 1...256 channels to fit UInt8 labels, got \(c)")
        precondition(h > 0 && w > 0 && height > 0 && width > 0, "sizes must be positive")
        let ids: [UInt8] = labelIDs ?? (0..<c).map { UInt8($0) }
        precondition(ids.count == c, "labelIDs has \(ids.count) entries for \(c) channels")

        // Same size: the resampler returns its input, so this is a plain argmax.
        let identity = w == width && h == height
        let horizontal = Taps(inputSize: w, outputSize: width, antialias: antialias)
        let vertical = Taps(inputSize: h, outputSize: height, antialias: antialias)

        // Horizontal pass: [C, h, width].
        var rows = [Float](repeating: 0, count: identity ? 0 : c * h * width)
        if !identity {
            logits.scalars.withUnsafeBufferPointer { src in
                rows.withUnsafeMutableBufferPointer { dst in
                    let s = src.baseAddress!, d = dst.baseAddress!
                    Parallel.forEachChunk(of: 0..<(c * h), minimumChunk: 16) { range in
                        for r in range {
                            let line = s + r * w, out = d + r * width
                            for x in 0..<width {
                                var acc: Float = 0
                                let first = horizontal.first[x]
                                for t in 0..<horizontal.count[x] {
                                    acc += horizontal.weights[x * horizontal.stride + t] * line[first + t]
                                }
                                out[x] = acc
                            }
                        }
                    }
                }
            }
        }

        var labels = [UInt8](repeating: 0, count: width * height)
        let planeStride = identity ? h * w : h * width
        let source = identity ? logits.scalars : rows
        source.withUnsafeBufferPointer { src in
            labels.withUnsafeMutableBufferPointer { out in
                ids.withUnsafeBufferPointer { idp in
                    let s = src.baseAddress!, o = out.baseAddress!
                    Parallel.forEachChunk(of: 0..<height, minimumChunk: 8) { band in
                        let value = UnsafeMutablePointer<Float>.allocate(capacity: width)
                        let best = UnsafeMutablePointer<Float>.allocate(capacity: width)
                        let arg = UnsafeMutablePointer<Int32>.allocate(capacity: width)
                        defer { value.deallocate(); best.deallocate(); arg.deallocate() }
                        for y in band {
                            for ch in 0..<c {
                                let plane = s + ch * planeStride
                                if identity {
                                    value.update(from: plane + y * width, count: width)
                                } else {
                                    // Vertical pass as the resampler does it: first tap, then
                                    // the others added in order (same rounding).
                                    let first = vertical.first[y]
                                    let weights = y * vertical.stride
                                    let w0 = vertical.weights[weights]
                                    let line0 = plane + first * width
                                    for x in 0..<width { value[x] = w0 * line0[x] }
                                    var t = 1
                                    while t < vertical.count[y] {
                                        let wt = vertical.weights[weights + t]
                                        let line = plane + (first + t) * width
                                        for x in 0..<width { value[x] += wt * line[x] }
                                        t += 1
                                    }
                                }
                                if ch == 0 {
                                    for x in 0..<width {
                                        // NaN never wins: it starts at -inf.
                                        best[x] = value[x].isNaN ? -.infinity : value[x]
                                        arg[x] = 0
                                    }
                                } else {
                                    let index = Int32(ch)
                                    for x in 0..<width where value[x] > best[x] {
                                        best[x] = value[x]
                                        arg[x] = index
                                    }
                                }
                            }
                            let row = o + y * width
                            for x in 0..<width { row[x] = idp[Int(arg[x])] }
                        }
                    }
                }
            }
        }
        return LabelMap(width: width, height: height, labels: labels)
    }

    /// Filter taps of ``Resampler`` (half-pixel centres; triangle widened by the scale when
    /// shrinking with antialiasing), recomputed here so that results match it bit for bit.
    private struct Taps {
        var first: [Int]
        var count: [Int]
        var weights: [Float]
        var stride: Int

        init(inputSize: Int, outputSize: Int, antialias: Bool) {
            let scale = Double(inputSize) / Double(outputSize)
            let support = antialias ? Swift.max(1, scale) : 1.0
            let filterScale = antialias ? Swift.max(1, scale) : 1.0
            stride = Int((support * 2).rounded(.up)) + 2
            first = [Int](repeating: 0, count: outputSize)
            count = [Int](repeating: 0, count: outputSize)
            weights = [Float](repeating: 0, count: outputSize * stride)
            for i in 0..<outputSize {
                let centre = (Double(i) + 0.5) * scale
                let lo = Swift.max(0, Int((centre - support).rounded(.down)))
                let hi = Swift.min(inputSize - 1, Int((centre + support).rounded(.up)))
                var taps: [Double] = []
                var start = -1
                for j in lo...hi {
                    let distance = abs(Double(j) + 0.5 - centre) / filterScale
                    let weight = Swift.max(0, 1 - distance)
                    if weight > 0 {
                        if start < 0 { start = j }
                        taps.append(weight)
                    } else if start >= 0 {
                        break
                    }
                }
                if start < 0 {
                    start = Swift.min(inputSize - 1, Swift.max(0, Int(centre)))
                    taps = [1]
                }
                let total = taps.reduce(0, +)
                first[i] = start
                count[i] = taps.count
                for (t, weight) in taps.enumerated() { weights[i * stride + t] = Float(weight / total) }
            }
        }
    }
}
