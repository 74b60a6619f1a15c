import DivSeg
import DivSegIO
import Foundation

/// The VGG-16 backbone of a process: its weights loaded once and identified once (SHA-256
/// and feature rule), shared by everything that extracts or checks features. The starting
/// point of the library's façade.
///
/// ```swift
/// import DivSegKit
///
/// let backbone = try Backbone.load()                       // $DIVSEG_WEIGHTS, models/, ../shared/models/
/// let registry = try backbone.registry(at: "classes")      // a ClassRegistry
/// let result = try registry.segment(imageAt: "giraffe.jpg")
/// print(result.areas)                                      // [("giraffe", 0.31), ("background", 0.69)]
/// ```
public struct Backbone: Sendable {
    /// The weights file the network was loaded from.
    public let weightsPath: String
    /// The loaded network, ready to compute hypercolumns.
    public let extractor: HypercolumnExtractor
    /// What bundles and segmenters record about the feature extractor they were trained on
    /// (checked when a registry is opened).
    public let identity: BundleManifest.BackboneInfo

    /// Loads the VGG-16 weights at `path`, or at the first place ``WeightsLocator`` knows
    /// when `path` is nil, and hashes the file.
    ///
    /// - Throws: ``WeightsLocator/Missing`` (with the places searched and how to get the
    ///   file), or the loader's error for a file that is not VGG-16 weights.
    public static func load(weightsAt path: String? = nil) throws -> Backbone {
        let resolved = try WeightsLocator.resolve(path)
        return Backbone(weightsPath: resolved, extractor: try HypercolumnExtractor(weightsAt: resolved),
                        identity: try BackboneIdentity.vgg16(weightsAt: resolved))
    }

    /// A feature cache for this backbone's features (content-keyed; see ``FeatureCache``).
    /// `directory` defaults to `$DIVSEG_CACHE`, else ``FeatureCache/defaultDirectory``.
    public func featureCache(at directory: String? = nil,
                             log: (@Sendable (String) -> Void)? = nil) throws -> FeatureCache {
        try FeatureCache(directory: directory ?? FeatureCache.configuredDirectory(),
                         weightsSHA256: identity.weightsSHA256, featureRule: identity.featureRule, log: log)
    }

    /// The registry folder at `directory` (created by the first ``ClassRegistry/add(bundleAt:retrain:progress:)``
    /// when missing), whose changes keep training features in `featureCache` (default
    /// `$DIVSEG_CACHE`, else ``FeatureCache/defaultDirectory``). Nothing is opened yet.
    public func registry(at directory: String = ClassRegistry.defaultDirectory,
                         featureCache: String? = nil) -> ClassRegistry {
        ClassRegistry(directory: directory, backbone: self,
                      featureCacheDirectory: featureCache ?? FeatureCache.configuredDirectory())
    }
}
