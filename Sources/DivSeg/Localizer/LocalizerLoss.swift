#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a localizer's per-location scores F(i) (foreground) and B(i) (background) become the
/// image-level probability p that its class is present, trained by the binary log-loss of p
/// against the image's tag (TheMethod.md, paper §3.1).
///
/// - ``globalSoftmax`` (the default, better in the paper):
///   p = exp(max F) / (exp(max F) + exp(max B)); the gradient reaches two locations,
///   argmax F and argmax B.
/// - ``pixelSoftmax``: p = max_i exp F(i) / (exp F(i) + exp B(i)); the gradient reaches one
///   location, argmax (F − B).
///
/// Both are a logistic function of one logit (max F − max B, or max (F − B)), so the loss is
/// computed as a softplus of the logit — finite for any finite scores.
///
/// ```swift
/// let e = LocalizerLoss.globalSoftmax.evaluate(foreground: f, background: b, present: true)
/// print(e.loss, e.probability, e.terms)   // terms: where the gradient goes
/// ```
public enum LocalizerLoss: String, Sendable, Codable, CaseIterable {
    case globalSoftmax = "global-softmax"
    case pixelSoftmax = "pixel-softmax"

    /// Where the gradient of the loss flows: d loss / d F(location) and d loss / d B(location).
    public struct Term: Sendable, Equatable {
        public var location: Int
        public var dForeground: Float
        public var dBackground: Float

        public init(location: Int, dForeground: Float, dBackground: Float) {
            self.location = location
            self.dForeground = dForeground
            self.dBackground = dBackground
        }
    }

    /// The loss of one image, its probability and the gradient's (one or two) locations.
    public struct Evaluation: Sendable, Equatable {
        /// Binary log-loss (natural log) of ``probability`` against the tag.
        public var loss: Float
        /// Image-level probability that the class is present.
        public var probability: Float
        /// log(p / (1 − p)): max F − max B (global), max (F − B) (pixel).
        public var logit: Float
        /// Global softmax: argmax F and argmax B (the same location twice is possible);
        /// pixel softmax: argmax (F − B).
        public var terms: [Term]
    }

    /// The logit of p and the locations that realise it. `borderMargin` cells along each
    /// edge of the `height`×`width` grid are left out of the maxima.
    public func logit(foreground: [Float], background: [Float], height: Int = FeatureGrid.height,
                      width: Int = FeatureGrid.width, borderMargin: Int = 0)
        -> (logit: Float, foregroundLocation: Int, backgroundLocation: Int)
    {
        precondition(foreground.count == height * width && background.count == height * width,
                     "score maps must hold \(height * width) values, got \(foreground.count) and \(background.count)")
        precondition(borderMargin >= 0 && 2 * borderMargin < min(height, width),
                     "border margin \(borderMargin) leaves no cell of a \(height)×\(width) grid")
        var bestF = -Float.infinity, bestB = -Float.infinity, bestD = -Float.infinity
        var iF = -1, iB = -1, iD = -1
        for r in borderMargin..<(height - borderMargin) {
            for c in borderMargin..<(width - borderMargin) {
                let i = r * width + c
                let f = foreground[i], b = background[i]
                switch self {
                case .globalSoftmax:
                    if f > bestF || iF < 0 { bestF = f; iF = i }
                    if b > bestB || iB < 0 { bestB = b; iB = i }
                case .pixelSoftmax:
                    let d = f - b
                    if d > bestD || iD < 0 { bestD = d; iD = i }
                }
            }
        }
        switch self {
        case .globalSoftmax: return (bestF - bestB, iF, iB)
        case .pixelSoftmax: return (bestD, iD, iD)
        }
    }

    /// The image-level probability p.
    public func probability(foreground: [Float], background: [Float], borderMargin: Int = 0) -> Float {
        LocalizerLoss.sigmoid(logit(foreground: foreground, background: background, borderMargin: borderMargin).logit)
    }

    /// Loss, probability and gradient locations for an image tagged (`present`) or not.
    public func evaluate(foreground: [Float], background: [Float], present: Bool,
                         height: Int = FeatureGrid.height, width: Int = FeatureGrid.width,
                         borderMargin: Int = 0) -> Evaluation {
        let (l, iF, iB) = logit(foreground: foreground, background: background, height: height,
                                width: width, borderMargin: borderMargin)
        let p = LocalizerLoss.sigmoid(l)
        // d loss / d logit = p − y.
        let g = p - (present ? 1 : 0)
        let terms: [Term]
        switch self {
        case .globalSoftmax:
            terms = iF == iB ? [Term(location: iF, dForeground: g, dBackground: -g)]
                             : [Term(location: iF, dForeground: g, dBackground: 0),
                                Term(location: iB, dForeground: 0, dBackground: -g)]
        case .pixelSoftmax:
            terms = [Term(location: iF, dForeground: g, dBackground: -g)]
        }
        return Evaluation(loss: LocalizerLoss.logLoss(logit: l, present: present), probability: p,
                          logit: l, terms: terms)
    }

    /// −log p (present) or −log(1 − p) (absent) for p = σ(logit), as a softplus:
    /// log(1 + exp(∓logit)) = max(∓logit, 0) + log1p(exp(−|logit|)) — the log-sum-exp of
    /// (0, ∓logit), which never overflows.
    public static func logLoss(logit: Float, present: Bool) -> Float {
        let x = Double(present ? -logit : logit)
        return Float(max(x, 0) + log1p(exp(-abs(x))))
    }

    /// The logistic function, without overflow for large |x|.
    public static func sigmoid(_ x: Float) -> Float {
        let d = Double(x)
        if d >= 0 { return Float(1 / (1 + exp(-d))) }
        let e = exp(d)
        return Float(e / (1 + e))
    }
}
