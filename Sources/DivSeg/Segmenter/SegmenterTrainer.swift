import DivSegCore
import Dispatch

/// Trains the shared ``Segmenter`` on sampled points (TheMethod.md, paper §3.3).
///
/// Per point: input normalisation (per-dimension mean and standard deviation of the
/// training set, because raw VGG activations differ by orders of magnitude across layers),
/// a fully connected layer of ``hiddenUnits`` (512) with ReLU — a 1×1 convolution when
/// applied to a feature map — and a layer to one logit per class (background = 0);
/// softmax cross-entropy; mini-batches of ``batchSize`` (100) points; ``epochs`` (2) passes.
///
/// The paper trains with SGD, momentum 0.9 and a fixed learning rate (its value was lost in
/// the text we have); the default here is Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8) with
/// learning rate 1e-3, the usual Adam default, which on normalised inputs converges within
/// the paper's two epochs without tuning. ``Optimizer/momentum`` is the paper's rule.
///
/// Reproducible: weights are He-initialised (normal, variance 2/fan-in; biases 0) and the
/// points reshuffled every epoch from a ``SplitMix64`` seeded with ``seed``. Every reduction
/// runs in a fixed order, and OpenBLAS products of equal shapes on an equal thread count
/// are deterministic, so the same training set and seed give bit-identical weights.
///
/// Forward and backward passes are GEMMs on the whole batch: per batch of 100 points,
/// ≈ 4 · 100 · 4736 · 512 ≈ 1 GFLOP; the first layer's weight gradient is produced and
/// applied in blocks of hidden units, so it never leaves the cache. On the 2-core reference
/// machine 500k points × 2 epochs take about 105 s undisturbed (≈ 93 GFLOP/s, over half of
/// its sgemm peak); Benchmarks/SegmenterBenchmark measures it.
///
/// ```swift
/// var trainer = SegmenterTrainer()           // 512 hidden, 2 epochs, batch 100, Adam 1e-3
/// trainer.seed = 7
/// let (segmenter, report) = try trainer.train(on: set, classes: ["background", "giraffe"]) {
///     progress in print(progress.fraction, progress.loss)
/// }
/// print(report.epochLosses, report.seconds)
/// ```
public struct SegmenterTrainer: Sendable, Codable, Equatable {
    /// Units of the hidden layer (paper: 512).
    public var hiddenUnits: Int = 512
    /// Passes over the training points (paper: 2); within ``epochsRange``.
    public var epochs: Int = 2
    /// The ``epochs`` accepted. An epoch over coco-mini's points takes about a minute on the
    /// 2-core reference machine and the paper's two already converge, so more than 100 is a
    /// typo that would run for hours, not a setting.
    public static let epochsRange = 1...100
    /// Points per mini-batch (paper: 100 points, not images). The last batch of an epoch may
    /// be smaller.
    public var batchSize: Int = 100
    /// The update rule (default ``Optimizer/adam``).
    public var optimizer: Optimizer = .adam
    /// Step size (default 1e-3, Adam's usual value; SGD with momentum on normalised inputs
    /// typically wants about 1e-2).
    public var learningRate: Float = 1e-3
    /// The ``learningRate``s accepted: positive and finite; on normalised inputs a step
    /// above 1 overshoots every weight and training diverges.
    public static let learningRateRange: ClosedRange<Float> = 1e-7...1
    /// Adam's first and second moment decay rates and its ε.
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    /// Momentum of ``Optimizer/momentum`` (paper: 0.9).
    public var momentum: Float = 0.9
    /// Seed of weight initialisation and shuffling.
    public var seed: UInt64 = 0
    /// Weight each point's loss by `count / (classes present · count of its class)`, so
    /// that every class present contributes equally; off by default (the sampler already
    /// gives every present class k points per image).
    public var classBalanced: Bool = false

    /// How the weights follow the gradient.
    public enum Optimizer: String, Codable, CaseIterable, Sendable {
        /// Adam with bias correction: `w ← w − lr · m̂ / (√v̂ + ε)`.
        case adam
        /// SGD with momentum, as in the paper: `u ← μu + g`, `w ← w − lr · u`. Cheaper per
        /// step than Adam (one moment array instead of two, no square roots).
        case momentum
    }

    public init(hiddenUnits: Int = 512, epochs: Int = 2, batchSize: Int = 100,
                optimizer: Optimizer = .adam, learningRate: Float = 1e-3, seed: UInt64 = 0,
                classBalanced: Bool = false) {
        self.hiddenUnits = hiddenUnits
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.seed = seed
        self.classBalanced = classBalanced
    }

    /// Where training is, passed to the progress callback after every batch.
    public struct Progress: Sendable {
        /// Epoch (0-based) and batch within it (0-based) just finished.
        public var epoch: Int
        public var batch: Int
        public var batchesPerEpoch: Int
        /// Share of all batches done, 0…1.
        public var fraction: Double
        /// Mean loss over this epoch's batches so far.
        public var loss: Double
        /// Seconds since training started (including normalisation statistics).
        public var seconds: Double
    }

    /// What a finished training run did.
    public struct Report: Sendable, Equatable {
        /// Mean (weighted) cross-entropy of each epoch, measured while training.
        public var epochLosses: [Double]
        /// Points trained on, batches per epoch.
        public var pointCount: Int
        public var batchesPerEpoch: Int
        /// Wall time, seconds.
        public var seconds: Double
        /// Floating-point operations of the GEMMs (2 per multiply–add).
        public var flops: Double
    }

    /// Checks the settings.
    ///
    /// - Throws: ``SegmenterError/invalidSetting(name:value:requirement:)``.
    public func validate() throws(SegmenterError) {
        func require(_ ok: Bool, _ name: String, _ value: Any, _ requirement: String) throws(SegmenterError) {
            if !ok { throw .invalidSetting(name: name, value: "\(value)", requirement: requirement) }
        }
        try require(hiddenUnits > 0, "hiddenUnits", hiddenUnits, "positive")
        try require(Self.epochsRange.contains(epochs), "epochs", epochs, "in \(Self.epochsRange.boundText)")
        try require(batchSize > 0, "batchSize", batchSize, "positive")
        try require(Self.learningRateRange.contains(learningRate), "learningRate", learningRate,
                    "in \(Self.learningRateRange.boundText)")
        try require(beta1 >= 0 && beta1 < 1, "beta1", beta1, "in [0, 1)")
        try require(beta2 >= 0 && beta2 < 1, "beta2", beta2, "in [0, 1)")
        try require(epsilon > 0 && epsilon.isFinite, "epsilon", epsilon, "positive and finite")
        try require(momentum >= 0 && momentum < 1, "momentum", momentum, "in [0, 1)")
    }

    /// Trains a segmenter on `set`.
    ///
    /// - Parameters:
    ///   - classes: class names in label order, `"background"` first; every label of the
    ///     set must index it.
    ///   - progress: called after every batch (on the calling thread).
    /// - Returns: the segmenter (its ``Segmenter/featureRule`` is ``FeatureGrid/ruleName``
    ///   and its fingerprint empty; set both as needed) and a report.
    /// - Throws: ``SegmenterError`` for an empty set, bad classes or labels, settings, or a
    ///   diverging loss.
    public func train(on set: SegmenterTrainingSet, classes: [String],
                      progress: ((Progress) -> Void)? = nil) throws(SegmenterError) -> (segmenter: Segmenter, report: Report) {
        try validate()
        try Segmenter.validate(classes: classes)
        guard set.count > 0 else { throw .emptyTrainingSet }
        let classCount = classes.count
        if let bad = set.labels.first(where: { Int($0) >= classCount || $0 < 0 }) {
            throw .labelOutOfRange(label: Int(bad), classCount: classCount)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

        let (d, h, c, n) = (set.dimension, hiddenUnits, classCount, set.count)
        let (mean, std) = set.statistics()
        let scale = std.map { $0 > 0 ? 1 / $0 : 0 }

        var rng = SplitMix64(seed: seed)
        var network = Network(inputs: d, hidden: h, classes: c, secondMoments: optimizer == .adam, rng: &rng)

        // Class weights (1 unless balanced).
        var classWeight = [Float](repeating: 1, count: c)
        if classBalanced {
            let counts = set.labelCounts()
            let present = counts.filter { $0 > 0 }.count
            for (label, count) in counts.enumerated() where count > 0 {
                classWeight[label] = Float(Double(n) / Double(present * count))
            }
        }

        let b = min(batchSize, n)
        let batchesPerEpoch = (n + b - 1) / b
        var workspace = Workspace(batch: b, inputs: d, hidden: h, classes: c)
        var order = Array(0..<n)
        var epochLosses: [Double] = []
        var step = 0
        let totalBatches = batchesPerEpoch * epochs

        for epoch in 0..<epochs {
            Self.shuffle(&order, using: &rng)
            var lossSum = 0.0
            for batch in 0..<batchesPerEpoch {
                let lo = batch * b, hi = min(n, lo + b)
                step += 1
                let loss = set.features.withUnsafeBufferPointer { x in
                    set.labels.withUnsafeBufferPointer { labels in
                        order.withUnsafeBufferPointer { order in
                            workspace.gather(rows: UnsafeBufferPointer(rebasing: order[lo..<hi]),
                                             from: x.baseAddress!, labels: labels, mean: mean, scale: scale)
                        }
                    }
                    return network.trainStep(&workspace, rows: hi - lo, classWeight: classWeight,
                                             rule: UpdateRule(self, step: step))
                }
                guard loss.isFinite else { throw .diverged(epoch: epoch, batch: batch) }
                lossSum += loss
                progress?(Progress(epoch: epoch, batch: batch, batchesPerEpoch: batchesPerEpoch,
                                   fraction: Double(epoch * batchesPerEpoch + batch + 1) / Double(totalBatches),
                                   loss: lossSum / Double(batch + 1), seconds: elapsed()))
            }
            epochLosses.append(lossSum / Double(batchesPerEpoch))
        }

        let parameters = SegmenterParameters(
            inputCount: d, hiddenUnits: h, classCount: c,
            hiddenWeights: network.w1, hiddenBias: network.b1,
            outputWeights: network.w2, outputBias: network.b2,
            inputMean: mean, inputStd: std)
        // A finite loss does not prove finite weights (an overflowing update can land in a
        // weight the last batch did not use); such a segmenter must never be written.
        if let array = parameters.firstNonFiniteArray { throw .nonFiniteWeights(array: array) }
        let segmenter = try Segmenter(classes: classes, parameters: parameters,
                                      featureChannels: set.featureChannels)
        // forward (2·B·D·H + 2·B·H·C) + backward (2·B·D·H + 4·B·H·C) per point-batch
        let flops = Double(n * epochs) * (4 * Double(d * h) + 6 * Double(h * c))
        let report = Report(epochLosses: epochLosses, pointCount: n, batchesPerEpoch: batchesPerEpoch,
                            seconds: elapsed(), flops: flops)
        return (segmenter, report)
    }

    /// Fisher–Yates with our generator (the standard library's shuffle algorithm is not
    /// specified, so it could change between toolchains).
    static func shuffle(_ values: inout [Int], using rng: inout SplitMix64) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            values.swapAt(i, j)
        }
    }
}

// MARK: - Training internals

extension SegmenterTrainer {
    /// Per-batch buffers, allocated once.
    struct Workspace {
        let batch: Int, inputs: Int, hidden: Int, classes: Int
        var x: [Float]          // [B, D] normalised inputs
        var labels: [Int32]     // [B]
        var z: [Float]          // [B, H] pre-activations, then ReLU in place
        var logits: [Float]     // [B, C], then dLoss/dlogits
        var dHidden: [Float]    // [B, H]
        var gradW1: [Float]     // [blockUnits, D]: one block of hidden units at a time
        var gradB1: [Float]     // [H]
        var gradW2: [Float]     // [C, H]
        var gradB2: [Float]     // [C]

        init(batch: Int, inputs: Int, hidden: Int, classes: Int) {
            self.batch = batch; self.inputs = inputs; self.hidden = hidden; self.classes = classes
            x = [Float](repeating: 0, count: batch * inputs)
            labels = [Int32](repeating: 0, count: batch)
            z = [Float](repeating: 0, count: batch * hidden)
            logits = [Float](repeating: 0, count: batch * classes)
            dHidden = [Float](repeating: 0, count: batch * hidden)
            gradW1 = [Float](repeating: 0, count: min(hidden, Network.blockUnits) * inputs)
            gradB1 = [Float](repeating: 0, count: hidden)
            gradW2 = [Float](repeating: 0, count: hidden * classes)
            gradB2 = [Float](repeating: 0, count: classes)
        }

        /// Copies and normalises the selected rows into `x`.
        mutating func gather(rows rowList: UnsafeBufferPointer<Int>, from source: UnsafePointer<Float>,
                             labels sourceLabels: UnsafeBufferPointer<Int32>,
                             mean: [Float], scale: [Float]) {
            let d = inputs
            for (r, index) in rowList.enumerated() { labels[r] = sourceLabels[index] }
            x.withUnsafeMutableBufferPointer { x in
                mean.withUnsafeBufferPointer { m in
                    scale.withUnsafeBufferPointer { s in
                        for r in 0..<rowList.count {
                            let src = source + rowList[r] * d, dst = x.baseAddress! + r * d
                            for j in 0..<d { dst[j] = (src[j] - m[j]) * s[j] }
                        }
                    }
                }
            }
        }
    }

    /// Weights (`w1`: [H, D], `w2`: [C, H]) and optimizer moments (`m`: first moment or
    /// momentum, `v`: Adam's second moment, empty for momentum SGD).
    struct Network {
        /// Hidden units whose first-layer gradient is computed and applied together, so that
        /// the gradient block stays in cache between the GEMM that makes it and the Adam
        /// update that consumes it (the full gradient would be 9.7 MB).
        static let blockUnits = 64

        let inputs: Int, hidden: Int, classes: Int
        var w1: [Float], b1: [Float], w2: [Float], b2: [Float]
        var m1: [Float], v1: [Float], mb1: [Float], vb1: [Float]
        var m2: [Float], v2: [Float], mb2: [Float], vb2: [Float]

        init(inputs: Int, hidden: Int, classes: Int, secondMoments: Bool, rng: inout SplitMix64) {
            self.inputs = inputs; self.hidden = hidden; self.classes = classes
            let s1 = (2 / Float(inputs)).squareRoot(), s2 = (2 / Float(hidden)).squareRoot()
            w1 = (0..<(hidden * inputs)).map { _ in rng.nextGaussian() * s1 }
            w2 = (0..<(classes * hidden)).map { _ in rng.nextGaussian() * s2 }
            b1 = [Float](repeating: 0, count: hidden)
            b2 = [Float](repeating: 0, count: classes)
            m1 = [Float](repeating: 0, count: w1.count)
            mb1 = b1
            m2 = [Float](repeating: 0, count: w2.count)
            mb2 = b2
            (v1, vb1, v2, vb2) = secondMoments ? (m1, mb1, m2, mb2) : ([], [], [], [])
        }

        /// Forward, backward and weight update on the first `rows` rows of the workspace;
        /// returns the batch's mean weighted cross-entropy.
        mutating func trainStep(_ ws: inout Workspace, rows: Int, classWeight: [Float],
                                rule: UpdateRule) -> Double {
            let (d, h, c) = (inputs, hidden, classes)
            // Forward: z = relu(x·W1ᵀ + b1); logits = z·W2ᵀ + b2.
            ws.x.withUnsafeBufferPointer { x in
                w1.withUnsafeBufferPointer { w in
                    ws.z.withUnsafeMutableBufferPointer { z in
                        BLAS.gemm(transposeB: true, m: rows, n: h, k: d, a: x.baseAddress!, lda: d,
                                  b: w.baseAddress!, ldb: d, c: z.baseAddress!, ldc: h)
                    }
                }
            }
            ws.z.withUnsafeMutableBufferPointer { z in
                b1.withUnsafeBufferPointer { bias in
                    for r in 0..<rows {
                        let row = z.baseAddress! + r * h
                        for j in 0..<h { row[j] = max(0, row[j] + bias[j]) }
                    }
                }
            }
            ws.z.withUnsafeBufferPointer { z in
                w2.withUnsafeBufferPointer { w in
                    ws.logits.withUnsafeMutableBufferPointer { y in
                        BLAS.gemm(transposeB: true, m: rows, n: c, k: h, a: z.baseAddress!, lda: h,
                                  b: w.baseAddress!, ldb: h, c: y.baseAddress!, ldc: c)
                    }
                }
            }
            // Softmax cross-entropy; logits become dLoss/dlogits (mean over the batch).
            var loss = 0.0
            let inverseRows = 1 / Float(rows)
            ws.logits.withUnsafeMutableBufferPointer { y in
                for r in 0..<rows {
                    let row = y.baseAddress! + r * c
                    var top = -Float.infinity
                    for j in 0..<c { row[j] += b2[j]; top = max(top, row[j]) }
                    var sum: Float = 0
                    for j in 0..<c { row[j] = _expf(row[j] - top); sum += row[j] }
                    let label = Int(ws.labels[r])
                    let weight = classWeight[label]
                    loss += Double(weight) * -Double(_logf(max(row[label] / sum, .leastNormalMagnitude)))
                    let g = weight * inverseRows
                    for j in 0..<c { row[j] = row[j] / sum * g }
                    row[label] -= g
                }
            }
            loss /= Double(rows)
            // Output layer: gradW2 = dyᵀ·z, gradB2 = Σ dy; dHidden = dy·W2 ⊙ [z > 0].
            ws.logits.withUnsafeBufferPointer { dy in
                ws.z.withUnsafeBufferPointer { z in
                    ws.gradW2.withUnsafeMutableBufferPointer { g in
                        BLAS.gemm(transposeA: true, m: c, n: h, k: rows, a: dy.baseAddress!, lda: c,
                                  b: z.baseAddress!, ldb: h, c: g.baseAddress!, ldc: h)
                    }
                }
                w2.withUnsafeBufferPointer { w in
                    ws.dHidden.withUnsafeMutableBufferPointer { dh in
                        BLAS.gemm(m: rows, n: h, k: c, a: dy.baseAddress!, lda: c,
                                  b: w.baseAddress!, ldb: h, c: dh.baseAddress!, ldc: h)
                    }
                }
                for j in 0..<c {
                    var s: Float = 0
                    for r in 0..<rows { s += dy[r * c + j] }
                    ws.gradB2[j] = s
                }
            }
            ws.dHidden.withUnsafeMutableBufferPointer { dh in
                ws.z.withUnsafeBufferPointer { z in
                    for i in 0..<(rows * h) where z[i] <= 0 { dh[i] = 0 }
                }
                ws.gradB1.withUnsafeMutableBufferPointer { g in
                    for j in 0..<h { g[j] = 0 }
                    for r in 0..<rows {
                        let row = dh.baseAddress! + r * h
                        for j in 0..<h { g[j] += row[j] }
                    }
                }
            }
            rule.update(&b1, gradient: ws.gradB1, m: &mb1, v: &vb1, range: 0..<h)
            rule.update(&w2, gradient: ws.gradW2, m: &m2, v: &v2, range: 0..<(c * h))
            rule.update(&b2, gradient: ws.gradB2, m: &mb2, v: &vb2, range: 0..<c)
            // Hidden layer, a block of units at a time: gradW1[block] = dHidden[:, block]ᵀ·x,
            // then the update of that block while the gradient is still in cache.
            var unit = 0
            while unit < h {
                let units = min(Self.blockUnits, h - unit)
                ws.x.withUnsafeBufferPointer { x in
                    ws.dHidden.withUnsafeBufferPointer { dh in
                        ws.gradW1.withUnsafeMutableBufferPointer { g in
                            BLAS.gemm(transposeA: true, m: units, n: d, k: rows,
                                      a: dh.baseAddress! + unit, lda: h, b: x.baseAddress!, ldb: d,
                                      c: g.baseAddress!, ldc: d)
                        }
                    }
                }
                rule.update(&w1, gradient: ws.gradW1, m: &m1, v: &v1, range: (unit * d)..<((unit + units) * d))
                unit += units
            }
            return loss
        }
    }

    /// One optimizer step, elementwise: ``Adam`` (the one implementation), or momentum
    /// (m ← μm + g, w ← w − lr·m, eight lanes at a time).
    struct UpdateRule {
        let optimizer: Optimizer
        let learningRate: Float, momentum: Float
        let adam: Adam.Step

        init(_ trainer: SegmenterTrainer, step: Int) {
            optimizer = trainer.optimizer
            learningRate = trainer.learningRate
            adam = Adam(beta1: trainer.beta1, beta2: trainer.beta2, epsilon: trainer.epsilon)
                .step(step, learningRate: trainer.learningRate)
            momentum = trainer.momentum
        }

        /// Updates `weights[range]` and its moments with `gradient[0..<range.count]`.
        func update(_ weights: inout [Float], gradient: [Float], m: inout [Float], v: inout [Float],
                    range: Range<Int>) {
            weights.withUnsafeMutableBufferPointer { wBuffer in
                m.withUnsafeMutableBufferPointer { mBuffer in
                    v.withUnsafeMutableBufferPointer { vBuffer in
                        gradient.withUnsafeBufferPointer { gBuffer in
                            let offset = range.lowerBound
                            let wp = wBuffer.baseAddress! + offset, mp = mBuffer.baseAddress! + offset
                            let gp = gBuffer.baseAddress!
                            switch optimizer {
                            case .adam:
                                let vp = vBuffer.baseAddress! + offset
                                Parallel.forEachChunk(of: 0..<range.count, minimumChunk: 1 << 16) { part in
                                    let o = part.lowerBound
                                    adam.update(weights: wp + o, m: mp + o, v: vp + o, gradient: gp + o, count: part.count)
                                }
                            case .momentum:
                                Parallel.forEachChunk(of: 0..<range.count, minimumChunk: 1 << 16) { part in
                                    momentumStep(wp, mp, gp, part)
                                }
                            }
                        }
                    }
                }
            }
        }

        private func momentumStep(_ wp: UnsafeMutablePointer<Float>, _ mp: UnsafeMutablePointer<Float>,
                                  _ gp: UnsafePointer<Float>, _ part: Range<Int>) {
            typealias V = SIMD8<Float>
            let (mu, lr) = (momentum, learningRate)
            let (vMu, vLr) = (V(repeating: mu), V(repeating: lr))
            var i = part.lowerBound
            while i + 8 <= part.upperBound {
                let mi = vMu * UnsafeRawPointer(mp + i).loadUnaligned(as: V.self) + UnsafeRawPointer(gp + i).loadUnaligned(as: V.self)
                let wi = UnsafeRawPointer(wp + i).loadUnaligned(as: V.self) - vLr * mi
                UnsafeMutableRawPointer(mp + i).storeBytes(of: mi, as: V.self)
                UnsafeMutableRawPointer(wp + i).storeBytes(of: wi, as: V.self)
                i += 8
            }
            while i < part.upperBound {
                let mi = mu * mp[i] + gp[i]
                mp[i] = mi
                wp[i] = wp[i] - lr * mi
                i += 1
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _expf(_ x: Float) -> Float { expf(x) }
@inline(__always) private func _logf(_ x: Float) -> Float { logf(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) private func _expf(_ x: Float) -> Float { expf(x) }
@inline(__always) private func _logf(_ x: Float) -> Float { logf(x) }
#endif
