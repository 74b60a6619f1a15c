import Foundation
import DivSegCore
import Testing

@Suite("Adam: the one optimiser step")
struct AdamTests {
    /// Kingma & Ba's Algorithm 1 in Double, the reference the Float step is held to.
    static func reference(_ w: [Double], _ gradients: [[Double]], lr: Double) -> [Double] {
        var w = w, m = [Double](repeating: 0, count: w.count), v = m
        for (t, g) in gradients.enumerated() {
            for i in w.indices {
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                let mHat = m[i] / (1 - pow(0.9, Double(t + 1))), vHat = v[i] / (1 - pow(0.999, Double(t + 1)))
                w[i] -= lr * mHat / (vHat.squareRoot() + 1e-8)
            }
        }
        return w
    }

    @Test("30 steps on 21 parameters (vector lanes and a tail) follow Algorithm 1 to float precision")
    func followsAlgorithm() {
        var rng = SplitMix64(seed: 3)
        let count = 21
        let start = (0..<count).map { _ in Double(rng.nextGaussian()) }
        let gradients = (0..<30).map { _ in (0..<count).map { _ in Double(rng.nextGaussian()) } }
        var w = start.map(Float.init), m = [Float](repeating: 0, count: count), v = m
        let adam = Adam()
        for (t, g) in gradients.enumerated() {
            adam.step(t + 1, learningRate: 0.01).update(&w, m: &m, v: &v, gradient: g.map(Float.init))
        }
        let expected = Self.reference(start, gradients, lr: 0.01)
        for i in 0..<count {
            // Each step moves a weight by at most ~lr; 30 float steps of relative error ~1e-6.
            #expect(abs(Double(w[i]) - expected[i]) < 1e-5, "parameter \(i): \(w[i]) vs \(expected[i])")
        }
        #expect(w.indices.contains { abs(Double(w[$0]) - start[$0]) > 0.05 }, "the weights moved")
    }

    @Test("a value's update does not depend on where it falls in a slice")
    func slicesAgree() {
        var rng = SplitMix64(seed: 5)
        let count = 37
        let g = (0..<count).map { _ in rng.nextGaussian() }
        let w0 = (0..<count).map { _ in rng.nextGaussian() }
        let step = Adam().step(4, learningRate: 0.003)
        var whole = w0, m = [Float](repeating: 0.1, count: count), v = [Float](repeating: 0.2, count: count)
        step.update(&whole, m: &m, v: &v, gradient: g)
        var pieces = w0, pm = [Float](repeating: 0.1, count: count), pv = [Float](repeating: 0.2, count: count)
        pieces.withUnsafeMutableBufferPointer { w in
            pm.withUnsafeMutableBufferPointer { m in
                pv.withUnsafeMutableBufferPointer { v in
                    g.withUnsafeBufferPointer { g in
                        // Split at 3 (scalar only), then 3..<20 (two lanes + tail), then the rest.
                        for range in [0..<3, 3..<20, 20..<count] {
                            let o = range.lowerBound
                            step.update(weights: w.baseAddress! + o, m: m.baseAddress! + o, v: v.baseAddress! + o,
                                        gradient: g.baseAddress! + o, count: range.count)
                        }
                    }
                }
            }
        }
        #expect(pieces == whole && pm == m && pv == v)
    }

    @Test("the first step moves each weight by the learning rate against its gradient's sign")
    func firstStep() {
        var w: [Float] = [1, 1, 1], m: [Float] = [0, 0, 0], v: [Float] = [0, 0, 0]
        Adam().step(1, learningRate: 0.5).update(&w, m: &m, v: &v, gradient: [2, -0.25, 0])
        #expect(abs(w[0] - 0.5) < 1e-5 && abs(w[1] - 1.5) < 1e-5 && w[2] == 1)
    }
}
