import DivSeg
import DivSegCore

/// The training rows of a retraining read back from the sample store, one image per block
/// (``SegmenterRowSource``), so the segmenter trains within a memory cap
/// (``SegmenterRetrainer/maxMemory``) instead of holding every row.
///
/// Rows are built as the in-memory retraining builds them — each pick's hypercolumn row then
/// the image's global descriptor, images in path order, labels in name order then
/// background — so when everything fits the segmenter is the same. Picks whose entry could
/// not be written are kept in memory.
///
/// ```swift
/// var source = SampleStoreRowSource(store: store, globalCount: 512)
/// source.append([(key: key, label: 3, count: picks.count, picks: nil)])
/// let rows = try source.block(0)
/// ```
public struct SampleStoreRowSource: SegmenterRowSource {
    /// One label's picks of one image: read from the store under `key`, or kept (`picks`).
    public struct Part: Sendable {
        public var key: SampleKey
        public var label: Int32
        public var count: Int
        public var picks: SamplePicks?
        public init(key: SampleKey, label: Int32, count: Int, picks: SamplePicks?) {
            self.key = key; self.label = label; self.count = count; self.picks = picks
        }
    }

    public let store: SampleStore
    public let featureChannels: Int
    public let globalCount: Int
    /// Blocks (images) of parts.
    public private(set) var blocks: [[Part]] = []

    public init(store: SampleStore, featureChannels: Int = FeatureGrid.channels, globalCount: Int) {
        self.store = store
        self.featureChannels = featureChannels
        self.globalCount = globalCount
    }

    /// Adds an image's parts as one block.
    public mutating func append(_ parts: [Part]) { blocks.append(parts) }

    public var blockCount: Int { blocks.count }

    public func rowCount(ofBlock index: Int) -> Int { blocks[index].reduce(0) { $0 + $1.count } }

    /// Why a block cannot be read back.
    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    public func block(_ index: Int) throws -> (features: [Float], labels: [Int32]) {
        let d = featureChannels + globalCount
        var features: [Float] = [], labels: [Int32] = []
        features.reserveCapacity(rowCount(ofBlock: index) * d)
        for part in blocks[index] {
            let picks: SamplePicks
            if let kept = part.picks {
                picks = kept
            } else {
                switch store.read(part.key, channels: featureChannels, locationCount: FeatureGrid.locations) {
                case .hit(let read): picks = read
                case .missing:
                    throw ReadError(description: "the sample-store entry '\(store.path(for: part.key))' written by this "
                        + "retraining is gone; another process may have pruned the store — retrain again")
                case .damaged(let reason):
                    throw ReadError(description: "the sample-store entry '\(store.path(for: part.key))' written by this "
                        + "retraining cannot be read back (\(reason)); retrain again")
                }
            }
            guard picks.count == part.count, picks.global.count == globalCount, picks.channels == featureChannels else {
                throw ReadError(description: "the sample-store entry '\(store.path(for: part.key))' changed during the "
                    + "retraining; retrain again")
            }
            for r in 0..<picks.count {
                features.append(contentsOf: picks.row(r))
                features.append(contentsOf: picks.global)
                labels.append(part.label)
            }
        }
        return (features, labels)
    }
}
