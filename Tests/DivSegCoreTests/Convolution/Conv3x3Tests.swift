import DivSegCore
import Testing

/// Direct 3×3 convolution with zero padding, the definition the fast paths must match.
func referenceConv(_ x: Tensor, kernelOIHW k: [Float], bias: [Float], outChannels: Int, relu: Bool) -> Tensor {
    let cin = x.shape[0], h = x.shape[1], w = x.shape[2]
    var y = Tensor(zeros: [outChannels, h, w])
    for co in 0..<outChannels {
        for yy in 0..<h {
            for xx in 0..<w {
                var acc = Double(bias[co])
                for ci in 0..<cin {
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let sy = yy + ky - 1, sx = xx + kx - 1
                            guard sy >= 0, sy < h, sx >= 0, sx < w else { continue }
                            acc += Double(k[((co * cin + ci) * 3 + ky) * 3 + kx]) * Double(x.scalars[(ci * h + sy) * w + sx])
                        }
                    }
                }
                y.scalars[(co * h + yy) * w + xx] = relu ? max(Float(acc), 0) : Float(acc)
            }
        }
    }
    return y
}

/// Deterministic pseudo-random values, so failures reproduce.
func pseudoRandom(_ n: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return rng.floats(n, in: range)
}

func maxRelativeError(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape)
    let scale = max(b.scalars.map(abs).max() ?? 1, 1e-6)
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / scale
}

@Suite("Conv3x3")
struct Conv3x3Tests {
    @Test("im2col, F(2×2) and F(4×4) match direct convolution",
          arguments: [(16, 8, 7, 9), (32, 5, 6, 6), (16, 3, 1, 1), (17, 4, 2, 3), (3, 8, 5, 7), (20, 6, 11, 4),
                      (16, 8, 25, 30), (32, 4, 24, 24), (16, 3, 27, 33)])
    func matchesDirect(_ shape: (Int, Int, Int, Int)) {
        let (cin, cout, h, w) = shape
        let x = Tensor(shape: [cin, h, w], scalars: pseudoRandom(cin * h * w, seed: 1))
        let k = pseudoRandom(cout * cin * 9, seed: 2)
        let b = pseudoRandom(cout, seed: 3)
        for relu in [false, true] {
            let expected = referenceConv(x, kernelOIHW: k, bias: b, outChannels: cout, relu: relu)
            for algorithm in [Conv3x3.Algorithm.im2col, .winograd2x2, .winograd4x4] {
                let conv = Conv3x3(kernelOIHW: k, bias: b, inChannels: cin, outChannels: cout, algorithm: algorithm)
                #expect(conv.usesWinograd == (algorithm != .im2col))
                let y = conv(x, relu: relu)
                #expect(y.shape == [cout, h, w])
                #expect(maxRelativeError(y, expected) < 2e-5, "\(algorithm) relu=\(relu) shape=\(shape)")
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
