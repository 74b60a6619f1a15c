import DivSegCore

/// Exact access to single hypercolumns, and to linear maps of them, straight from the
/// compact per-group form (``CompactHypercolumns``), without building the full
/// `[4224, 64, 84]` tensor.
///
/// The block4/block5 groups enter the hypercolumn through bilinear upsampling with
/// half-pixel centres (``Resampler``). The interpolation taps used here are read off
/// ``Resampler`` itself (by resizing one-hot rows), and applied in the same order — the
/// horizontal pass, then the vertical one — so a vector from ``vector(row:column:of:)`` is
/// bit-for-bit the column of ``CompactHypercolumns/expanded()`` at that location.
///
/// ```swift
/// let x = HypercolumnLocator.vector(row: 10, column: 20, of: compact)   // 4224 values
/// // x == compact.expanded()[:, 10, 20]
/// ```
public enum HypercolumnLocator {
    /// The hypercolumn (4224 values, channel order of the full form) at grid cell
    /// (`row`, `column`).
    public static func vector(row: Int, column: Int, of features: CompactHypercolumns) -> [Float] {
        precondition((0..<FeatureGrid.height).contains(row) && (0..<FeatureGrid.width).contains(column),
                     "grid cell (\(row), \(column)) is outside the \(FeatureGrid.height)×\(FeatureGrid.width) grid")
        return [Float](unsafeUninitializedCapacity: FeatureGrid.channels) { buffer, initialized in
            write(row: row, column: column, of: features, scale: nil, into: buffer.baseAddress!)
            initialized = FeatureGrid.channels
        }
    }

    /// The hypercolumn at a row-major grid location (`row * 84 + column`).
    public static func vector(at location: Int, of features: CompactHypercolumns) -> [Float] {
        vector(row: location / FeatureGrid.width, column: location % FeatureGrid.width, of: features)
    }

    /// Writes the hypercolumn at (`row`, `column`), optionally multiplied channel-wise by
    /// `scale` (4224 values), into `out`.
    static func write(row: Int, column: Int, of features: CompactHypercolumns, scale: UnsafePointer<Float>?,
                      into out: UnsafeMutablePointer<Float>) {
        let plane = FeatureGrid.locations
        features.grid.scalars.withUnsafeBufferPointer { g in
            let base = g.baseAddress! + row * FeatureGrid.width + column
            for ch in CompactHypercolumns.gridChannels { out[ch] = base[ch * plane] }
        }
        interpolate(features.block4, taps: taps4, row: row, column: column, into: out + CompactHypercolumns.block4Channels.lowerBound)
        interpolate(features.block5, taps: taps5, row: row, column: column, into: out + CompactHypercolumns.block5Channels.lowerBound)
        if let scale {
            for ch in 0..<FeatureGrid.channels { out[ch] *= scale[ch] }
        }
    }

    // One output value of Resampler's two passes for every channel of a group.
    private static func interpolate(_ group: Tensor, taps: GroupTaps, row: Int, column: Int,
                                    into out: UnsafeMutablePointer<Float>) {
        let h = group.shape[1], w = group.shape[2]
        let hx = taps.horizontal, vy = taps.vertical
        let fx = hx.first[column], nx = hx.count[column], wx0 = hx.weight0[column], wx1 = hx.weight1[column]
        let fy = vy.first[row], ny = vy.count[row], wy0 = vy.weight0[row], wy1 = vy.weight1[row]
        group.scalars.withUnsafeBufferPointer { src in
            for ch in 0..<group.shape[0] {
                let channel = src.baseAddress! + ch * h * w
                // Horizontal pass on the one or two source rows, exactly as Resampler sums.
                func horizontal(_ r: Int) -> Float {
                    let line = channel + r * w
                    var acc: Float = 0
                    acc += wx0 * line[fx]
                    if nx > 1 { acc += wx1 * line[fx + 1] }
                    return acc
                }
                var value = wy0 * horizontal(fy)
                if ny > 1 { value += wy1 * horizontal(fy + 1) }
                out[ch] = value
            }
        }
    }

    /// Interpolation taps of one axis (upsampling: one or two taps per output position).
    struct AxisTaps: Sendable {
        var first: [Int]
        var count: [Int]
        var weight0: [Float]
        var weight1: [Float]

        /// Reads the taps off ``Resampler`` by resizing one-hot rows: channel `k` of a
        /// `[n, 1, n]` identity becomes the weights of input `k` for every output.
        init(inputSize n: Int, outputSize: Int) {
            precondition(outputSize > n, "taps are only needed for upsampling")
            var identity = Tensor(zeros: [n, 1, n])
            for k in 0..<n { identity.scalars[k * n + k] = 1 }
            let probe = Resampler.resize(identity, height: 1, width: outputSize)
            (first, count, weight0, weight1) = ([], [], [], [])
            for x in 0..<outputSize {
                let nonzero = (0..<n).filter { probe.scalars[$0 * outputSize + x] != 0 }
                precondition(!nonzero.isEmpty && nonzero.count <= 2
                             && nonzero.last! - nonzero.first! == nonzero.count - 1,
                             "unexpected upsampling taps \(nonzero) at output \(x)")
                first.append(nonzero[0])
                count.append(nonzero.count)
                weight0.append(probe.scalars[nonzero[0] * outputSize + x])
                weight1.append(nonzero.count > 1 ? probe.scalars[nonzero[1] * outputSize + x] : 0)
            }
        }
    }

    /// Vertical and horizontal taps of one group.
    struct GroupTaps: Sendable {
        var vertical: AxisTaps
        var horizontal: AxisTaps
        var height: Int
        var width: Int

        init(height: Int, width: Int) {
            self.height = height
            self.width = width
            vertical = AxisTaps(inputSize: height, outputSize: FeatureGrid.height)
            horizontal = AxisTaps(inputSize: width, outputSize: FeatureGrid.width)
        }
    }

    static let taps4 = GroupTaps(height: FeatureGrid.height / 2, width: FeatureGrid.width / 2)
    static let taps5 = GroupTaps(height: FeatureGrid.height / 4, width: FeatureGrid.width / 4)

    /// For every row `c` of the three `[rows, …]` matrices — `grid` on the 64×84 grid, `z4`
    /// on 32×42, `z5` on 16×21 — writes `max(0, grid + up(z4) + up(z5) + bias[c])` into
    /// `grid` (ReLU when `relu`), with `up` the hypercolumn's bilinear upsampling. This is
    /// the exact shortcut's combination step, fused into one pass over the grid result.
    static func upsampleAdd(rows: Int, grid: UnsafeMutablePointer<Float>, z4: UnsafePointer<Float>,
                            z5: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool) {
        let gh = FeatureGrid.height, gw = FeatureGrid.width
        let t4 = taps4, t5 = taps5
        let h4 = t4.height, w4 = t4.width, h5 = t5.height, w5 = t5.width
        Parallel.forEachChunk(of: 0..<rows, minimumChunk: 8) { range in
            let rows4 = UnsafeMutablePointer<Float>.allocate(capacity: h4 * gw)
            let rows5 = UnsafeMutablePointer<Float>.allocate(capacity: h5 * gw)
            defer { rows4.deallocate(); rows5.deallocate() }
            for c in range {
                horizontalPass(z4 + c * h4 * w4, height: h4, width: w4, taps: t4.horizontal, into: rows4)
                horizontalPass(z5 + c * h5 * w5, height: h5, width: w5, taps: t5.horizontal, into: rows5)
                let b = bias?[c] ?? 0
                let plane = grid + c * gh * gw
                for y in 0..<gh {
                    let out = plane + y * gw
                    let a0 = t4.vertical.weight0[y], a1 = t4.vertical.weight1[y]
                    let ra = rows4 + t4.vertical.first[y] * gw
                    let rb = rows4 + min(t4.vertical.first[y] + 1, h4 - 1) * gw
                    let c0 = t5.vertical.weight0[y], c1 = t5.vertical.weight1[y]
                    let rc = rows5 + t5.vertical.first[y] * gw
                    let rd = rows5 + min(t5.vertical.first[y] + 1, h5 - 1) * gw
                    if relu {
                        for x in 0..<gw {
                            let v = out[x] + (a0 * ra[x] + a1 * rb[x]) + (c0 * rc[x] + c1 * rd[x]) + b
                            out[x] = v > 0 ? v : 0
                        }
                    } else {
                        for x in 0..<gw {
                            out[x] = out[x] + (a0 * ra[x] + a1 * rb[x]) + (c0 * rc[x] + c1 * rd[x]) + b
                        }
                    }
                }
            }
        }
    }

    private static func horizontalPass(_ src: UnsafePointer<Float>, height: Int, width: Int, taps: AxisTaps,
                                       into out: UnsafeMutablePointer<Float>) {
        let gw = FeatureGrid.width
        taps.first.withUnsafeBufferPointer { first in
            taps.weight0.withUnsafeBufferPointer { w0 in
                taps.weight1.withUnsafeBufferPointer { w1 in
                    for r in 0..<height {
                        let line = src + r * width, dst = out + r * gw
                        for x in 0..<gw {
                            let f = first[x]
                            dst[x] = w0[x] * line[f] + w1[x] * line[min(f + 1, width - 1)]
                        }
                    }
                }
            }
        }
    }
}
