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
        pool(input, factor: factor, initial: -.infinity, combine: Swift.max, finish: { $0 })
    }

    /// Mean over each window.
    public static func average(_ input: Tensor, factor: Int) -> Tensor {
        let scale = 1 / Float(factor * factor)
        return pool(input, factor: factor, initial: 0, combine: +, finish: { $0 * scale })
    }

    @inline(__always)
    private static func pool(_ input: Tensor, factor k: Int, initial: Float,
                             combine: (Float, Float) -> Float,
                             finish: (Float) -> Float) -> Tensor {
        precondition(input.rank == 3, "pooling expects [C, H, W], got \(input.shape)")
        precondition(k >= 1, "pooling factor must be positive")
        let c = input.shape[0], h = input.shape[1], w = input.shape[2]
        let oh = h / k, ow = w / k
        return Tensor(shape: [c, oh, ow]) { out in
            input.scalars.withUnsafeBufferPointer { src in
                let s = src.baseAddress!, o = out.baseAddress!
                Parallel.forEachChunk(of: 0..<c) { range in
                    let row = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(ow, 1))
                    defer { row.deallocate() }
                    for ch in range {
                        for oy in 0..<oh {
                            row.initialize(repeating: initial, count: ow)
                            for dy in 0..<k {
                                let line = s + (ch * h + oy * k + dy) * w
                                for ox in 0..<ow {
                                    var acc = row[ox]
                                    for dx in 0..<k { acc = combine(acc, line[ox * k + dx]) }
                                    row[ox] = acc
                                }
                            }
                            let dst = o + (ch * oh + oy) * ow
                            for ox in 0..<ow { dst[ox] = finish(row[ox]) }
                        }
                    }
                }
            }
        }
    }
}
