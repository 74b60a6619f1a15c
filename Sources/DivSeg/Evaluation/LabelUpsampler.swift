import DivSegCore
import DivSegIO

/// Turns segmenter logits on the feature grid into a full-resolution label map: bilinear
/// resizing of the logits to the image size (half-pixel centres, exactly as
/// ``Resampler/resize(_:height:width:antialias:)``), then the argmax per pixel
/// (TheMethod.md, "Prediction").
///
/// The `[C, H, W]` upsampled logits are never held in memory: the horizontal pass runs at
/// the grid's height (`C × h × W` floats, 3.8 MB for 23 classes at 64 → 640), and each output
/// row is finished (vertical pass fused with a running argmax, eight pixels at a time) from
/// two of those rows, in parallel row bands. The result equals `Resampler.resize` followed
/// by a first-maximum argmax, bit for bit. 23 × 64 × 84 → 480 × 640 takes ≈ 3 ms in a
/// release build on 2 cores (less than `Resampler.resize` alone).
///
/// ```swift
/// let logits = try segmenter.logits(features)                     // [21, 64, 84]
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
        let horizontal = ResamplingTaps(inputSize: w, outputSize: width, antialias: antialias)
        let vertical = ResamplingTaps(inputSize: h, outputSize: height, antialias: antialias)

        // Horizontal pass: [C, h, width].
        var rows = [Float](repeating: 0, count: identity ? 0 : c * h * width)
        if !identity {
            logits.scalars.withUnsafeBufferPointer { src in
                rows.withUnsafeMutableBufferPointer { dst in
                    horizontal.first.withUnsafeBufferPointer { firsts in
                        horizontal.count.withUnsafeBufferPointer { counts in
                            horizontal.weights.withUnsafeBufferPointer { weights in
                                let s = src.baseAddress!, d = dst.baseAddress!
                                let stride = horizontal.stride
                                Parallel.forEachChunk(of: 0..<(c * h), minimumChunk: 16) { range in
                                    for r in range {
                                        let line = s + r * w, out = d + r * width
                                        for x in 0..<width {
                                            var acc: Float = 0
                                            let first = firsts[x], taps = weights.baseAddress! + x * stride
                                            for t in 0..<counts[x] { acc += taps[t] * line[first + t] }
                                            out[x] = acc
                                        }
                                    }
                                }
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
                        let best = UnsafeMutablePointer<Float>.allocate(capacity: width)
                        let arg = UnsafeMutablePointer<Int32>.allocate(capacity: width)
                        defer { best.deallocate(); arg.deallocate() }
                        for y in band {
                            // Taps of this output row (the grid row itself when sizes agree).
                            let first = identity ? y : vertical.first[y]
                            let count = identity ? 1 : vertical.count[y]
                            let tapWeights = (0..<count).map { identity ? 1 : vertical.weights[y * vertical.stride + $0] }
                            for ch in 0..<c {
                                let plane = s + ch * planeStride
                                Self.accumulate(channel: Int32(ch), lines: plane + first * width,
                                                lineStride: width, weights: tapWeights, scale: !identity,
                                                width: width, best: best, arg: arg)
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

    /// Per-pixel class probabilities at full resolution: `logits` (`[C, h, w]`) resized to
    /// `height × width` exactly as ``labels(fromLogits:height:width:labelIDs:antialias:)``
    /// resizes them (``Resampler/resize(_:height:width:antialias:)``), then a softmax over
    /// the channels — the input a ``DenseCRF`` needs. `[C, height, width]`, 4 bytes per value
    /// (28 MB for 23 classes at 640×480), unlike the label path, which never holds it.
    ///
    /// ```swift
    /// let p = LabelUpsampler.probabilities(fromLogits: logits, height: 480, width: 640)
    /// let marginals = try DenseCRF().infer(image: image, probabilities: p)
    /// ```
    public static func probabilities(fromLogits logits: Tensor, height: Int, width: Int,
                                     antialias: Bool = true) -> Tensor {
        precondition(logits.rank == 3, "logits must be [C, h, w], got \(logits.shape)")
        precondition(logits.shape[0] > 0 && height > 0 && width > 0, "sizes must be positive")
        var up = Resampler.resize(logits, height: height, width: width, antialias: antialias)
        let c = logits.shape[0], plane = height * width
        up.scalars.withUnsafeMutableBufferPointer { buffer in
            let s = buffer.baseAddress!
            // Blocks of pixels small enough that their c plane segments stay in cache across
            // the passes (max, exp, normalise); the exp runs over contiguous segments.
            Parallel.forEachChunk(of: 0..<plane, minimumChunk: 4096) { range in
                let blockSize = 1024
                let top = UnsafeMutablePointer<Float>.allocate(capacity: blockSize)
                let total = UnsafeMutablePointer<Float>.allocate(capacity: blockSize)
                defer { top.deallocate(); total.deallocate() }
                var start = range.lowerBound
                while start < range.upperBound {
                    let count = min(blockSize, range.upperBound - start), first = s + start
                    top.update(from: first, count: count)
                    for ch in 1..<c {
                        let p = first + ch * plane
                        for i in 0..<count { top[i] = max(top[i], p[i]) }
                    }
                    total.update(repeating: 0, count: count)
                    for ch in 0..<c {
                        let p = first + ch * plane
                        for i in 0..<count { p[i] -= top[i] }
                        VectorMath.exp(p, count: count)
                        for i in 0..<count { total[i] += p[i] }
                    }
                    for i in 0..<count { total[i] = 1 / total[i] }
                    for ch in 0..<c {
                        let p = first + ch * plane
                        for i in 0..<count { p[i] *= total[i] }
                    }
                    start += count
                }
            }
        }
        return up
    }

    /// One channel of one output row: the vertical pass as the resampler computes it (first
    /// tap times its weight, then each further tap added in order, so rounding is identical)
    /// fused with the running argmax, eight pixels at a time. Channel 0 initialises `best`
    /// (NaN as -infinity, so that it never wins) and `arg`.
    @inline(__always)
    private static func accumulate(channel: Int32, lines: UnsafePointer<Float>, lineStride: Int,
                                   weights: [Float], scale: Bool, width: Int,
                                   best: UnsafeMutablePointer<Float>, arg: UnsafeMutablePointer<Int32>) {
        typealias V = SIMD8<Float>
        let count = weights.count
        let w0 = weights[0]
        var x = 0
        while x + 8 <= width {
            var v = UnsafeRawPointer(lines + x).loadUnaligned(as: V.self)
            if scale { v = V(repeating: w0) * v }
            var t = 1
            while t < count {
                v = v + V(repeating: weights[t]) * UnsafeRawPointer(lines + t * lineStride + x).loadUnaligned(as: V.self)
                t += 1
            }
            if channel == 0 {
                v.replace(with: -.infinity, where: v .!= v)
                UnsafeMutableRawPointer(best + x).storeBytes(of: v, as: V.self)
                UnsafeMutableRawPointer(arg + x).storeBytes(of: SIMD8<Int32>(repeating: 0), as: SIMD8<Int32>.self)
            } else {
                var b = UnsafeRawPointer(best + x).loadUnaligned(as: V.self)
                var a = UnsafeRawPointer(arg + x).loadUnaligned(as: SIMD8<Int32>.self)
                let better = v .> b
                b.replace(with: v, where: better)
                a.replace(with: channel, where: better)
                UnsafeMutableRawPointer(best + x).storeBytes(of: b, as: V.self)
                UnsafeMutableRawPointer(arg + x).storeBytes(of: a, as: SIMD8<Int32>.self)
            }
            x += 8
        }
        while x < width {
            var v = lines[x]
            if scale { v = w0 * v }
            var t = 1
            while t < count {
                v = v + weights[t] * lines[t * lineStride + x]
                t += 1
            }
            if channel == 0 {
                best[x] = v.isNaN ? -.infinity : v
                arg[x] = 0
            } else if v > best[x] {
                best[x] = v
                arg[x] = channel
            }
            x += 1
        }
    }

}
