import DivSegCore
import Foundation
import Testing

/// Every instruction-set level this machine supports against the portable (scalar) path.
///
/// Tolerances: a level may fuse a·b + c into one FMA (one rounding instead of two) and sum in
/// another order (16-float vectors against 8-float ones), so results differ by a few units in
/// the last place per operation — about 6e-8 relative each. The kernels below chain at most
/// ~20 such operations on non-negative terms (no cancellation), so relative differences stay
/// orders of magnitude below the bounds used (2e-6 … 1e-5); additions-only kernels (the
/// Winograd transforms) must agree exactly.
@Suite("SIMD kernels: every level matches the scalar path", .serialized)
struct SIMDKernelsTests {
    static var levels: [SIMDKernels.Level] { SIMDKernels.availableLevels }

    @Test("levels: the active one is supported, withLevel switches, caps and restores")
    func levelAPI() {
        #expect(SIMDKernels.activeLevel <= SIMDKernels.supportedLevel)
        #expect(SIMDKernels.availableLevels.first == .scalar && SIMDKernels.availableLevels.last == SIMDKernels.supportedLevel)
        // Nested inside a fixed level, so that other tests' level switches cannot interleave.
        SIMDKernels.withLevel(.scalar) {
            for level in SIMDKernels.Level.allCases {
                SIMDKernels.withLevel(level) { #expect(SIMDKernels.activeLevel == min(level, SIMDKernels.supportedLevel)) }
                #expect(SIMDKernels.activeLevel == .scalar)
            }
        }
        // DIVSEG_SIMD, when set, lowered the start-up level.
        let requested = ProcessInfo.processInfo.environment["DIVSEG_SIMD"]
        let level = SIMDKernels.Level.allCases.first { $0.description == requested } ?? .avx512
        #expect(SIMDKernels.defaultLevel == min(level, SIMDKernels.supportedLevel))
        #expect(SIMDKernels.Level.allCases.map(\.description) == ["scalar", "avx2", "avx512"])
    }

    /// Cephes' expf is documented at < 1e-7 relative (measured 8e-8 without FMA); 2e-7
    /// allows for an FMA level's different rounding of the same polynomial.
    @Test("exp: within 2e-7 of Double exp on [−87, 88], clamped outside, tails like full vectors")
    func exp() {
        let grid = stride(from: Float(-95), through: 95, by: 0.0137).map { $0 }
        for level in Self.levels {
            SIMDKernels.withLevel(level) {
                var values = grid
                VectorMath.exp(&values, count: values.count)
                for (x, e) in zip(grid, values) {
                    let clamped = Double(min(max(x, -87.33654), 88))
                    let exact = Foundation.exp(clamped)
                    #expect(abs(Double(e) - exact) <= 2e-7 * exact, "\(level) exp(\(x)) = \(e), expected \(exact)")
                }
                // Every count from 0 to 40: the tail lanes are computed like full vectors.
                for count in 0...40 {
                    var prefix = Array(grid[1000..<(1000 + count)])
                    VectorMath.exp(&prefix, count: count)
                    #expect(prefix == Array(values[1000..<(1000 + count)]), "\(level) count \(count)")
                }
            }
        }
    }

    /// Random points in 2-D and 5-D, value counts with and without tails (1, 3, 13 and the
    /// CRF's 8/24/40-float rows), an odd point count: filtering at each level against the
    /// scalar level. Values are ≥ 0, so each output is a sum of non-negative terms and its
    /// relative difference is bounded by the ~20 chained roundings (1e-5 leaves a wide margin).
    @Test("lattice filtering (splat, blur, slice) at every level", arguments: [2, 5])
    func lattice(dimension d: Int) throws {
        var rng = SplitMix64(seed: 11)
        let n = 1_237
        let features = rng.floats(n * d, in: 0...6)
        for valueCount in [1, 3, 8, 13, 24, 40] {
            let values = rng.floats(n * valueCount, in: 0...1)
            for parallel in [false, true] {
                let lattice = try PermutohedralLattice(features: features, dimension: d, parallel: parallel)
                let reference = SIMDKernels.withLevel(.scalar) { lattice.filter(values, valueCount: valueCount) }
                for level in Self.levels.dropFirst() {
                    let filtered = SIMDKernels.withLevel(level) { lattice.filter(values, valueCount: valueCount) }
                    let worst = zip(filtered, reference).map { abs($0 - $1) / max($1, 1e-30) }.max()!
                    #expect(worst <= 1e-5, "\(level) d=\(d) values=\(valueCount) parallel=\(parallel): \(worst)")
                }
            }
        }
    }

    /// The mean-field update on rows of 8, 24 and 40 floats with fewer labels than lanes and
    /// an odd row count, plus one row whose products all underflow (the log-domain path).
    /// Probabilities in [0.01, 1] and messages in [0, 20] keep every product normal, so the
    /// relative difference is the exp's plus the normalisation's rounding: 2e-6 is ~30 ulp.
    @Test("mean-field normalisation at every level, with padding lanes and an underflowing row")
    func normalise() {
        var rng = SplitMix64(seed: 12)
        for (stride, labels) in [(8, 5), (24, 21), (40, 33)] {
            let rows = 77
            var p = [Float](repeating: 0, count: rows * stride), m = p
            for i in 0..<rows {
                let u = rng.floats(labels, in: 0.01...1), v = rng.floats(labels, in: 0...20)
                let total = u.reduce(0, +)
                for l in 0..<labels {
                    p[i * stride + l] = u[l] / total
                    m[i * stride + l] = v[l]
                }
            }
            // Row 3: the top message sits on a label with p = 0 and the others are 95 and 100
            // below it, where exp clamps: only the log domain gets their ratio e^5 right.
            for l in 0..<labels {
                p[3 * stride + l] = l == 1 || l == 2 ? 0.5 : 0
                m[3 * stride + l] = l == 0 ? 100 : (l == 2 ? 5 : 0)
            }
            func run(_ level: SIMDKernels.Level) -> [Float] {
                var out = [Float](repeating: -1, count: rows * stride)
                SIMDKernels.withLevel(level) {
                    VectorMath.normalisedExponentialProducts(probabilities: p, messages: m, into: &out,
                                                             rows: rows, stride: stride, labels: labels)
                }
                return out
            }
            let reference = run(.scalar)
            for i in 0..<rows {
                let row = reference[(i * stride)..<(i * stride + labels)]
                #expect(abs(row.reduce(0, +) - 1) < 1e-5, "stride \(stride) row \(i) sums to \(row.reduce(0, +))")
            }
            let odds = Foundation.exp(5.0)
            #expect(reference[3 * stride] == 0 && reference[3 * stride + 3] == 0)
            #expect(abs(Double(reference[3 * stride + 1]) - 1 / (1 + odds)) < 1e-8)
            #expect(abs(Double(reference[3 * stride + 2]) - odds / (1 + odds)) < 1e-6)
            // Against Double on an ordinary row.
            let exact: [Double] = (0..<labels).map { l in
                Double(p[l]) * Foundation.exp(Double(m[l] - (0..<labels).map { m[$0] }.max()!))
            }
            let sum = exact.reduce(0, +)
            for l in 0..<labels { #expect(abs(Double(reference[l]) - exact[l] / sum) <= 1e-6 * exact[l] / sum + 1e-12) }
            for level in Self.levels.dropFirst() {
                let out = run(level)
                for i in 0..<rows {
                    for l in 0..<labels {
                        let a = out[i * stride + l], b = reference[i * stride + l]
                        #expect(abs(a - b) <= 2e-6 * b, "\(level) stride \(stride) row \(i) label \(l): \(a) vs \(b)")
                    }
                }
            }
        }
    }

    /// F(2×2) input and output transforms only add and subtract, in the same order at every
    /// level, so the convolution must be bit-identical (the sgemm between them is the same
    /// OpenBLAS call). Odd heights and widths exercise partial tiles and vector tails.
    @Test("Winograd F(2×2) convolution is identical at every level",
          arguments: [(16, 8, 7, 9), (17, 5, 1, 1), (32, 4, 25, 37), (16, 3, 64, 83)])
    func winograd(_ shape: (Int, Int, Int, Int)) {
        let (cin, cout, h, w) = shape
        var rng = SplitMix64(seed: 13)
        let x = Tensor(shape: [cin, h, w], scalars: rng.floats(cin * h * w, in: -1...1))
        let conv = Conv3x3(kernelOIHW: rng.floats(cout * cin * 9, in: -1...1), bias: rng.floats(cout, in: -1...1),
                           inChannels: cin, outChannels: cout, algorithm: .winograd2x2)
        for relu in [false, true] {
            let reference = SIMDKernels.withLevel(.scalar) { conv(x, relu: relu) }
            for level in Self.levels.dropFirst() {
                #expect(SIMDKernels.withLevel(level) { conv(x, relu: relu) } == reference, "\(level) relu=\(relu)")
            }
        }
    }
}
