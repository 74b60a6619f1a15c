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
