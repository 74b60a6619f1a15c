import DivSeg
import DivSegIO
import Foundation

/// What a sample-store entry's picks depend on (BundlesAndRegistries.md), as a canonical string; the
/// entry's file name is its SHA-256.
///
/// - Foreground picks of class c in an image: the image's content hash, the class, its
///   localizer (weights hash and score scale), the sampler settings and the features.
/// - Background picks of an image: the image's content hash and the set of registered
///   classes present in it, each with its localizer — background picks avoid the foreground
///   picks, so they change whenever any class's picks could — plus sampler and features.
///
/// ```swift
/// let key = SampleKey.background(image: sha, classes: [("giraffe", giraffeLocalizer)], context: context)
/// print(key.digest)   // the entry's file name
/// ```
public struct SampleKey: Sendable, Hashable, CustomStringConvertible {
    /// Foreground or background picks.
    public enum Kind: String, Sendable { case foreground = "fg", background = "bg" }

    public let kind: Kind
    /// The canonical text; stored in the entry and compared on reading.
    public let text: String

    /// A localizer's identity for keys: its weights' hash and its score scale.
    public struct LocalizerIdentity: Sendable, Hashable {
        public var sha256: String
        public var scoreScale: Float
        public init(sha256: String, scoreScale: Float) { self.sha256 = sha256; self.scoreScale = scoreScale }
        /// The identity recorded in a bundle's manifest.
        public init(_ bundle: ClassBundle) {
            self.init(sha256: bundle.manifest.localizer.sha256, scoreScale: bundle.manifest.scoreScale)
        }
        var text: String { "\(sha256)@\(String(scoreScale.bitPattern, radix: 16))" }
    }

    /// Everything shared by all keys of one retraining: sampler settings, the features'
    /// backbone and rule, and the row encoding.
    public struct Context: Sendable, Hashable {
        public let text: String
        public init(sampler: PointSampler, weightsSHA256: String, featureRule: String,
                    augmentation: ScoreMapAugmentation = ScoreMapAugmentation(),
                    refinement: LabelRefinement = LabelRefinement()) {
            // Settings that do not affect the picks of the strategy are reset, so that they do
            // not split the store (every other setting is part of the key).
            var relevant = sampler
            let defaults = PointSampler()
            if sampler.strategy != .dense {
                relevant.denseThreshold = defaults.denseThreshold
                relevant.denseStride = defaults.denseStride
                relevant.denseBackground = defaults.denseBackground
                relevant.denseMargin = defaults.denseMargin
                relevant.denseCap = defaults.denseCap
            } else if sampler.denseBackground == .none {
                // No background: the threshold plays no part in the labels.
                relevant.denseThreshold = defaults.denseThreshold
            }
            if sampler.strategy != .spatial { relevant.spatialBandwidth = defaults.spatialBandwidth }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let settings = (try? encoder.encode(relevant)).map { String(decoding: $0, as: UTF8.self) } ?? "\(sampler)"
            text = "sampler=\(settings);weights=\(weightsSHA256);rule=\(featureRule);rows=\(SamplePicks.rowEncoding)"
                // Score-map augmentation (issue #11): only a non-default setting is keyed.
                + (augmentation.keyText.isEmpty ? "" : ";maps=\(augmentation.keyText)")
                // Refined labels (issue #11, lever 1): only dense labels are refined, and only a
                // non-default refinement is keyed.
                + (refinement.keyText.isEmpty || sampler.strategy != .dense ? "" : ";labels=\(refinement.keyText)")
        }
    }

    /// The key of one class's foreground picks in one image.
    public static func foreground(image: String, className: String, localizer: LocalizerIdentity,
                                  context: Context) -> SampleKey {
        SampleKey(kind: .foreground, text: "fg|image=\(image)|class=\(className)|localizer=\(localizer.text)|\(context.text)")
    }

    /// The key of an image's background picks, given the registered classes present in it.
    public static func background(image: String, classes: [(name: String, localizer: LocalizerIdentity)],
                                  context: Context) -> SampleKey {
        let present = classes.sorted { $0.name < $1.name }.map { "\($0.name):\($0.localizer.text)" }.joined(separator: ",")
        return SampleKey(kind: .background, text: "bg|image=\(image)|classes=\(present)|\(context.text)")
    }

    /// SHA-256 of the text: the entry's file name.
    /// The dense labels of one image (``SamplingStrategy/dense``) depend on every present
    /// class at once (each location takes the best class above the threshold), so each
    /// label's share — a class, or "background" — is keyed by the whole present set.
    public static func dense(image: String, classes: [(name: String, localizer: LocalizerIdentity)], label: String,
                             context: Context) -> SampleKey {
        let present = classes.sorted { $0.name < $1.name }.map { "\($0.name):\($0.localizer.text)" }.joined(separator: ",")
        return SampleKey(kind: label == "background" ? .background : .foreground,
                         text: "dense|image=\(image)|classes=\(present)|label=\(label)|\(context.text)")
    }

    public var digest: String { FileDigest.sha256(of: Data(text.utf8)) }

    public var description: String { text }
}
