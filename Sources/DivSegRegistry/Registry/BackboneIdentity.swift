import DivSeg
import DivSegIO

/// Identifies the feature extractor a bundle or segmenter was trained with: the backbone,
/// the hash of its weights and the hypercolumn construction rule.
public enum BackboneIdentity {
    public static let vgg16Name = "vgg16-imagenet"

    /// The identity of the VGG-16 weights at `weightsPath` with the current feature rule.
    ///
    /// - Throws: ``BackboneError`` (or the HDF5 error) when the file is not VGG-16 weights —
    ///   checked from its metadata before the 58 MB are hashed.
    public static func vgg16(weightsAt weightsPath: String) throws -> BundleManifest.BackboneInfo {
        try vgg16(weightsAt: weightsPath, digests: nil)
    }

    /// Like ``vgg16(weightsAt:)``, taking the weights' SHA-256 from `digests` while the file
    /// is unchanged since it was hashed (``FileDigestMemo``; e.g. the feature cache's
    /// ``FeatureCache/digestMemo(inCacheAt:)``) instead of reading the 58 MB again.
    ///
    /// ```swift
    /// let identity = try BackboneIdentity.vgg16(weightsAt: weights, digests: FeatureCache.digestMemo(inCacheAt: cacheDirectory))
    /// ```
    public static func vgg16(weightsAt weightsPath: String, digests: FileDigestMemo?) throws -> BundleManifest.BackboneInfo {
        try VGG16.checkWeightsFile(weightsPath)
        let sha256 = try digests?.sha256(ofFileAt: weightsPath) ?? FileDigest.sha256(ofFileAt: weightsPath)
        return BundleManifest.BackboneInfo(name: vgg16Name, weightsSHA256: sha256, featureRule: FeatureGrid.ruleName)
    }
}
