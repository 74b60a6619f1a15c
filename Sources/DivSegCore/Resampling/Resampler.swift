/// Bilinear resizing of `[channels, height, width]` tensors with half-pixel centres.
///
/// Output pixel `i` samples the input at `(i + 0.5) · in/out − 0.5`. Upsampling clamps at the
/// edges, which is the rule the hypercolumn uses for block4/block5 maps. Downsampling widens
/// the triangle filter by the scale factor (antialiasing, as PIL's `BILINEAR` does), so an
/// image shrunk 2× averages its pixels instead of skipping every other one; pass
/// `antialias: false` for plain two-tap interpolation.
///
/// ```swift
/// let up = Resampler.resize(block5, height: 64, width: 84)   // [512, 16, 21] → [512, 64, 84]
/// ```
public enum Resampler {
    /// Resizes the two trailing dimensions of a rank-3 tensor.
    public static func resize(_ input: Tensor, height: Int, width: Int,
                              antialias: Bool = true) -> Tensor {
        precondition(input.rank == 3, "resize expects [C, H, W], got \(input.shape)")
        precondition(height > 0 && width > 0, "resize target must be positive")
        if input.shape[1] == height && input.shape[2] == width { return input }
        return Tensor(shape: [input.shape[0], height, width]) { out in
            resize(input, height: height, width: width, antialias: antialias, into: out.baseAddress!)
        }
    }

    /// Resizes into `out`, which has room for `[C, height, width]` floats.
    public static func resize(_ input: Tensor, height: Int, width: Int, antialias: Bool = true,
                              into out: UnsafeMutablePointer<Float>) {
        precondition(input.rank == 3, "resize expects [C, H, W], got \(input.shape)")
        let c = input.shape[0], h = input.shape[1], w = input.shape[2]
        let horizontal = ResamplingTaps(inputSize: w, outputSize: width, antialias: antialias)
        let vertical = ResamplingTaps(inputSize: h, outputSize: height, antialias: antialias)
        input.scalars.withUnsafeBufferPointer { src in
            horizontal.weights.withUnsafeBufferPointer { hw in
                vertical.weights.withUnsafeBufferPointer { vw in
                    horizontal.first.withUnsafeBufferPointer { hf in
                        horizontal.count.withUnsafeBufferPointer { hc in
                            let s = src.baseAddress!
                            Parallel.forEachChunk(of: 0..<c) { range in
                                // Horizontal pass of one channel into a scratch plane, then the
                                // vertical pass as weighted sums of whole rows (vectorised).
                                let rows = UnsafeMutablePointer<Float>.allocate(capacity: h * width)
                                defer { rows.deallocate() }
                                for ch in range {
                                    for r in 0..<h {
                                        let line = s + (ch * h + r) * w, dst = rows + r * width
                                        for x in 0..<width {
                                            var acc: Float = 0
                                            let first = hf[x], weights = hw.baseAddress! + x * horizontal.stride
                                            for t in 0..<hc[x] { acc += weights[t] * line[first + t] }
                                            dst[x] = acc
                                        }
                                    }
                                    for y in 0..<height {
                                        let dst = out + (ch * height + y) * width
                                        let first = vertical.first[y]
                                        let weights = vw.baseAddress! + y * vertical.stride
                                        let line0 = rows + first * width
                                        let w0 = weights[0]
                                        for x in 0..<width { dst[x] = w0 * line0[x] }
                                        for t in 1..<Swift.max(vertical.count[y], 1) {
                                            let line = rows + (first + t) * width, wt = weights[t]
                                            for x in 0..<width { dst[x] += wt * line[x] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
