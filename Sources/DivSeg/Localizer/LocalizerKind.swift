/// Which localizer architecture a class bundle is trained with (a per-bundle choice, so
/// classes of either kind live in one registry).
///
/// ```swift
/// var trainer = BundleTrainer()
/// trainer.kind = .cam
/// ```
public enum LocalizerKind: String, Sendable, Codable, CaseIterable {
    /// The paper's localizer (``MaxPooledLocalizer``): hypercolumn MLP, max-pooled MIL loss.
    case mlp = "mlp"
    /// CAM-style (``AveragePooledLocalizer``): linear on average-pooled block5_conv3.
    case cam = "cam"
}
