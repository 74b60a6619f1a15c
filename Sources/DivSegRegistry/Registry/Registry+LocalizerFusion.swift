import DivSeg

extension Registry {
    /// The registry's localizers in the order of a segmenter's channels, for
    /// ``LocalizerFusion``: each class's CAM-style localizer (``AveragePooledLocalizer``), nil
    /// for background, for a class no bundle of the registry has (a stale segmenter's removed
    /// class) and for a paper (max-pooled MLP) localizer, whose maps were not what the weight
    /// was chosen on and would cost a hypercolumn MLP per location.
    ///
    /// ```swift
    /// var pipeline = SegmentationPipeline(extractor: extractor, segmenter: segmenter)
    /// pipeline.localizerFusion = try registry.localizerFusion(channels: segmenter.classes)
    /// ```
    ///
    /// - Throws: ``BundleError/badLocalizer(bundle:detail:)`` naming a bundle whose
    ///   localizer does not load.
    public func localizerFusion(channels: [String], weight: Float = LocalizerFusion.defaultWeight) throws -> LocalizerFusion {
        let byName = Dictionary(bundles.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let localizers: [(any Localizer)?] = try channels.enumerated().map { channel, name in
            guard channel > 0, let bundle = byName[name] else { return nil }
            let localizer = try bundle.loadLocalizer()
            return localizer is AveragePooledLocalizer ? localizer : nil
        }
        return LocalizerFusion(localizers: localizers, weight: weight)
    }
}
