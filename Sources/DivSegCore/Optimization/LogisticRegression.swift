import Foundation

/// Independent logistic regressions (one sigmoid per output) on a shared design matrix,
/// fitted with Adam on seeded mini-batches: the classifier behind the CAM peer and the
/// CAM-style (average-pooled) localizer.
///
/// Loss: binary cross-entropy summed over outputs and averaged over rows, plus an L2 penalty
/// ``weightDecay`` on the weights (not the biases) added to the gradient. Weights start at
/// zero and each bias at the log-odds of its output's frequency, so a fit depends on the
/// seed only through the batch order.
///
/// ```swift
/// var fit = LogisticRegression(epochs: 300, batchSize: 32, learningRate: 1e-3, weightDecay: 1e-4, seed: 0)
/// let model = try fit.fit(x: features, y: targets, rows: n, features: 512, outputs: 1)
/// let z = model.logits(x: features, rows: n)
/// ```
public struct LogisticRegression: Sendable, Equatable, Codable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var weightDecay: Float
    public var seed: UInt64

    public init(epochs: Int = 300, batchSize: Int = 32, learningRate: Float = 1e-3, weightDecay: Float = 1e-4,
                seed: UInt64 = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.seed = seed
    }

    /// A fitted model: weights `[outputs, features]` row-major and one bias per output.
    public struct Model: Sendable, Equatable {
        public var weights: [Float]
        public var bias: [Float]
        public var features: Int
        public var outputs: Int
        /// Mean loss of every epoch (penalty excluded).
        public var epochLosses: [Double]

        /// Z `[rows, outputs]` = X `[rows, features]` · Wᵀ + b.
        public func logits(x: [Float], rows: Int) -> [Float] {
            var z = [Float](repeating: 0, count: rows * outputs)
            LogisticRegression.forward(x, rows: rows, weights: weights, bias: bias, outputs: outputs,
                                       features: features, into: &z)
            return z
        }
    }

    /// The fit diverged (a non-finite epoch loss).
    public struct Diverged: Error, Sendable, Equatable {
        public var epoch: Int
    }

    /// Fits the model. `x` is `[rows, features]`, `y` is `[rows, outputs]` of 0/1 targets.
    ///
    /// - Parameter progress: called after each epoch with (epoch, mean loss).
    /// - Throws: ``Diverged`` when an epoch's loss is not finite.
    public func fit(x: [Float], y: [Float], rows n: Int, features k: Int, outputs c: Int,
                    progress: ((Int, Double) -> Void)? = nil) throws(Diverged) -> Model {
        precondition(x.count == n * k && y.count == n * c && n > 0 && k > 0 && c > 0, "shapes do not fit")
        let positives = (0..<c).map { ci in (0..<n).filter { y[$0 * c + ci] == 1 }.count }
        var w = [Float](repeating: 0, count: c * k)
        var b = positives.map { count -> Float in
            let p = (Double(count) + 0.5) / (Double(n) + 1)
            return Float(log(p / (1 - p)))
        }
        let adam = Adam()
        var (mW, vW) = ([Float](repeating: 0, count: c * k), [Float](repeating: 0, count: c * k))
        var (mB, vB) = ([Float](repeating: 0, count: c), [Float](repeating: 0, count: c))
        var step = 0
        var rng = SplitMix64(seed: seed)
        var order = Array(0..<n)
        let batch = min(batchSize, n)
        var epochLosses: [Double] = []
        var logits = [Float](repeating: 0, count: batch * c)
        var xb = [Float](repeating: 0, count: batch * k)
        var gradient = [Float](repeating: 0, count: c * k + c)
        for epoch in 0..<epochs {
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var lossSum = 0.0
            var lo = 0
            while lo < n {
                let hi = min(n, lo + batch), m = hi - lo
                for r in 0..<m {
                    let src = order[lo + r] * k
                    for j in 0..<k { xb[r * k + j] = x[src + j] }
                }
                Self.forward(xb, rows: m, weights: w, bias: b, outputs: c, features: k, into: &logits)
                // dL/dz = (σ(z) − y) / m.
                for r in 0..<m {
                    let target = order[lo + r] * c
                    for ci in 0..<c {
                        let z = logits[r * c + ci], t = y[target + ci]
                        lossSum += Double(max(z, 0) - z * t + log1pf(expf(-abs(z))))
                        logits[r * c + ci] = (Self.sigmoid(z) - t) / Float(m)
                    }
                }
                // ∇W = dZᵀ [c, m] · X [m, k] + λW; ∇b = Σ_rows dZ.
                gradient.withUnsafeMutableBufferPointer { g in
                    logits.withUnsafeBufferPointer { dz in
                        xb.withUnsafeBufferPointer { xp in
                            BLAS.gemm(transposeA: true, m: c, n: k, k: m, a: dz.baseAddress!, lda: c,
                                      b: xp.baseAddress!, ldb: k, c: g.baseAddress!, ldc: k)
                        }
                    }
                    for i in 0..<(c * k) { g[i] += weightDecay * w[i] }
                    for ci in 0..<c {
                        var sum: Float = 0
                        for r in 0..<m { sum += logits[r * c + ci] }
                        g[c * k + ci] = sum
                    }
                }
                step += 1
                let coefficients = adam.step(step, learningRate: learningRate)
                // `gradient` is ∇W followed by ∇b.
                gradient.withUnsafeBufferPointer { g in
                    w.withUnsafeMutableBufferPointer { wp in
                        mW.withUnsafeMutableBufferPointer { m in
                            vW.withUnsafeMutableBufferPointer { v in
                                coefficients.update(weights: wp.baseAddress!, m: m.baseAddress!, v: v.baseAddress!,
                                                    gradient: g.baseAddress!, count: c * k)
                            }
                        }
                    }
                    b.withUnsafeMutableBufferPointer { bp in
                        mB.withUnsafeMutableBufferPointer { m in
                            vB.withUnsafeMutableBufferPointer { v in
                                coefficients.update(weights: bp.baseAddress!, m: m.baseAddress!, v: v.baseAddress!,
                                                    gradient: g.baseAddress! + c * k, count: c)
                            }
                        }
                    }
                }
                lo = hi
            }
            let loss = lossSum / Double(n)
            guard loss.isFinite else { throw Diverged(epoch: epoch) }
            epochLosses.append(loss)
            progress?(epoch + 1, loss)
        }
        return Model(weights: w, bias: b, features: k, outputs: c, epochLosses: epochLosses)
    }

    /// Multiplies each column of `x` (`[rows, features]`) by 1 / its RMS over the rows, so
    /// that inputs whose raw scales differ by orders of magnitude (VGG channels) are of order
    /// 1; a column that is zero everywhere keeps scale 1. Returns the scales.
    public static func scaleToUnitRMS(_ x: inout [Float], rows n: Int, features k: Int) -> [Float] {
        precondition(x.count == n * k && n > 0, "shapes do not fit")
        var scale = [Float](repeating: 1, count: k)
        for j in 0..<k {
            var sum: Double = 0
            for i in 0..<n { sum += Double(x[i * k + j]) * Double(x[i * k + j]) }
            let rms = (sum / Double(n)).squareRoot()
            if rms > 0 && rms.isFinite { scale[j] = Float(1 / rms) }
        }
        for i in 0..<n { for j in 0..<k { x[i * k + j] *= scale[j] } }
        return scale
    }

    /// Z [rows, c] = X [rows, k] · Wᵀ + b.
    static func forward(_ x: [Float], rows: Int, weights: [Float], bias: [Float], outputs c: Int, features k: Int,
                        into z: inout [Float]) {
        z.withUnsafeMutableBufferPointer { out in
            x.withUnsafeBufferPointer { xp in
                weights.withUnsafeBufferPointer { wp in
                    BLAS.gemm(transposeB: true, m: rows, n: c, k: k, a: xp.baseAddress!, lda: k,
                              b: wp.baseAddress!, ldb: k, c: out.baseAddress!, ldc: c)
                }
            }
            for r in 0..<rows { for ci in 0..<c { out[r * c + ci] += bias[ci] } }
        }
    }

    /// σ(z), without overflow for large |z|.
    @inline(__always)
    public static func sigmoid(_ z: Float) -> Float {
        z >= 0 ? 1 / (1 + expf(-z)) : expf(z) / (1 + expf(z))
    }
}
