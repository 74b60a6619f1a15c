/// Non-overlapping spatial pooling of `[channels, height, width]` tensors.
///
/// Windows are `factor × factor` with stride `factor`; a trailing row or column that does
/// not fill a window is dropped (Keras/Caffe "valid" pooling, as VGG-16 uses).
///
/// ```swift
/// let pooled = Pooling.max(x, factor: 2)      // [C, H, W] → [C, H/2, W/2]
/// let mean = Pooling.average(x, factor: 4)    // [C, H, W] → [C, H/4, W/4]
/// ```
public enum Pooling {
    /// Maximum over each window.
    public static func max(_ input: Tensor, factor: Int = 2) -> Tensor {
        let shape = outputShape(input, factor: factor)
        return Tensor(shape: shape) { out in
            input.scalars.withUnsafeBufferPointer { src in
                maxPool(src.baseAddress!, shape: input.shape, factor: factor, into: out.baseAddress!)
            }
        }
    }

    /// Mean over each window.
    public static func average(_ input: Tensor, factor: Int) -> Tensor {
        let shape = outputShape(input, factor: factor)
        return Tensor(shape: shape) { out in
            input.scalars.withUnsafeBufferPointer { src in
                average(src.baseAddress!, shape: input.shape, factor: factor, into: out.baseAddress!)
            }
        }
    }

    /// Mean over each window, written to `out` (room for `[C, H/factor, W/factor]` floats).
    public static func average(_ input: Tensor, factor: Int, into out: UnsafeMutablePointer<Float>) {
        _ = outputShape(input, factor: factor)
        input.scalars.withUnsafeBufferPointer { src in
            average(src.baseAddress!, shape: input.shape, factor: factor, into: out)
        }
    }

    static func outputShape(_ input: Tensor, factor: Int) -> [Int] {
        precondition(input.rank == 3, "pooling expects [C, H, W], got \(input.shape)")
        precondition(factor >= 1, "pooling factor must be positive")
        return [input.shape[0], input.shape[1] / factor, input.shape[2] / factor]
    }

    private static func maxPool(_ s: UnsafePointer<Float>, shape: [Int], factor k: Int,
                                into o: UnsafeMutablePointer<Float>) {
        let c = shape[0], h = shape[1], w = shape[2], oh = h / k, ow = w / k
        Parallel.forEachChunk(of: 0..<c) { range in
            for ch in range {
                for oy in 0..<oh {
                    let dst = o + (ch * oh + oy) * ow
                    let first = s + (ch * h + oy * k) * w
                    for ox in 0..<ow { dst[ox] = first[ox * k] }
                    for dy in 0..<k {
                        let line = first + dy * w
                        for dx in 0..<k where dy > 0 || dx > 0 {
                            for ox in 0..<ow { dst[ox] = Swift.max(dst[ox], line[ox * k + dx]) }
                        }
                    }
                }
            }
        }
    }

    private static func average(_ s: UnsafePointer<Float>, shape: [Int], factor k: Int,
                                into o: UnsafeMutablePointer<Float>) {
        let c = shape[0], h = shape[1], w = shape[2], oh = h / k, ow = w / k
        let scale = 1 / Float(k * k)
        Parallel.forEachChunk(of: 0..<c) { range in
            // Rows of a window are summed first (contiguous, vectorisable), then columns.
            let rowSum = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(w, 1))
            defer { rowSum.deallocate() }
            for ch in range {
                for oy in 0..<oh {
                    let first = s + (ch * h + oy * k) * w
                    rowSum.update(from: first, count: w)
                    for dy in 1..<Swift.max(k, 1) {
                        let line = first + dy * w
                        for x in 0..<w { rowSum[x] += line[x] }
                    }
                    let dst = o + (ch * oh + oy) * ow
                    for ox in 0..<ow {
                        var acc: Float = 0
                        for dx in 0..<k { acc += rowSum[ox * k + dx] }
                        dst[ox] = acc * scale
                    }
                }
            }
        }
    }
}
