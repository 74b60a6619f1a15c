/// The loss of one image and its gradient with respect to a ``MaxPooledLocalizer``'s parameters (as
/// stored: the first layer acts on the scaled hypercolumn `inputScale ⊙ x`).
///
/// Max pooling routes the gradient to one or two locations, so the first layer's gradient
/// is a sum of one or two outer products `outer ⊗ inner` (`hidden` × 4224) — kept in that
/// factored form; ``denseFC1Kernel()`` expands it.
///
/// ```swift
/// let g = localizer.gradient(features, present: true)
/// print(g.evaluation.loss, g.fc1Factors.count)      // 1 or 2 factors
/// let dW1 = g.denseFC1Kernel()                       // [hidden * 4224], row-major
/// ```
public struct LocalizerGradient: Sendable {
    /// One rank-1 term of the first layer's gradient: `outer[r] * inner[c]` at `(r, c)`.
    public struct Factor: Sendable, Equatable {
        /// d loss / d pre-activation of the hidden units at the location (`hidden` values).
        public var outer: [Float]
        /// The scaled hypercolumn at the location (4224 values).
        public var inner: [Float]
        /// The grid location (row-major).
        public var location: Int
    }

    /// Loss, probability and the locations the gradient flows through.
    public var evaluation: LocalizerLoss.Evaluation
    /// The first layer's kernel gradient, factored.
    public var fc1Factors: [Factor]
    /// `hidden` values.
    public var fc1Bias: [Float]
    /// `[2, hidden]`, row-major.
    public var fc2Kernel: [Float]
    /// Two values (F, B).
    public var fc2Bias: [Float]

    /// The first layer's kernel gradient as a dense `[hidden, 4224]` row-major array.
    public func denseFC1Kernel() -> [Float] {
        let hidden = fc1Bias.count, k = FeatureGrid.channels
        var dense = [Float](repeating: 0, count: hidden * k)
        for factor in fc1Factors {
            for r in 0..<hidden where factor.outer[r] != 0 {
                let a = factor.outer[r]
                for c in 0..<k { dense[r * k + c] += a * factor.inner[c] }
            }
        }
        return dense
    }

    /// Backpropagates an evaluation through the second layer, the ReLU and the first layer,
    /// from the activations a forward pass left in `workspace`.
    static func backward(_ evaluation: LocalizerLoss.Evaluation, workspace: LocalizerWorkspace,
                         fc2Kernel: [Float], inputScale: [Float], features: CompactHypercolumns) -> LocalizerGradient {
        let hidden = workspace.hidden
        var dW2 = [Float](repeating: 0, count: 2 * hidden)
        var db2: [Float] = [0, 0]
        var db1 = [Float](repeating: 0, count: hidden)
        var factors: [Factor] = []
        for term in evaluation.terms {
            let h = workspace.hiddenColumn(at: term.location)
            var dz = [Float](repeating: 0, count: hidden)
            for r in 0..<hidden {
                dW2[r] += term.dForeground * h[r]
                dW2[hidden + r] += term.dBackground * h[r]
                // ReLU: no gradient where the unit is off.
                if h[r] > 0 { dz[r] = term.dForeground * fc2Kernel[r] + term.dBackground * fc2Kernel[hidden + r] }
                db1[r] += dz[r]
            }
            db2[0] += term.dForeground
            db2[1] += term.dBackground
            let inner = [Float](unsafeUninitializedCapacity: FeatureGrid.channels) { buffer, initialized in
                inputScale.withUnsafeBufferPointer { s in
                    HypercolumnLocator.write(row: term.location / FeatureGrid.width,
                                             column: term.location % FeatureGrid.width, of: features,
                                             scale: s.baseAddress!, into: buffer.baseAddress!)
                }
                initialized = FeatureGrid.channels
            }
            factors.append(Factor(outer: dz, inner: inner, location: term.location))
        }
        return LocalizerGradient(evaluation: evaluation, fc1Factors: factors, fc1Bias: db1,
                                 fc2Kernel: dW2, fc2Bias: db2)
    }
}
