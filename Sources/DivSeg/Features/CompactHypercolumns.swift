import DivSegCore

/// Hypercolumns kept at each layer group's own resolution — the exact, 2.4× smaller form
/// of the 4224×64×84 hypercolumn (TheMethod.md, "Exact shortcuts").
///
/// Every linear map of the hypercolumn (a 1×1 convolution, a dot product between locations)
/// can be applied per group at the group's resolution and the results upsampled and added,
/// because the upsampling is linear too. Training caches store this form:
/// - `grid`: blocks 1–3 on the 64×84 grid (channels 0..<1152: block1 4×4-average-pooled,
///   block2 2×2-average-pooled, block3 as is);
/// - `block4`: block4's three maps at 32×42 (channels 1152..<2688), upsampled ×2 in the full form;
/// - `block5`: block5's three maps at 16×21 (channels 2688..<4224), upsampled ×4.
///
/// ```swift
/// let compact = extractor.extractCompact(from: image)
/// let full = compact.expanded()           // == extractor.extract(from: image).features
/// ```
public struct CompactHypercolumns: Sendable {
    public var grid: Tensor
    public var block4: Tensor
    public var block5: Tensor
    /// The global descriptor (as in ``Hypercolumns``).
    public var global: [Float]

    /// Channel ranges of the three groups within the 4224 hypercolumn channels.
    public static let gridChannels = 0..<1152
    public static let block4Channels = 1152..<2688
    public static let block5Channels = 2688..<4224
    /// Shapes of the three groups: the grid group at full resolution, block4 at half,
    /// block5 at a quarter (what the cache stores).
    public static let gridShape = [gridChannels.count, FeatureGrid.height, FeatureGrid.width]
    public static let block4Shape = [block4Channels.count, FeatureGrid.height / 2, FeatureGrid.width / 2]
    public static let block5Shape = [block5Channels.count, FeatureGrid.height / 4, FeatureGrid.width / 4]

    public init(grid: Tensor, block4: Tensor, block5: Tensor, global: [Float]) {
        precondition(grid.shape == Self.gridShape, "grid group must be \(Self.gridShape), got \(grid.shape)")
        precondition(block4.shape == Self.block4Shape, "block4 group must be \(Self.block4Shape), got \(block4.shape)")
        precondition(block5.shape == Self.block5Shape, "block5 group must be \(Self.block5Shape), got \(block5.shape)")
        self.grid = grid
        self.block4 = block4
        self.block5 = block5
        self.global = global
    }

    /// The groups from the 13 convolution maps (block1 first).
    public init(maps: [Tensor], global: [Float]) {
        precondition(maps.count == 13, "expected 13 maps, got \(maps.count)")
        let gh = FeatureGrid.height, gw = FeatureGrid.width, plane = gh * gw
        let grid = Tensor(shape: [Self.gridChannels.count, gh, gw]) { out in
            var channel = 0
            for map in maps[0..<7] {
                let dst = out.baseAddress! + channel * plane
                let factor = map.shape[1] / gh
                if factor > 1 {
                    Pooling.average(map, factor: factor, into: dst)
                } else {
                    map.scalars.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: $0.count) }
                }
                channel += map.shape[0]
            }
        }
        func concatenate(_ group: ArraySlice<Tensor>) -> Tensor {
            let h = group.first!.shape[1], w = group.first!.shape[2]
            return Tensor(shape: [group.reduce(0) { $0 + $1.shape[0] }, h, w],
                          scalars: group.flatMap(\.scalars))
        }
        self.init(grid: grid, block4: concatenate(maps[7..<10]), block5: concatenate(maps[10..<13]), global: global)
    }

    /// block5_conv3's channels within ``block5``.
    public static let block5Conv3Channels = 1024..<1536

    /// block5_conv3, `[512, 16, 21]`: the map CAM-style classifiers read.
    public var block5Conv3: Tensor {
        let (h, w) = (block5.shape[1], block5.shape[2])
        let plane = h * w, range = Self.block5Conv3Channels
        return Tensor(shape: [range.count, h, w],
                      scalars: Array(block5.scalars[(range.lowerBound * plane)..<(range.upperBound * plane)]))
    }

    /// The global average of block5_conv3 (512 values).
    public var pooledBlock5Conv3: [Float] {
        let (h, w) = (block5.shape[1], block5.shape[2])
        let plane = h * w, offset = Self.block5Conv3Channels.lowerBound * plane
        return block5.scalars.withUnsafeBufferPointer { x in
            (0..<Self.block5Conv3Channels.count).map { c in
                var sum: Double = 0
                for i in 0..<plane { sum += Double(x[offset + c * plane + i]) }
                return Float(sum / Double(plane))
            }
        }
    }

    /// The full `[4224, 64, 84]` hypercolumn.
    public func expanded() -> Tensor {
        let gh = FeatureGrid.height, gw = FeatureGrid.width, plane = gh * gw
        return Tensor(shape: [FeatureGrid.channels, gh, gw]) { out in
            grid.scalars.withUnsafeBufferPointer { out.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
            Resampler.resize(block4, height: gh, width: gw, into: out.baseAddress! + Self.block4Channels.lowerBound * plane)
            Resampler.resize(block5, height: gh, width: gw, into: out.baseAddress! + Self.block5Channels.lowerBound * plane)
        }
    }
}
