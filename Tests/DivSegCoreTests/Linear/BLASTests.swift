import DivSegCore
import Testing

@Suite("BLAS")
struct BLASTests {
    @Test("matmul agrees with the definition, with and without transposes")
    func matmul() {
        let a = Tensor(shape: [3, 4], scalars: pseudoRandom(12, seed: 5))
        let b = Tensor(shape: [4, 2], scalars: pseudoRandom(8, seed: 6))
        let c = BLAS.matmul(a, b)
        let at = Tensor(shape: [4, 3], scalars: (0..<12).map { a.scalars[($0 % 3) * 4 + $0 / 3] })
        let bt = Tensor(shape: [2, 4], scalars: (0..<8).map { b.scalars[($0 % 4) * 2 + $0 / 4] })
        let c2 = BLAS.matmul(at, bt, transposeA: true, transposeB: true)
        #expect(c.shape == [3, 2] && c2.shape == [3, 2])
        // Each entry is a 4-term dot product: within γ₄ × Σ|aᵢₖ bₖⱼ| of the exact value
        // whatever the kernel's order of operations (see `gamma`).
        for i in 0..<3 { for j in 0..<2 {
            var exact = 0.0, magnitude = 0.0
            for k in 0..<4 {
                exact += Double(a[i, k]) * Double(b[k, j])
                magnitude += abs(Double(a[i, k]) * Double(b[k, j]))
            }
            #expect(abs(Double(c[i, j]) - exact) <= gamma(roundings: 4) * magnitude, "(\(i), \(j))")
            #expect(abs(Double(c2[i, j]) - exact) <= gamma(roundings: 4) * magnitude, "transposed (\(i), \(j))")
        } }
    }
}

@Suite("BLAS: products independent of the thread count")
struct BLASFixedBlocksTests {
    /// A product large enough for OpenBLAS to thread (plain `gemm` differs in ~3 % of these
    /// elements between 1 and 2 threads with OpenBLAS 0.3.21), with a partial last block.
    static let (m, n, k) = (96, 3 * BLAS.fixedBlockColumns + 40, 300)

    static func product(threads: Int, transposeB: Bool) -> [Float] {
        let a = pseudoRandom(m * k, seed: 11), b = pseudoRandom(k * n, seed: 12)
        var c = [Float](repeating: .nan, count: m * n)
        BLAS.withThreadCount(threads) {
            c.withUnsafeMutableBufferPointer { out in
                BLAS.gemmFixedBlocks(transposeB: transposeB, m: m, n: n, k: k, a: a, lda: k,
                                     b: b, ldb: transposeB ? k : n, c: out.baseAddress!, ldc: n)
            }
        }
        return c
    }

    @Test("the same bits with 1, 2 and 3 OpenBLAS threads", arguments: [false, true])
    func sameBits(transposeB: Bool) {
        let one = Self.product(threads: 1, transposeB: transposeB)
        for threads in [2, 3] {
            let other = Self.product(threads: threads, transposeB: transposeB)
            let differing = zip(one, other).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(differing) of \(one.count) elements differ with \(threads) threads")
        }
    }

    @Test("agrees with the definition", arguments: [false, true])
    func agreesWithDefinition(transposeB: Bool) {
        let (m, n, k) = (Self.m, Self.n, Self.k)
        let a = pseudoRandom(m * k, seed: 11), b = pseudoRandom(k * n, seed: 12)
        let c = Self.product(threads: 2, transposeB: transposeB)
        for (i, j) in [(0, 0), (m - 1, n - 1), (17, BLAS.fixedBlockColumns), (50, n - 41), (95, 3)] {
            var exact = 0.0, magnitude = 0.0
            for p in 0..<k {
                let bv = transposeB ? b[j * k + p] : b[p * n + j]
                exact += Double(a[i * k + p]) * Double(bv)
                magnitude += abs(Double(a[i * k + p]) * Double(bv))
            }
            #expect(abs(Double(c[i * n + j]) - exact) <= gamma(roundings: k) * magnitude, "(\(i), \(j))")
        }
    }

    @Test("withThreadCount sets the count for its body and restores it")
    func withThreadCountRestores() {
        // Inside an outer region: tests running in parallel enter regions of their own
        // (every fixed-block product does), which change the process-wide count; a region
        // keeps them out, so the count read here is this test's alone.
        BLAS.withThreadCount(2) {
            #expect(BLAS.threadCount == 2)
            let inside = BLAS.withThreadCount(3) { BLAS.withThreadCount(1) { BLAS.threadCount } }
            #expect(inside == 1)
            #expect(BLAS.withThreadCount(3) { BLAS.threadCount } == 3)
            #expect(BLAS.threadCount == 2)
        }
    }
}
