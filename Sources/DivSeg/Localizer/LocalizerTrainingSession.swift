import DivSegCore
import Foundation

/// Adam training of one ``MaxPooledLocalizer``, one image per step — the engine under
/// ``LocalizerTrainer``, usable on its own to fine-tune a localizer or to time steps.
///
/// A step is one forward pass by the exact shortcut (~9 GMAC at 1024 hidden units), the
/// MIL loss, a backward pass that touches only the one or two max locations (their exact
/// hypercolumns come from the compact groups), and a dense Adam update whose first-layer
/// gradient is a rank-1 or rank-2 product formed on the fly. Steps are deterministic: same
/// start, same images in the same order ⇒ bit-identical parameters.
///
/// ```swift
/// var session = LocalizerTrainingSession(
///     start: MaxPooledLocalizer(randomWithHiddenUnits: 1024, className: "giraffe", inputScale: scale, seed: 1))
/// for (features, tagged) in images {
///     let e = session.step(features, present: tagged, learningRate: 1e-4)
///     print(e.loss)
/// }
/// let giraffe = session.localizer
/// ```
public struct LocalizerTrainingSession {
    /// Adam's decay rates and stabiliser.
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Steps taken so far.
    public private(set) var steps = 0

    private var template: MaxPooledLocalizer
    private var fc1Kernel: [Float]
    private var fc1Bias: [Float]
    private var fc2Kernel: [Float]
    private var fc2Bias: [Float]
    /// fc1Kernel with the input scale folded in, kept in step with it by the update.
    private var folded: [Float]
    // Adam's first and second moments of each parameter array.
    private var m1: [Float], v1: [Float], mb1: [Float], vb1: [Float]
    private var m2: [Float], v2: [Float], mb2: [Float], vb2: [Float]
    private var workspace: LocalizerWorkspace

    /// Starts from `start`'s parameters (a random localizer, or a trained one to fine-tune);
    /// its loss, input scale, border margin and class name are kept.
    public init(start: MaxPooledLocalizer, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        template = start
        fc1Kernel = start.fc1Kernel
        fc1Bias = start.fc1Bias
        fc2Kernel = start.fc2Kernel
        fc2Bias = start.fc2Bias
        folded = start.inferenceKernel
        func zeros(_ a: [Float]) -> [Float] { [Float](repeating: 0, count: a.count) }
        (m1, v1, mb1, vb1) = (zeros(fc1Kernel), zeros(fc1Kernel), zeros(fc1Bias), zeros(fc1Bias))
        (m2, v2, mb2, vb2) = (zeros(fc2Kernel), zeros(fc2Kernel), zeros(fc2Bias), zeros(fc2Bias))
        workspace = LocalizerWorkspace(hidden: start.hiddenUnits)
    }

    /// The current parameters as a localizer (with the start's scores scales).
    public var localizer: MaxPooledLocalizer {
        // Same shapes as the start, so valid.
        try! MaxPooledLocalizer(className: template.className, loss: template.loss, fc1Kernel: fc1Kernel,
                       fc1Bias: fc1Bias, fc2Kernel: fc2Kernel, fc2Bias: fc2Bias,
                       inputScale: template.inputScale, scoreScale: template.scoreScale,
                       differenceScale: template.differenceScale, backgroundScale: template.backgroundScale,
                       borderMargin: template.borderMargin, featureRule: template.featureRule)
    }

    /// F and B of an image under the current parameters.
    public mutating func maps(_ features: CompactHypercolumns) -> (foreground: [Float], background: [Float]) {
        forward(features)
        return (workspace.foreground, workspace.background)
    }

    /// One Adam step on one image tagged (`present`) or not; returns the loss before the step.
    @discardableResult
    public mutating func step(_ features: CompactHypercolumns, present: Bool,
                              learningRate: Float) -> LocalizerLoss.Evaluation {
        forward(features)
        let evaluation = template.loss.evaluate(foreground: workspace.foreground, background: workspace.background,
                                                present: present, borderMargin: template.borderMargin)
        let gradient = LocalizerGradient.backward(evaluation, workspace: workspace, fc2Kernel: fc2Kernel,
                                                  inputScale: template.inputScale, features: features)
        apply(gradient, learningRate: learningRate)
        return evaluation
    }

    private mutating func forward(_ features: CompactHypercolumns) {
        if !isKnownUniquelyReferenced(&workspace) {
            workspace = LocalizerWorkspace(hidden: template.hiddenUnits)   // a copy shares no scratch
        }
        let workspace = workspace
        folded.withUnsafeBufferPointer { kernel in
            workspace.forward(kernel: kernel.baseAddress!, fc1Bias: fc1Bias, fc2Kernel: fc2Kernel,
                              fc2Bias: fc2Bias, features: features)
        }
    }

    private mutating func apply(_ gradient: LocalizerGradient, learningRate: Float) {
        steps += 1
        let adam = Adam(beta1: beta1, beta2: beta2, epsilon: epsilon).step(steps, learningRate: learningRate)
        let hidden = template.hiddenUnits, k = FeatureGrid.channels
        let factors = gradient.fc1Factors

        // First layer kernel: g[r, c] = Σ_f outer_f[r] · inner_f[c], one row at a time (never
        // the whole matrix), stepped while the row is in cache; the folded copy follows.
        fc1Kernel.withUnsafeMutableBufferPointer { w in
            folded.withUnsafeMutableBufferPointer { fw in
                m1.withUnsafeMutableBufferPointer { m in
                    v1.withUnsafeMutableBufferPointer { v in
                        template.inputScale.withUnsafeBufferPointer { s in
                            let inner0 = factors.count > 0 ? factors[0].inner : [Float](repeating: 0, count: k)
                            let inner1 = factors.count > 1 ? factors[1].inner : [Float](repeating: 0, count: k)
                            inner0.withUnsafeBufferPointer { x0 in
                                inner1.withUnsafeBufferPointer { x1 in
                                    let (w, fw, m, v, s, x0, x1) = (w.baseAddress!, fw.baseAddress!, m.baseAddress!,
                                                                    v.baseAddress!, s.baseAddress!, x0.baseAddress!,
                                                                    x1.baseAddress!)
                                    Parallel.forEachChunk(of: 0..<hidden, minimumChunk: 8) { rows in
                                        let row = UnsafeMutablePointer<Float>.allocate(capacity: k)
                                        defer { row.deallocate() }
                                        for r in rows {
                                            let a0 = factors.count > 0 ? factors[0].outer[r] : 0
                                            let a1 = factors.count > 1 ? factors[1].outer[r] : 0
                                            let o = r * k
                                            for c in 0..<k { row[c] = a0 * x0[c] + a1 * x1[c] }
                                            adam.update(weights: w + o, m: m + o, v: v + o, gradient: row, count: k)
                                            for c in 0..<k { fw[o + c] = w[o + c] * s[c] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        adam.update(&fc1Bias, m: &mb1, v: &vb1, gradient: gradient.fc1Bias)
        adam.update(&fc2Kernel, m: &m2, v: &v2, gradient: gradient.fc2Kernel)
        adam.update(&fc2Bias, m: &mb2, v: &vb2, gradient: gradient.fc2Bias)
    }
}
