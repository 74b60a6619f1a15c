/// One `UInt8` label per pixel, row-major: a palette index or gray value as stored in a
/// ground-truth mask (VOC: 0 background, 1...20 classes, 255 ignore; COCO masks: category id).
///
/// ```swift
/// let truth = try ImageDecoder.decodeLabels(contentsOf: "SegmentationClass/2007_000032.png")
/// let label = truth.labels[y * truth.width + x]
/// ```
public struct LabelMap: Sendable, Equatable {
    /// Pixels per row.
    public var width: Int
    /// Number of rows.
    public var height: Int
    /// `height` rows of `width` labels, top row first.
    public var labels: [UInt8]

    /// - Precondition: `labels.count == width * height`, sizes non-negative.
    public init(width: Int, height: Int, labels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "LabelMap size must not be negative")
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        precondition(!overflow && labels.count == count,
                     "LabelMap \(width)×\(height) needs \(count) labels, got \(labels.count)")
        self.width = width
        self.height = height
        self.labels = labels
    }
}
