/// Training rows of the segmenter in blocks (for example one image's picks per block), read
/// one block at a time — so ``SegmenterTrainer/train(streaming:maxMemory:classes:progress:)``
/// can train on more rows than fit in memory.
///
/// Each row is `featureChannels + globalCount` values (hypercolumn, then the image's
/// global descriptor), as in ``SegmenterTrainingSet``. Blocks are read in any order, maybe
/// several times (once per epoch), and must give the same rows every time.
///
/// ```swift
/// struct InMemory: SegmenterRowSource {
///     var blocks: [SegmenterTrainingSet]
///     var featureChannels: Int { blocks[0].featureChannels }
///     var globalCount: Int { blocks[0].globalCount }
///     var blockCount: Int { blocks.count }
///     func rowCount(ofBlock index: Int) -> Int { blocks[index].count }
///     func block(_ index: Int) throws -> (features: [Float], labels: [Int32]) { (blocks[index].features, blocks[index].labels) }
/// }
/// ```
public protocol SegmenterRowSource {
    /// Hypercolumn values per row.
    var featureChannels: Int { get }
    /// Global-descriptor values per row.
    var globalCount: Int { get }
    /// Number of blocks.
    var blockCount: Int { get }
    /// Rows of block `index` (known without reading it).
    func rowCount(ofBlock index: Int) -> Int
    /// The rows of block `index`, row-major, and their labels.
    func block(_ index: Int) throws -> (features: [Float], labels: [Int32])
}

extension SegmenterRowSource {
    /// Values per row.
    public var dimension: Int { featureChannels + globalCount }
    /// Rows in all blocks.
    public var rowCount: Int { (0..<blockCount).reduce(0) { $0 + rowCount(ofBlock: $1) } }
    /// Rows of the largest block.
    public var largestBlock: Int { (0..<blockCount).map(rowCount(ofBlock:)).max() ?? 0 }
}
