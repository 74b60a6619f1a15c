import DivSegCore
import Testing

@Suite("BLAS")
struct BLASTests {
    @Test("matmul agrees with the definition, with and without transposes")
    func matmul() {
        let a = Tensor(shape: [3, 4], scalars: pseudoRandom(12, seed: 5))
        let b = Tensor(shape: [4, 2], scalars: pseudoRandom(8, seed: 6))
        let c = BLAS.matmul(a, b)
        for i in 0..<3 { for j in 0..<2 {
            var s: Float = 0
            for k in 0..<4 { s += a[i, k] * b[k, j] }
            #expect(abs(c[i, j] - s) < 1e-5)
        } }
        let at = Tensor(shape: [4, 3], scalars: (0..<12).map { a.scalars[($0 % 3) * 4 + $0 / 3] })
        let bt = Tensor(shape: [2, 4], scalars: (0..<8).map { b.scalars[($0 % 4) * 2 + $0 / 4] })
        let c2 = BLAS.matmul(at, bt, transposeA: true, transposeB: true)
        #expect(maxRelativeError(c2, c) < 1e-6)
    }
}
