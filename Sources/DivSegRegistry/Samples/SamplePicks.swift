import DivSegCore

/// The picked points of one sample-store entry: their grid locations, the hypercolumn row
/// of each (the segmenter's training input) and the image's global descriptor.
///
/// Rows are rounded to half precision (IEEE binary16, round to nearest even) when every
/// value fits (|x| ≤ 65504), both when they are freshly computed and when they are stored,
/// so a segmenter trained from the store is bit-identical to one trained from fresh picks.
/// An entry with a value beyond half precision keeps float32 rows. The global descriptor is
/// kept in float32.
///
/// ```swift
/// let picks = SamplePicks(locations: [10, 4000], hypercolumns: full, global: compact.global)
/// picks.count          // 2
/// picks.row(0).count   // 4224
/// ```
public struct SamplePicks: Sendable, Equatable {
    /// Grid locations, in the order picked.
    public var locations: [Int]
    /// `[count, channels]` row-major.
    public var rows: [Float]
    /// Values per row (4224).
    public var channels: Int
    /// The image's global descriptor.
    public var global: [Float]
    /// Whether the rows are half-precision values.
    public var isHalfPrecision: Bool

    /// Name of the row encoding, part of every ``SampleKey``.
    public static let rowEncoding = "f16-if-fits-v1"

    /// Number of points.
    public var count: Int { locations.count }

    /// Row `index`.
    public func row(_ index: Int) -> ArraySlice<Float> { rows[(index * channels)..<((index + 1) * channels)] }

    /// Picks with explicit rows (as read from a store entry).
    public init(locations: [Int], rows: [Float], channels: Int, global: [Float], isHalfPrecision: Bool) {
        precondition(rows.count == locations.count * channels, "rows do not match locations × channels")
        self.locations = locations; self.rows = rows; self.channels = channels
        self.global = global; self.isHalfPrecision = isHalfPrecision
    }

    /// The rows of `locations` in an image's `[channels, height, width]` hypercolumns.
    public init(locations: [Int], hypercolumns: Tensor, global: [Float]) {
        let shape = hypercolumns.shape
        precondition(shape.count == 3, "hypercolumns must be [channels, height, width]")
        let (c, n) = (shape[0], shape[1] * shape[2])
        var rows = [Float](repeating: 0, count: locations.count * c)
        hypercolumns.scalars.withUnsafeBufferPointer { x in
            rows.withUnsafeMutableBufferPointer { out in
                for (r, location) in locations.enumerated() {
                    precondition(location >= 0 && location < n, "location \(location) outside 0..<\(n)")
                    let column = x.baseAddress! + location
                    let row = out.baseAddress! + r * c
                    for k in 0..<c { row[k] = column[k * n] }
                }
            }
        }
        let fits = rows.allSatisfy { $0.isFinite && abs($0) <= 65504 }
        if fits {
            for i in rows.indices { rows[i] = Float(Float16(rows[i])) }
        }
        self.init(locations: locations, rows: rows, channels: c, global: global, isHalfPrecision: fits)
    }
}
