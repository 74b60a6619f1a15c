/// Which per-location score a ``Localizer`` hands to sampling.
///
/// The paper samples by S_c(i) = F(i) / s_c (``foreground``). TheMethod.md, "Localizers" found that a
/// global-softmax localizer can classify through its background map alone, so that F points
/// at context while −B points at the object; the alternatives are here to measure that
/// (``LocalizerDiagnostics/pointingAccuracy(of:className:samples:score:features:)``) and to
/// choose the score per class by held-out pointing accuracy.
///
/// Every score but ``probability`` is divided by a scale computed on the positive training
/// images (the mean over them of the score's maximum), so that a typical positive image
/// peaks near 1 whichever score is used.
///
/// ```swift
/// let s = localizer.score(features, kind: .foregroundMinusBackground)
/// ```
public enum LocalizerScore: String, Sendable, Codable, CaseIterable {
    /// F(i) / scoreScale — the paper's S_c.
    case foreground = "foreground"
    /// (F(i) − B(i)) / its scale: the per-location softmax logit.
    case foregroundMinusBackground = "foreground-minus-background"
    /// −B(i) / its scale: where the background score is lowest.
    case negativeBackground = "negative-background"
    /// σ(F(i) − B(i)) = exp F / (exp F + exp B), in (0, 1); not rescaled.
    case probability = "probability"

    /// The unscaled score at one location.
    @inlinable
    public func raw(foreground f: Float, background b: Float) -> Float {
        switch self {
        case .foreground: return f
        case .foregroundMinusBackground: return f - b
        case .negativeBackground: return -b
        case .probability: return LocalizerLoss.sigmoid(f - b)
        }
    }
}
