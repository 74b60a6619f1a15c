import DivSegCore
import Testing

/// The hypercolumn's upsampling rule: source = (i + 0.5) / factor − 0.5, clamped to the edge.
func referenceUpsample(_ input: [Float], h: Int, w: Int, factor: Int) -> [Float] {
    func coordinate(_ i: Int, _ n: Int) -> (Int, Int, Float) {
        let s = min(max((Float(i) + 0.5) / Float(factor) - 0.5, 0), Float(n - 1))
        let i0 = Int(s.rounded(.down)), i1 = min(i0 + 1, n - 1)
        return (i0, i1, s - Float(i0))
    }
    var out = [Float](repeating: 0, count: h * factor * w * factor)
    for y in 0..<(h * factor) {
        let (y0, y1, fy) = coordinate(y, h)
        for x in 0..<(w * factor) {
            let (x0, x1, fx) = coordinate(x, w)
            let a: Float = input[y0 * w + x0], b: Float = input[y0 * w + x1]
            let c: Float = input[y1 * w + x0], d: Float = input[y1 * w + x1]
            let top: Float = a * (1 - fx) + b * fx
            let bottom: Float = c * (1 - fx) + d * fx
            out[y * w * factor + x] = top * (1 - fy) + bottom * fy
        }
    }
    return out
}

@Suite("Resampler")
struct ResamplerTests {
    @Test("×2 and ×4 upsampling follows the half-pixel, edge-clamped rule", arguments: [2, 4])
    func upsampling(factor: Int) {
        let h = 5, w = 7
        let x = pseudoRandom(2 * h * w, seed: 11)
        let y = Resampler.resize(Tensor(shape: [2, h, w], scalars: x), height: h * factor, width: w * factor)
        for c in 0..<2 {
            let expected = referenceUpsample(Array(x[(c * h * w)..<((c + 1) * h * w)]), h: h, w: w, factor: factor)
            let got = Array(y.channel(c))
            let err = zip(got, expected).map { abs($0 - $1) }.max()!
            #expect(err < 1e-6)
        }
    }

    @Test("2× downsampling with antialiasing averages pixel pairs")
    func downsampling() {
        let x = Tensor(shape: [1, 1, 8], scalars: [0, 2, 4, 6, 8, 10, 12, 14])
        let y = Resampler.resize(x, height: 1, width: 4)
        // Triangle of half-width 2 centred between pixel pairs: weights 1/8,3/8,3/8,1/8.
        let expected: [Float] = [(0 * 3 + 2 * 3 + 4 * 1) / 7, 5, 9, (10 * 1 + 12 * 3 + 14 * 3) / 7]
        for (a, b) in zip(y.scalars, expected) { #expect(abs(a - b) < 1e-5) }
    }

    @Test("a constant image stays constant at any size")
    func constant() {
        let x = Tensor(shape: [3, 13, 17], scalars: [Float](repeating: 4.25, count: 3 * 13 * 17))
        for (h, w) in [(256, 336), (5, 3), (13, 40)] {
            let y = Resampler.resize(x, height: h, width: w)
            #expect(y.scalars.allSatisfy { abs($0 - 4.25) < 1e-5 })
        }
    }
}
