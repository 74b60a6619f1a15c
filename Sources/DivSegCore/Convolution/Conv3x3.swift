import CDivSegKernels

/// A 3×3 convolution with zero padding 1 and stride 1 (the only kind VGG-16 has), optionally
/// followed by ReLU.
///
/// Layers with many input channels use Winograd's minimal filtering F(2×2, 3×3) or
/// F(4×4, 3×3) (Lavin & Gray 2016; see ``Algorithm``): input tiles are transformed once, the
/// 9-tap products become independent channel-mixing GEMMs, and 2.25× or 4× fewer
/// multiplications are needed than with direct convolution. The arithmetic is exact up to
/// float rounding. Layers with few input channels use im2col + GEMM, where the transforms
/// would cost more than they save.
///
/// ```swift
/// let conv = Conv3x3(kernelHWIO: kernel, bias: bias, inChannels: 64, outChannels: 128)
/// let y = conv(x)          // x: [64, H, W] → y: [128, H, W], ReLU applied
/// ```
public struct Conv3x3: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    /// Bias, one per output channel.
    public let bias: [Float]
    /// Kernel as `[out, in·9]`, taps in (in, ky, kx) order: the im2col matrix.
    let kernelMatrix: [Float]
    /// The kernel in `[out, in, 3, 3]` order (PyTorch/ONNX "OIHW").
    public var kernelOIHW: [Float] { kernelMatrix }
    /// How the convolution is computed; every algorithm gives the same result up to float
    /// rounding, they differ in speed.
    public enum Algorithm: Sendable, Equatable {
        /// Unfold 3×3 patches and run one GEMM: best for few input channels.
        case im2col
        /// Winograd F(2×2, 3×3): 2.25× fewer multiplications; best on small maps.
        case winograd2x2
        /// Winograd F(4×4, 3×3): 4× fewer multiplications, but its larger transform
        /// coefficients lose precision: through VGG-16's 13 layers the hypercolumns drift up to
        /// 3e-3 relative from an exact computation, over the 1e-3 the reference demands. Opt-in.
        case winograd4x4

        /// The fastest algorithm that keeps VGG-16's features within 1e-3 of an exact
        /// computation: im2col for few input channels, F(2×2) otherwise. (Map size is a
        /// parameter so that a future, better-conditioned larger tile can be chosen by it.)
        public static func preferred(inChannels: Int, height: Int, width: Int) -> Algorithm {
            inChannels < 16 ? .im2col : .winograd2x2
        }
    }

    /// The algorithm this layer uses.
    public let algorithm: Algorithm

    /// The Winograd transform and the layer's kernel in its domain (alpha² matrices `[out][in]`).
    struct WinogradPlan: Sendable {
        let transform: WinogradTransform
        let kernel: [Float]
    }
    private let plan: WinogradPlan?

    /// Whether this layer takes a Winograd path.
    public var usesWinograd: Bool { plan != nil }

    /// Builds a layer from a kernel in `[out, in, 3, 3]` order (PyTorch/ONNX "OIHW").
    /// Without an `algorithm`, im2col is used below 16 input channels and F(2×2) above;
    /// ``Algorithm/preferred(inChannels:height:width:)`` picks by map size when it is known.
    public init(kernelOIHW: [Float], bias: [Float], inChannels: Int, outChannels: Int,
                algorithm: Algorithm? = nil) {
        precondition(kernelOIHW.count == outChannels * inChannels * 9,
                     "kernel has \(kernelOIHW.count) values, expected \(outChannels)×\(inChannels)×3×3")
        precondition(bias.count == outChannels, "bias has \(bias.count) values, expected \(outChannels)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.bias = bias
        self.kernelMatrix = kernelOIHW
        let algorithm = algorithm ?? (inChannels < 16 ? .im2col : .winograd2x2)
        self.algorithm = algorithm
        let transform: WinogradTransform?
        switch algorithm {
        case .im2col: transform = nil
        case .winograd2x2: transform = .f2
        case .winograd4x4: transform = .f4
        }
        self.plan = transform.map {
            WinogradPlan(transform: $0, kernel: $0.transformKernel(kernelOIHW, inChannels: inChannels,
                                                                   outChannels: outChannels))
        }
    }

    /// Builds a layer from a kernel in `[3, 3, in, out]` order (Keras/TensorFlow "HWIO").
    public init(kernelHWIO: [Float], bias: [Float], inChannels: Int, outChannels: Int,
                algorithm: Algorithm? = nil) {
        precondition(kernelHWIO.count == outChannels * inChannels * 9,
                     "kernel has \(kernelHWIO.count) values, expected 3×3×\(inChannels)×\(outChannels)")
        var oihw = [Float](repeating: 0, count: kernelHWIO.count)
        kernelHWIO.withUnsafeBufferPointer { src in
            oihw.withUnsafeMutableBufferPointer { dst in
                for tap in 0..<9 {
                    for ci in 0..<inChannels {
                        let s = src.baseAddress! + (tap * inChannels + ci) * outChannels
                        let d = dst.baseAddress! + ci * 9 + tap
                        for co in 0..<outChannels { d[co * inChannels * 9] = s[co] }
                    }
                }
            }
        }
        self.init(kernelOIHW: oihw, bias: bias, inChannels: inChannels, outChannels: outChannels,
                  algorithm: algorithm)
    }

    /// Applies the convolution (and ReLU when `relu` is true) to a `[in, H, W]` tensor.
    public func callAsFunction(_ input: Tensor, relu: Bool = true) -> Tensor {
        precondition(input.rank == 3 && input.shape[0] == inChannels,
                     "Conv3x3 expects [\(inChannels), H, W], got \(input.shape)")
        return usesWinograd ? winograd(input, relu: relu) : im2col(input, relu: relu)
    }

    // MARK: - im2col path

    private func im2col(_ input: Tensor, relu: Bool) -> Tensor {
        let h = input.shape[1], w = input.shape[2], plane = h * w
        let rows = inChannels * 9
        var columns = [Float](repeating: 0, count: rows * plane)
        input.scalars.withUnsafeBufferPointer { src in
            columns.withUnsafeMutableBufferPointer { cols in
                let s = src.baseAddress!, d = cols.baseAddress!
                Parallel.forEachChunk(of: 0..<rows) { range in
                    for row in range {
                        let ci = row / 9, ky = row / 3 % 3 - 1, kx = row % 3 - 1
                        let out = d + row * plane, inp = s + ci * plane
                        let x0 = max(0, -kx), x1 = min(w, w - kx)
                        for y in max(0, -ky)..<min(h, h - ky) {
                            let o = out + y * w, i = inp + (y + ky) * w + kx
                            for x in x0..<x1 { o[x] = i[x] }
                        }
                    }
                }
            }
        }
        var output = Tensor(shape: [outChannels, h, w]) { out in
            kernelMatrix.withUnsafeBufferPointer { k in
                columns.withUnsafeBufferPointer { cols in
                    BLAS.gemm(m: outChannels, n: plane, k: rows, a: k.baseAddress!, lda: rows,
                              b: cols.baseAddress!, ldb: plane, c: out.baseAddress!, ldc: plane)
                }
            }
        }
        output.scalars.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            Parallel.forEachChunk(of: 0..<outChannels) { range in
                for co in range {
                    let b = bias[co], p = o + co * plane
                    if relu {
                        for i in 0..<plane { p[i] = max(p[i] + b, 0) }
                    } else {
                        for i in 0..<plane { p[i] += b }
                    }
                }
            }
        }
        return output
    }

    // MARK: - Winograd path

    /// Bytes of transformed input and output kept live at once: large layers are processed
    /// in bands of tile rows so the GEMMs' operands stay in the last-level cache instead of
    /// streaming hundreds of megabytes through memory.
    static let bandBytes = 12 << 20

    private func winograd(_ input: Tensor, relu: Bool) -> Tensor {
        let h = input.shape[1], w = input.shape[2]
        let plan = self.plan!
        let transform = plan.transform
        let m = transform.m, a = transform.alpha, e2 = a * a
        let tilesY = (h + m - 1) / m, tilesX = (w + m - 1) / m
        let cin = inChannels, cout = outChannels
        let bytesPerTileRow = e2 * (cin + cout) * tilesX * MemoryLayout<Float>.size
        let rowsPerBand = Swift.max(1, Swift.min(tilesY, Conv3x3.bandBytes / bytesPerTileRow))
        let bandTiles = rowsPerBand * tilesX
        let v = UnsafeMutablePointer<Float>.allocate(capacity: e2 * cin * bandTiles)
        let mm = UnsafeMutablePointer<Float>.allocate(capacity: e2 * cout * bandTiles)
        defer { v.deallocate(); mm.deallocate() }
        return Tensor(shape: [cout, h, w]) { out in
            input.scalars.withUnsafeBufferPointer { src in
                plan.kernel.withUnsafeBufferPointer { u in
                    bias.withUnsafeBufferPointer { bb in
                        var ty0 = 0
                        while ty0 < tilesY {
                            let rows = Swift.min(rowsPerBand, tilesY - ty0)
                            let tiles = rows * tilesX, band = ty0..<(ty0 + rows)
                            // F(2×2) has hand-unrolled transforms: ~30 % faster on the
                            // large early layers than the generic ones.
                            if m == 2 {
                                Conv3x3.inputTransformF2(src.baseAddress!, channels: cin, height: h, width: w,
                                                         tileRows: band, tilesX: tilesX, into: v)
                            } else {
                                transform.transformInput(src.baseAddress!, channels: cin, height: h, width: w,
                                                         tileRows: band, tilesX: tilesX, into: v)
                            }
                            // M[e] = U[e] · V[e]: one channel-mixing product per tile element.
                            for e in 0..<e2 {
                                BLAS.gemm(m: cout, n: tiles, k: cin,
                                          a: u.baseAddress! + e * cout * cin, lda: cin,
                                          b: v + e * cin * tiles, ldb: tiles,
                                          c: mm + e * cout * tiles, ldc: tiles)
                            }
                            if m == 2 {
                                Conv3x3.outputTransformF2(mm, bias: bb.baseAddress!, channels: cout,
                                                          height: h, width: w, tileRows: band,
                                                          tilesX: tilesX, relu: relu, into: out.baseAddress!)
                            } else {
                                transform.transformOutput(mm, bias: bb.baseAddress!, channels: cout,
                                                          height: h, width: w, tileRows: band,
                                                          tilesX: tilesX, relu: relu, into: out.baseAddress!)
                            }
                            ty0 += rows
                        }
                    }
                }
            }
        }
    }

    /// Bᵀ d B for every tile of a band of tile rows, Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]]
    /// (in CDivSegKernels: vectorised per instruction-set level, additions only, so every
    /// level gives the same result).
    static func inputTransformF2(_ src: UnsafePointer<Float>, channels: Int, height h: Int,
                                 width w: Int, tileRows: Range<Int>, tilesX: Int,
                                 into v: UnsafeMutablePointer<Float>) {
        Parallel.forEachChunk(of: 0..<channels) { range in
            let status = ds_winograd_f2_input(src, channels, h, w, range.lowerBound, range.upperBound,
                                              tileRows.lowerBound, tileRows.upperBound, tilesX, v)
            precondition(status == 0, "out of memory for a Winograd row buffer")
        }
    }

    /// Aᵀ m A + bias (+ ReLU) for every tile, Aᵀ = [[1,1,1,0],[0,1,−1,−1]] (in CDivSegKernels,
    /// as ``inputTransformF2(_:channels:height:width:tileRows:tilesX:into:)``).
    static func outputTransformF2(_ m: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                  channels: Int, height h: Int, width w: Int,
                                  tileRows: Range<Int>, tilesX: Int, relu: Bool,
                                  into out: UnsafeMutablePointer<Float>) {
        Parallel.forEachChunk(of: 0..<channels) { range in
            let status = ds_winograd_f2_output(m, bias, channels, h, w, range.lowerBound, range.upperBound,
                                               tileRows.lowerBound, tileRows.upperBound, tilesX,
                                               relu ? 0 : -.infinity, out)
            precondition(status == 0, "out of memory for a Winograd row buffer")
        }
    }
}
