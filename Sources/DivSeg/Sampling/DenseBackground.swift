/// Where dense labelling (``SamplingStrategy/dense``) puts background (issue #11, lever 6).
///
/// - ``threshold``: background wherever every tagged class scores below
///   ``PointSampler/denseThreshold`` — right for object classes on a world of unregistered
///   things (COCO, VOC), the default.
/// - ``none``: the registry's classes are **exhaustive** — every pixel belongs to one of
///   them (stuff and things, as in MSRC-21: grass, sky, road next to cows and cars) — so no
///   background is invented: every location takes the best tagged class, whatever its
///   score. Images with no registered class tagged contribute no points at all (there is
///   nothing they could be labelled with).
///
/// ```swift
/// var sampler = PointSampler(strategy: .dense)
/// sampler.denseBackground = .none         // an exhaustive registry: no background labels
/// let parsed = DenseBackground(rawValue: "none")   // from `retrain --background none`
/// ```
public enum DenseBackground: String, Codable, CaseIterable, Sendable {
    /// Background below ``PointSampler/denseThreshold`` (the default).
    case threshold
    /// No background: the classes cover every pixel.
    case none
}
