/// Adam (Kingma & Ba, 2015) — the one optimiser implementation of divseg: the segmenter,
/// the max-pooled localizers and the logistic regressions of the CAM-style localizers all
/// step through it, so a fix or a speed-up reaches every trainer.
///
/// Per parameter, with gradient g at step t (1-based):
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w ← w − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε).
/// The caller owns the weights and the two moment arrays (zeros at the start); ``Step``
/// holds one step's bias-corrected coefficients and updates any slice of them, eight lanes
/// at a time (the default x86-64 target does not auto-vectorise the square root and
/// division), so trainers can update a block while its gradient is still in cache.
///
/// ```swift
/// let adam = Adam()
/// var w: [Float] = [1, 2], m: [Float] = [0, 0], v: [Float] = [0, 0]
/// adam.step(1, learningRate: 0.01).update(&w, m: &m, v: &v, gradient: [0.5, -0.5])
/// ```
public struct Adam: Sendable, Equatable {
    /// Decay rate of the first moment.
    public var beta1: Float
    /// Decay rate of the second moment.
    public var beta2: Float
    /// Stabiliser added to the root of the second moment.
    public var epsilon: Float

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// The coefficients of step `t` (1-based) at `learningRate`.
    public func step(_ t: Int, learningRate: Float) -> Step {
        precondition(t >= 1, "Adam steps are counted from 1")
        let correction1 = 1 - Float(Self.power(Double(beta1), t))
        let correction2 = 1 - Float(Self.power(Double(beta2), t))
        return Step(stepSize: learningRate / correction1, inverseSqrtCorrection2: 1 / correction2.squareRoot(),
                    beta1: beta1, beta2: beta2, epsilon: epsilon)
    }

    /// One step's coefficients; updates weights and moments in place.
    public struct Step: Sendable {
        /// lr / (1 − β₁ᵗ).
        public let stepSize: Float
        /// 1 / √(1 − β₂ᵗ).
        public let inverseSqrtCorrection2: Float
        let beta1: Float, beta2: Float, epsilon: Float

        /// Updates `count` weights and their moments from `gradient`.
        public func update(weights wp: UnsafeMutablePointer<Float>, m mp: UnsafeMutablePointer<Float>,
                           v vp: UnsafeMutablePointer<Float>, gradient gp: UnsafePointer<Float>, count: Int) {
            typealias V = SIMD8<Float>
            let (b1, b2, eps, step, inv) = (beta1, beta2, epsilon, stepSize, inverseSqrtCorrection2)
            let (vb1, vb2, vOne1, vOne2) = (V(repeating: b1), V(repeating: b2), V(repeating: 1 - b1), V(repeating: 1 - b2))
            let (vStep, vInv, vEps) = (V(repeating: step), V(repeating: inv), V(repeating: eps))
            var i = 0
            while i + 8 <= count {
                let gi = UnsafeRawPointer(gp + i).loadUnaligned(as: V.self)
                let mi = vb1 * UnsafeRawPointer(mp + i).loadUnaligned(as: V.self) + vOne1 * gi
                let vi = vb2 * UnsafeRawPointer(vp + i).loadUnaligned(as: V.self) + vOne2 * (gi * gi)
                let wi = UnsafeRawPointer(wp + i).loadUnaligned(as: V.self) - vStep * mi / (vi.squareRoot() * vInv + vEps)
                UnsafeMutableRawPointer(mp + i).storeBytes(of: mi, as: V.self)
                UnsafeMutableRawPointer(vp + i).storeBytes(of: vi, as: V.self)
                UnsafeMutableRawPointer(wp + i).storeBytes(of: wi, as: V.self)
                i += 8
            }
            // The tail with the same operations in the same order, so a value's update does
            // not depend on where it falls in a slice.
            while i < count {
                let gi = gp[i]
                let mi = b1 * mp[i] + (1 - b1) * gi
                let vi = b2 * vp[i] + (1 - b2) * (gi * gi)
                mp[i] = mi
                vp[i] = vi
                wp[i] = wp[i] - step * mi / (vi.squareRoot() * inv + eps)
                i += 1
            }
        }

        /// Updates whole arrays (all four of the same length).
        public func update(_ weights: inout [Float], m: inout [Float], v: inout [Float], gradient: [Float]) {
            precondition(m.count == weights.count && v.count == weights.count && gradient.count == weights.count,
                         "Adam: weights, moments and gradient differ in length")
            weights.withUnsafeMutableBufferPointer { w in
                m.withUnsafeMutableBufferPointer { mb in
                    v.withUnsafeMutableBufferPointer { vb in
                        gradient.withUnsafeBufferPointer { g in
                            guard let wp = w.baseAddress else { return }
                            update(weights: wp, m: mb.baseAddress!, v: vb.baseAddress!, gradient: g.baseAddress!,
                                   count: w.count)
                        }
                    }
                }
            }
        }
    }

    /// xⁿ by squaring: exact in the exponent, the same on every machine (no `pow`).
    static func power(_ x: Double, _ n: Int) -> Double {
        var result = 1.0, base = x, e = n
        while e > 0 {
            if e & 1 == 1 { result *= base }
            base *= base
            e >>= 1
        }
        return result
    }
}
