import DivSegCore
import Testing

/// Direct 3×3 convolution with zero padding, the definition the fast paths must match,
/// in Double and before ReLU; with `absolute`, of |kernel|, |x| and |bias| instead: the sum
/// of the magnitudes of the terms that feed each output.
func referenceConv(_ x: Tensor, kernelOIHW k: [Float], bias: [Float], outChannels: Int,
                   absolute: Bool = false) -> [Double] {
    let cin = x.shape[0], h = x.shape[1], w = x.shape[2]
    let value: (Float) -> Double = absolute ? { Double(abs($0)) } : { Double($0) }
    var y = [Double](repeating: 0, count: outChannels * h * w)
    for co in 0..<outChannels {
        for yy in 0..<h {
            for xx in 0..<w {
                var acc = value(bias[co])
                for ci in 0..<cin {
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let sy = yy + ky - 1, sx = xx + kx - 1
                            guard sy >= 0, sy < h, sx >= 0, sx < w else { continue }
                            acc += value(k[((co * cin + ci) * 3 + ky) * 3 + kx]) * value(x.scalars[(ci * h + sy) * w + sx])
                        }
                    }
                }
                y[(co * h + yy) * w + xx] = acc
            }
        }
    }
    return y
}

/// Winograd F(m×m, 3×3) matrices as published (Lavin & Gray 2016, §4.1–4.2), kept here
/// independently of the library's copy so that a wrong coefficient there is caught.
struct WinogradMatrices {
    let m: Int
    let bt: [[Double]]   // alpha × alpha
    let g: [[Double]]    // alpha × 3
    let at: [[Double]]   // m × alpha

    static let f2 = WinogradMatrices(
        m: 2,
        bt: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
        g: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
        at: [[1, 1, 1, 0], [0, 1, -1, -1]])

    static let f4 = WinogradMatrices(
        m: 4,
        bt: [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
             [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
        g: [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
            [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]],
        at: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]])

    var alpha: Int { m + 2 }

    /// Most nonzeros in a row: the longest sum of one 1-D transform pass.
    static func longestRow(_ matrix: [[Double]]) -> Int { matrix.map { $0.filter { $0 != 0 }.count }.max()! }
}

/// The magnitude that bounds the rounding error of each output of the Winograd algorithm:
/// the whole computation `Aᵀ[Σ_c (G g Gᵀ) ⊙ (Bᵀ d B)]A + b` redone with |A|, |B|, |G|, |g|,
/// |d| and |b|, on the same zero-padded tiles as the library.
///
/// Why not the direct sum of |terms|: the transforms mix an output's taps with values that
/// cancel exactly in real arithmetic but not in float, and their coefficients amplify the
/// rounding errors. For all-ones |g| and |d| this magnitude is, per output, the direct one
/// times Π over both axes of Σ_k |Aᵀ[i][k]|·(Σ|G[k]|)·(Σ|Bᵀ[k]|) / 3: at most (8/3)² ≈ 7.1 for
/// F(2×2), but (16)² = 256 for F(4×4), at a tile's last output (Aᵀ's 8s times Bᵀ's 5s and
/// G's 1/6s). That amplification is why F(4×4) is measurably less accurate.
func winogradMagnitude(_ x: Tensor, kernelOIHW k: [Float], bias: [Float], outChannels cout: Int,
                       _ t: WinogradMatrices) -> [Double] {
    let cin = x.shape[0], h = x.shape[1], w = x.shape[2], m = t.m, a = t.alpha
    let tilesY = (h + m - 1) / m, tilesX = (w + m - 1) / m
    // |G| |g| |G|ᵀ per (out, in) pair.
    var u = [Double](repeating: 0, count: cout * cin * a * a)
    for pair in 0..<(cout * cin) {
        for r in 0..<a { for c in 0..<a {
            var acc = 0.0
            for p in 0..<3 { for q in 0..<3 {
                acc += abs(t.g[r][p]) * Double(abs(k[pair * 9 + p * 3 + q])) * abs(t.g[c][q])
            } }
            u[pair * a * a + r * a + c] = acc
        } }
    }
    var y = [Double](repeating: 0, count: cout * h * w)
    var v = [Double](repeating: 0, count: cin * a * a)
    var mm = [Double](repeating: 0, count: a * a)
    for ty in 0..<tilesY {
        for tx in 0..<tilesX {
            // |Bᵀ| |d| |B| per input channel, d the tile at (m·ty − 1, m·tx − 1), zero outside.
            for ci in 0..<cin {
                for r in 0..<a { for c in 0..<a {
                    var acc = 0.0
                    for p in 0..<a { for q in 0..<a {
                        let sy = m * ty - 1 + p, sx = m * tx - 1 + q
                        guard sy >= 0, sy < h, sx >= 0, sx < w, t.bt[r][p] != 0, t.bt[c][q] != 0 else { continue }
                        acc += abs(t.bt[r][p]) * Double(abs(x.scalars[(ci * h + sy) * w + sx])) * abs(t.bt[c][q])
                    } }
                    v[ci * a * a + r * a + c] = acc
                } }
            }
            for co in 0..<cout {
                for e in 0..<(a * a) {
                    var acc = 0.0
                    for ci in 0..<cin { acc += u[(co * cin + ci) * a * a + e] * v[ci * a * a + e] }
                    mm[e] = acc
                }
                for i in 0..<m where m * ty + i < h {
                    for j in 0..<m where m * tx + j < w {
                        var acc = Double(abs(bias[co]))
                        for r in 0..<a { for c in 0..<a { acc += abs(t.at[i][r]) * mm[r * a + c] * abs(t.at[j][c]) } }
                        y[(co * h + m * ty + i) * w + m * tx + j] = acc
                    }
                }
            }
        }
    }
    return y
}

/// γₙ = n·u / (1 − n·u) (Higham, Accuracy and Stability of Numerical Algorithms, §3.1):
/// a value computed in Float by at most n successive roundings of sums and products of
/// exact inputs is within γₙ × (the same computation on magnitudes) of the exact value —
/// whatever the summation order, blocking, FMA use or threading of the BLAS and CPU.
func gamma(roundings n: Int) -> Double {
    let u = Double(Float.ulpOfOne) / 2
    return Double(n) * u / (1 - Double(n) * u)
}

/// Deterministic pseudo-random values, so failures reproduce.
func pseudoRandom(_ n: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return rng.floats(n, in: range)
}

@Suite("Conv3x3")
struct Conv3x3Tests {
    /// Each output of each algorithm is checked against the exact convolution with a
    /// rigorous bound on its rounding error, γₙ × magnitude: n counts the roundings on the
    /// longest path to the output, the magnitude is that of the algorithm's own terms. No
    /// CPU can exceed it (here the worst output uses 3 % of it), and it stays far below what
    /// a wrong coefficient costs: G's 1/24 changed to 1/25 in F(4×4), or one 0.5 to 0.49 in
    /// F(2×2), exceeds it 6–1400× in every shape.
    @Test("im2col, F(2×2) and F(4×4) match direct convolution within their rounding-error bounds",
          arguments: [(16, 8, 7, 9), (32, 5, 6, 6), (16, 3, 1, 1), (17, 4, 2, 3), (3, 8, 5, 7), (20, 6, 11, 4),
                      (16, 8, 25, 30), (32, 4, 24, 24), (16, 3, 27, 33)])
    func matchesDirect(_ shape: (Int, Int, Int, Int)) {
        let (cin, cout, h, w) = shape
        let x = Tensor(shape: [cin, h, w], scalars: pseudoRandom(cin * h * w, seed: 1))
        let k = pseudoRandom(cout * cin * 9, seed: 2)
        let b = pseudoRandom(cout, seed: 3)
        let exact = referenceConv(x, kernelOIHW: k, bias: b, outChannels: cout)
        for algorithm in [Conv3x3.Algorithm.im2col, .winograd2x2, .winograd4x4] {
            let magnitude: [Double], roundings: Int
            switch algorithm {
            case .im2col:
                // One GEMM dot product of 9·cin terms, then the bias.
                magnitude = referenceConv(x, kernelOIHW: k, bias: b, outChannels: cout, absolute: true)
                roundings = 9 * cin + 1
            case .winograd2x2, .winograd4x4:
                let t = algorithm == .winograd2x2 ? WinogradMatrices.f2 : .f4
                magnitude = winogradMagnitude(x, kernelOIHW: k, bias: b, outChannels: cout, t)
                // Kernel transform (Double, then rounded to Float: 2 for safety), input
                // transform (two passes over Bᵀ's rows), channel GEMM (cin), output transform
                // (two passes over Aᵀ's rows) and the bias.
                roundings = 2 + 2 * WinogradMatrices.longestRow(t.bt) + cin + 2 * WinogradMatrices.longestRow(t.at) + 1
            }
            let bound = gamma(roundings: roundings)
            let conv = Conv3x3(kernelOIHW: k, bias: b, inChannels: cin, outChannels: cout, algorithm: algorithm)
            #expect(conv.usesWinograd == (algorithm != .im2col))
            for relu in [false, true] {
                let y = conv(x, relu: relu)
                #expect(y.shape == [cout, h, w])
                #expect(y.scalars.allSatisfy { $0.isFinite })
                // ReLU cannot increase a difference, so the bound carries over.
                var worst = (ratio: 0.0, index: 0)
                for i in 0..<exact.count {
                    let error = abs(Double(y.scalars[i]) - (relu ? max(exact[i], 0) : exact[i]))
                    let ratio = error == 0 ? 0 : error / (bound * magnitude[i])
                    if ratio > worst.ratio { worst = (ratio, i) }
                }
                #expect(worst.ratio <= 1, """
                    \(algorithm) relu=\(relu) shape=\(shape): output \(worst.index) is \(y.scalars[worst.index]), \
                    exact \(exact[worst.index]), error \(worst.ratio)× its bound \(bound * magnitude[worst.index])
                    """)
            }
        }
    }

    @Test("HWIO (Keras) kernels are reordered to OIHW")
    func hwioLayout() {
        let cin = 2, cout = 3
        let oihw = pseudoRandom(cout * cin * 9, seed: 9)
        var hwio = [Float](repeating: 0, count: oihw.count)
        for co in 0..<cout { for ci in 0..<cin { for ky in 0..<3 { for kx in 0..<3 {
            hwio[((ky * 3 + kx) * cin + ci) * cout + co] = oihw[((co * cin + ci) * 3 + ky) * 3 + kx]
        } } } }
        let x = Tensor(shape: [cin, 4, 5], scalars: pseudoRandom(40, seed: 4))
        let a = Conv3x3(kernelOIHW: oihw, bias: [0.1, 0.2, 0.3], inChannels: cin, outChannels: cout)(x)
        let b = Conv3x3(kernelHWIO: hwio, bias: [0.1, 0.2, 0.3], inChannels: cin, outChannels: cout)(x)
        #expect(a == b)
    }
}
