/// Winograd minimal filtering F(m×m, 3×3) (Lavin & Gray 2016): an m×m output tile of a 3×3
/// convolution from an (m+2)×(m+2) input tile with (m+2)² multiplications instead of 9m².
///
/// `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`. The elementwise product over a whole layer becomes
/// (m+2)² independent channel-mixing GEMMs. F(2×2) needs 2.25× fewer multiplications than
/// direct convolution, F(4×4) 4×; F(4×4)'s larger coefficients cost some float precision
/// (relative error ~1e-5 on VGG-16 activations instead of ~1e-6), well inside what the
/// hypercolumn reference demands.
struct WinogradTransform: Sendable {
    /// Output tile side.
    let m: Int
    /// Input tile side, m + 2.
    var alpha: Int { m + 2 }
    /// Bᵀ (alpha × alpha), Gᵀ-side G (alpha × 3), Aᵀ (m × alpha), row-major, as Double so the
    /// kernel transform is computed exactly before rounding to Float.
    let bt: [Double]
    let g: [Double]
    let at: [Double]

    static let f2 = WinogradTransform(
        m: 2,
        bt: [1, 0, -1, 0,
             0, 1, 1, 0,
             0, -1, 1, 0,
             0, 1, 0, -1],
        g: [1, 0, 0,
            0.5, 0.5, 0.5,
            0.5, -0.5, 0.5,
            0, 0, 1],
        at: [1, 1, 1, 0,
             0, 1, -1, -1])

    static let f4 = WinogradTransform(
        m: 4,
        bt: [4, 0, -5, 0, 1, 0,
             0, -4, -4, 1, 1, 0,
             0, 4, -4, -1, 1, 0,
             0, -2, -1, 2, 1, 0,
             0, 2, -1, -2, 1, 0,
             0, 4, 0, -5, 0, 1],
        g: [1.0 / 4, 0, 0,
            -1.0 / 6, -1.0 / 6, -1.0 / 6,
            -1.0 / 6, 1.0 / 6, -1.0 / 6,
            1.0 / 24, 1.0 / 12, 1.0 / 6,
            1.0 / 24, -1.0 / 12, 1.0 / 6,
            0, 0, 1],
        at: [1, 1, 1, 1, 1, 0,
             0, 1, -1, 2, -2, 0,
             0, 1, 1, 4, 4, 0,
             0, 1, -1, 8, -8, 1])

    /// Nonzero entries of each row of a row-major matrix, as parallel index/coefficient lists.
    struct SparseRows: Sendable {
        var start: [Int]      // rows + 1 offsets
        var index: [Int]
        var coefficient: [Float]
        init(_ matrix: [Double], columns: Int) {
            start = [0]; index = []; coefficient = []
            for row in 0..<(matrix.count / columns) {
                for col in 0..<columns where matrix[row * columns + col] != 0 {
                    index.append(col)
                    coefficient.append(Float(matrix[row * columns + col]))
                }
                start.append(index.count)
            }
        }
    }

    var btRows: SparseRows { SparseRows(bt, columns: alpha) }
    var atRows: SparseRows { SparseRows(at, columns: alpha) }

    /// U = G g Gᵀ for every (out, in) pair, laid out as alpha² matrices `[out][in]`.
    func transformKernel(_ kernel: [Float], inChannels: Int, outChannels: Int) -> [Float] {
        let pairs = outChannels * inChannels, a = alpha
        var u = [Float](repeating: 0, count: a * a * pairs)
        kernel.withUnsafeBufferPointer { kb in
            u.withUnsafeMutableBufferPointer { ub in
                g.withUnsafeBufferPointer { gm in
                    let k = kb.baseAddress!, out = ub.baseAddress!
                    Parallel.forEachChunk(of: 0..<pairs, minimumChunk: 1024) { range in
                        var t = [Double](repeating: 0, count: a * 3)
                        for pair in range {
                            let kernel = k + pair * 9
                            // t = G g (alpha × 3)
                            for row in 0..<a {
                                for col in 0..<3 {
                                    var acc = 0.0
                                    for j in 0..<3 { acc += gm[row * 3 + j] * Double(kernel[j * 3 + col]) }
                                    t[row * 3 + col] = acc
                                }
                            }
                            // U = t Gᵀ (alpha × alpha)
                            for row in 0..<a {
                                for col in 0..<a {
                                    var acc = 0.0
                                    for j in 0..<3 { acc += t[row * 3 + j] * gm[col * 3 + j] }
                                    out[(row * a + col) * pairs + pair] = Float(acc)
                                }
                            }
                        }
                    }
                }
            }
        }
        return u
    }

    /// V[e][channel][tile] = (Bᵀ d B)[e] for the tiles of a band of tile rows.
    func transformInput(_ src: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int,
                        tileRows: Range<Int>, tilesX: Int, into v: UnsafeMutablePointer<Float>) {
        let a = alpha, m = self.m
        let tiles = tileRows.count * tilesX
        let paddedW = m * tilesX + 2
        let rowsB = btRows
        rowsB.start.withUnsafeBufferPointer { start in
        rowsB.index.withUnsafeBufferPointer { index in
        rowsB.coefficient.withUnsafeBufferPointer { coeff in
            Parallel.forEachChunk(of: 0..<channels) { range in
                // alpha zero-bordered input rows, and their row-transformed versions.
                let d = UnsafeMutablePointer<Float>.allocate(capacity: a * paddedW)
                let s = UnsafeMutablePointer<Float>.allocate(capacity: a * paddedW)
                defer { d.deallocate(); s.deallocate() }
                d.initialize(repeating: 0, count: a * paddedW)
                let stride = channels * tiles
                for c in range {
                    let plane = src + c * h * w
                    for ty in tileRows {
                        for r in 0..<a {
                            let y = m * ty - 1 + r
                            let row = d + r * paddedW + 1
                            let valid = Swift.min(w, paddedW - 1)
                            if y >= 0 && y < h {
                                row.update(from: plane + y * w, count: valid)
                            } else {
                                row.update(repeating: 0, count: valid)
                            }
                        }
                        // Row pass: s_r = Σ_k Bᵀ[r][k] d_k over whole padded rows.
                        for r in 0..<a {
                            let out = s + r * paddedW
                            let k0 = index[start[r]], c0 = coeff[start[r]]
                            let in0 = d + k0 * paddedW
                            for x in 0..<paddedW { out[x] = c0 * in0[x] }
                            for e in (start[r] + 1)..<start[r + 1] {
                                let inK = d + index[e] * paddedW, ck = coeff[e]
                                for x in 0..<paddedW { out[x] += ck * inK[x] }
                            }
                        }
                        // Column pass, one output stream per (r, col), contiguous over tiles.
                        let base = v + c * tiles + (ty - tileRows.lowerBound) * tilesX
                        for r in 0..<a {
                            let sr = s + r * paddedW
                            for col in 0..<a {
                                let out = base + (r * a + col) * stride
                                let k0 = index[start[col]], c0 = coeff[start[col]]
                                for tx in 0..<tilesX { out[tx] = c0 * sr[m * tx + k0] }
                                for e in (start[col] + 1)..<start[col + 1] {
                                    let k = index[e], ck = coeff[e]
                                    for tx in 0..<tilesX { out[tx] += ck * sr[m * tx + k] }
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

    /// Aᵀ M A + bias (+ ReLU) for the tiles of a band, written into the `[C, h, w]` output.
    func transformOutput(_ mp: UnsafePointer<Float>, bias: UnsafePointer<Float>, channels: Int,
                         height h: Int, width w: Int, tileRows: Range<Int>, tilesX: Int,
                         relu: Bool, into out: UnsafeMutablePointer<Float>) {
        let a = alpha, m = self.m
        let tiles = tileRows.count * tilesX
        let stride = channels * tiles
        let floor: Float = relu ? 0 : -.infinity
        let rowsA = atRows
        rowsA.start.withUnsafeBufferPointer { start in
        rowsA.index.withUnsafeBufferPointer { index in
        rowsA.coefficient.withUnsafeBufferPointer { coeff in
            Parallel.forEachChunk(of: 0..<channels) { range in
                // t[i][k] over tiles (m·alpha streams), then y[i][j] over tiles (m² streams).
                let t = UnsafeMutablePointer<Float>.allocate(capacity: m * a * tilesX)
                let y = UnsafeMutablePointer<Float>.allocate(capacity: tilesX)
                let line = UnsafeMutablePointer<Float>.allocate(capacity: m * tilesX)
                defer { t.deallocate(); y.deallocate(); line.deallocate() }
                for c in range {
                    let b = bias[c]
                    for ty in tileRows {
                        let p = mp + c * tiles + (ty - tileRows.lowerBound) * tilesX
                        for i in 0..<m {
                            for k in 0..<a {
                                let dst = t + (i * a + k) * tilesX
                                let j0 = index[start[i]], c0 = coeff[start[i]]
                                let src0 = p + (j0 * a + k) * stride
                                for tx in 0..<tilesX { dst[tx] = c0 * src0[tx] }
                                for e in (start[i] + 1)..<start[i + 1] {
                                    let src = p + (index[e] * a + k) * stride, ce = coeff[e]
                                    for tx in 0..<tilesX { dst[tx] += ce * src[tx] }
                                }
                            }
                        }
                        for i in 0..<m {
                            let outY = m * ty + i
                            if outY >= h { break }
                            for j in 0..<m {
                                let k0 = index[start[j]], c0 = coeff[start[j]]
                                let src0 = t + (i * a + k0) * tilesX
                                for tx in 0..<tilesX { y[tx] = c0 * src0[tx] }
                                for e in (start[j] + 1)..<start[j + 1] {
                                    let src = t + (i * a + index[e]) * tilesX, ce = coeff[e]
                                    for tx in 0..<tilesX { y[tx] += ce * src[tx] }
                                }
                                for tx in 0..<tilesX { line[m * tx + j] = Swift.max(y[tx] + b, floor) }
                            }
                            (out + (c * h + outY) * w).update(from: line, count: w)
                        }
                    }
                }
            }
        }
        }
        }
    }
}
