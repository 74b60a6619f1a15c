/// One training point: a location of the feature grid and the label assigned to it.
///
/// Locations are flat indices `row * width + column` on the grid (64×84 for
/// ``FeatureGrid``); label 0 is background, foreground classes are 1, 2, ….
///
/// ```swift
/// let point = LabeledPoint(location: 10 * FeatureGrid.width + 42, label: 3)
/// point.row()      // 10
/// point.column()   // 42
/// ```
public struct LabeledPoint: Hashable, Codable, Sendable {
    /// Flat grid index `row * width + column`.
    public var location: Int
    /// Class label; 0 is background.
    public var label: Int

    public init(location: Int, label: Int) {
        self.location = location
        self.label = label
    }

    /// The grid row of the location (for a grid `width` columns wide).
    public func row(gridWidth width: Int = FeatureGrid.width) -> Int { location / width }

    /// The grid column of the location (for a grid `width` columns wide).
    public func column(gridWidth width: Int = FeatureGrid.width) -> Int { location % width }
}
