/// How training points are chosen from the localizers' score maps (paper §3.2, Table 2).
///
/// On PASCAL VOC 2012 val the paper reports, with the same localizers and segmenter:
/// dense 15.0, spatial 33.4, top 30.7, diverse 40.6 mIoU.
///
/// ```swift
/// let sampler = PointSampler(strategy: .top, pointsPerClass: 10)
/// for strategy in SamplingStrategy.allCases { print(strategy.rawValue) }
/// let parsed = SamplingStrategy(rawValue: "spatial")   // from a CLI option
/// ```
public enum SamplingStrategy: String, Codable, CaseIterable, Sendable {
    /// The paper's method (the default): greedily the highest score minus the largest
    /// feature similarity `<f_i, f_j>` to the points already picked; background points are
    /// the locations least similar to every foreground pick and to each other.
    case diverse
    /// The k highest-scoring locations of each class; background: the k locations least
    /// similar (in feature space) to the foreground picks. Picks cluster on the most
    /// discriminative parts (faces, wheels).
    case top
    /// The diverse rule with similarity replaced by a Gaussian kernel of the distance in the
    /// image, `exp(−d²/2σ²)` (see ``PointSampler/spatialBandwidth``); background points are
    /// farthest-point picks away from the foreground and each other.
    case spatial
    /// Every location labelled: the best class where its score reaches
    /// ``PointSampler/denseThreshold``, background where no class does. The paper's weakest
    /// baseline, kept for comparison.
    case dense
}
