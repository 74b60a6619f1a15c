import DivSeg
import DivSegIO

/// Identifies the feature extractor a bundle or segmenter was trained with: the backbone,
/// the hash of its weights and the hypercolumn construction rule.
public enum BackboneIdentity {
    public static let vgg16Name = "vgg16-imagenet"

    /// The identity of the VGG-16 weights at `weightsPath` with the current feature rule.
    public static func vgg16(weightsAt weightsPath: String) throws -> BundleManifest.BackboneInfo {
        BundleManifest.BackboneInfo(name: vgg16Name, weightsSHA256: try FileDigest.sha256(ofFileAt: weightsPath),
                                    featureRule: FeatureGrid.ruleName)
    }
}
