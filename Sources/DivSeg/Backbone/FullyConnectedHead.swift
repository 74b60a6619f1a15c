import DivSegCore

/// VGG-16's fc6 and fc7 applied convolutionally to the pool5 map, averaged over positions:
/// the global descriptor when the weights file has `fc1`/`fc2` (Keras's names for fc6/fc7).
///
/// fc6 expects a 7×7×512 window (Keras flattens it in (row, column, channel) order). On a
/// 256×336 input pool5 is 8×10, so fc6 sees 2×4 = 8 overlapping windows; fc7 follows at each,
/// both with ReLU, and the 8 fc7 vectors are averaged.
public struct FullyConnectedHead: Sendable {
    /// Side of the square pool5 window fc6 reads.
    public let window: Int
    public let inputChannels: Int
    public let hiddenUnits: Int
    public let outputUnits: Int
    let fc6Kernel: [Float]   // [window·window·channels, hidden]
    let fc6Bias: [Float]
    let fc7Kernel: [Float]   // [hidden, output]
    let fc7Bias: [Float]

    /// Builds the head from Keras Dense kernels (`[inputs, units]`) and biases.
    public init(fc6Kernel: [Float], fc6Shape: [Int], fc6Bias: [Float],
                fc7Kernel: [Float], fc7Shape: [Int], fc7Bias: [Float],
                inputChannels: Int = 512) throws(HeadShapeError) {
        guard fc6Shape.count == 2, fc7Shape.count == 2, fc7Shape[0] == fc6Shape[1],
              fc6Bias.count == fc6Shape[1], fc7Bias.count == fc7Shape[1] else {
            throw HeadShapeError(detail: "fc1 \(fc6Shape) / fc2 \(fc7Shape) do not chain")
        }
        let positions = fc6Shape[0] / inputChannels
        let side = Int(Double(positions).squareRoot().rounded())
        guard side * side * inputChannels == fc6Shape[0] else {
            throw HeadShapeError(detail: "fc1 has \(fc6Shape[0]) inputs, not a square window of \(inputChannels) channels")
        }
        self.window = side
        self.inputChannels = inputChannels
        self.hiddenUnits = fc6Shape[1]
        self.outputUnits = fc7Shape[1]
        self.fc6Kernel = fc6Kernel
        self.fc6Bias = fc6Bias
        self.fc7Kernel = fc7Kernel
        self.fc7Bias = fc7Bias
    }

    /// Shape problem in the fc layers, reported by the loader with the file name.
    public struct HeadShapeError: Error { public let detail: String }

    /// Mean over window positions of fc7(fc6(window)) for a `[channels, H, W]` pool5 map.
    /// Maps smaller than the window are zero-padded at the bottom/right to one window.
    public func callAsFunction(_ pool5: Tensor) -> [Float] {
        precondition(pool5.rank == 3 && pool5.shape[0] == inputChannels,
                     "fc head expects [\(inputChannels), H, W], got \(pool5.shape)")
        let c = inputChannels, h = pool5.shape[1], w = pool5.shape[2]
        let rows = max(1, h - window + 1), cols = max(1, w - window + 1)
        let positions = rows * cols, inputs = window * window * c
        // Gather every window in Keras's flatten order: ((ky · window) + kx) · C + channel.
        var windows = [Float](repeating: 0, count: positions * inputs)
        for py in 0..<rows {
            for px in 0..<cols {
                let base = (py * cols + px) * inputs
                for ky in 0..<window where py + ky < h {
                    for kx in 0..<window where px + kx < w {
                        let o = base + (ky * window + kx) * c
                        for ch in 0..<c { windows[o + ch] = pool5.scalars[(ch * h + py + ky) * w + px + kx] }
                    }
                }
            }
        }
        let fc6 = dense(windows, rows: positions, kernel: fc6Kernel, bias: fc6Bias, inputs: inputs, units: hiddenUnits)
        let fc7 = dense(fc6, rows: positions, kernel: fc7Kernel, bias: fc7Bias, inputs: hiddenUnits, units: outputUnits)
        var mean = [Float](repeating: 0, count: outputUnits)
        for p in 0..<positions {
            for u in 0..<outputUnits { mean[u] += fc7[p * outputUnits + u] }
        }
        return mean.map { $0 / Float(positions) }
    }

    private func dense(_ x: [Float], rows: Int, kernel: [Float], bias: [Float], inputs: Int, units: Int) -> [Float] {
        var y = BLAS.matmul(Tensor(shape: [rows, inputs], scalars: x),
                            Tensor(shape: [inputs, units], scalars: kernel)).scalars
        for r in 0..<rows {
            for u in 0..<units { y[r * units + u] = max(y[r * units + u] + bias[u], 0) }
        }
        return y
    }
}
