import DivSegCore

/// Scratch buffers of one localizer forward pass with the exact shortcut (TheMethod.md, "Exact shortcuts"),
/// reused across training steps so that a step allocates nothing large.
///
/// Forward: the first layer's kernel (already multiplied by the input scale) is split into
/// the three channel groups of ``CompactHypercolumns``; each part is one GEMM at its group's
/// resolution (64×84, 32×42, 16×21); the block4/block5 results are upsampled exactly as the
/// hypercolumn's maps are and added, with the bias and the ReLU fused into that pass; the
/// second layer is one more (2-row) GEMM.
final class LocalizerWorkspace {
    let hidden: Int
    /// `[hidden, 5376]`: post-ReLU hidden activations on the grid.
    let activations: UnsafeMutablePointer<Float>
    /// `[hidden, 1344]` and `[hidden, 336]`: the block4/block5 parts before upsampling.
    let z4: UnsafeMutablePointer<Float>
    let z5: UnsafeMutablePointer<Float>
    /// `[2, 5376]`: F (row 0) and B (row 1).
    let outputs: UnsafeMutablePointer<Float>

    init(hidden: Int) {
        self.hidden = hidden
        let n = FeatureGrid.locations
        activations = .allocate(capacity: hidden * n)
        z4 = .allocate(capacity: hidden * n / 4)
        z5 = .allocate(capacity: hidden * n / 16)
        outputs = .allocate(capacity: 2 * n)
    }

    deinit {
        activations.deallocate()
        z4.deallocate()
        z5.deallocate()
        outputs.deallocate()
    }

    /// Runs both layers. `kernel` is the folded first-layer kernel `[hidden, 4224]`.
    func forward(kernel: UnsafePointer<Float>, fc1Bias: [Float], fc2Kernel: [Float], fc2Bias: [Float],
                 features: CompactHypercolumns) {
        let k = FeatureGrid.channels, n = FeatureGrid.locations
        let groups: [(tensor: Tensor, channels: Range<Int>, out: UnsafeMutablePointer<Float>)] = [
            (features.grid, CompactHypercolumns.gridChannels, activations),
            (features.block4, CompactHypercolumns.block4Channels, z4),
            (features.block5, CompactHypercolumns.block5Channels, z5),
        ]
        for group in groups {
            let columns = group.tensor.shape[1] * group.tensor.shape[2]
            group.tensor.scalars.withUnsafeBufferPointer { b in
                BLAS.gemm(m: hidden, n: columns, k: group.channels.count,
                          a: kernel + group.channels.lowerBound, lda: k,
                          b: b.baseAddress!, ldb: columns, c: group.out, ldc: columns)
            }
        }
        fc1Bias.withUnsafeBufferPointer { bias in
            HypercolumnLocator.upsampleAdd(rows: hidden, grid: activations, z4: z4, z5: z5,
                                           bias: bias.baseAddress!, relu: true)
        }
        fc2Kernel.withUnsafeBufferPointer { w2 in
            BLAS.gemm(m: 2, n: n, k: hidden, a: w2.baseAddress!, lda: hidden,
                      b: activations, ldb: n, c: outputs, ldc: n)
        }
        for row in 0..<2 {
            let b = fc2Bias[row], out = outputs + row * n
            for i in 0..<n { out[i] += b }
        }
    }

    var foreground: [Float] { Array(UnsafeBufferPointer(start: outputs, count: FeatureGrid.locations)) }
    var background: [Float] {
        Array(UnsafeBufferPointer(start: outputs + FeatureGrid.locations, count: FeatureGrid.locations))
    }

    /// The hidden activations at one grid location (`hidden` values).
    func hiddenColumn(at location: Int) -> [Float] {
        let n = FeatureGrid.locations
        return (0..<hidden).map { activations[$0 * n + location] }
    }
}
