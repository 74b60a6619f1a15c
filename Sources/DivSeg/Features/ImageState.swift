import DivSegCore

/// The compact per-image state the CAM-style stages read: block5_conv3 on its own 16×21 grid
/// and the global descriptor — 0.35 MB per image in the feature cache, against ≈17.5 MB for
/// the three hypercolumn groups of ``CompactHypercolumns``.
///
/// A CAM-style localizer (``AveragePooledLocalizer``) reads nothing else: its image logit is
/// a linear function of the pooled map (``pooledBlock5Conv3``), its score map a 1×1
/// convolution of ``block5Conv3``. Both are computed here exactly as from the full groups
/// (``CompactHypercolumns/state`` copies the same values), so training and dense labels from
/// the state equal those from the full hypercolumns bit for bit.
///
/// ```swift
/// let state = try cache.state(for: "images/giraffe.jpg", extractor: extractor)
/// let logit = camLocalizer.logit(state)
/// ```
public struct ImageState: Sendable, Equatable {
    /// block5_conv3, `[512, 16, 21]`.
    public var block5Conv3: Tensor
    /// The global descriptor (as in ``Hypercolumns``).
    public var global: [Float]

    /// Shape of ``block5Conv3``.
    public static let block5Conv3Shape = [CompactHypercolumns.block5Conv3Channels.count,
                                          FeatureGrid.height / 4, FeatureGrid.width / 4]

    public init(block5Conv3: Tensor, global: [Float]) {
        precondition(block5Conv3.shape == Self.block5Conv3Shape,
                     "block5_conv3 must be \(Self.block5Conv3Shape), got \(block5Conv3.shape)")
        self.block5Conv3 = block5Conv3
        self.global = global
    }

    /// The global average of block5_conv3 (512 values; summed in Double, in a fixed order).
    public var pooledBlock5Conv3: [Float] {
        let plane = block5Conv3.shape[1] * block5Conv3.shape[2]
        return block5Conv3.scalars.withUnsafeBufferPointer { x in
            (0..<block5Conv3.shape[0]).map { c in
                var sum: Double = 0
                for i in 0..<plane { sum += Double(x[c * plane + i]) }
                return Float(sum / Double(plane))
            }
        }
    }
}

extension CompactHypercolumns {
    /// The compact state of these features (block5_conv3 and the global descriptor, same values).
    public var state: ImageState { ImageState(block5Conv3: block5Conv3, global: global) }
}
