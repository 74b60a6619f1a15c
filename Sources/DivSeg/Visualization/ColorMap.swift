/// A 256-entry colour table for scalar maps: entry 0 for the lowest value, 255 for the
/// highest. ``inferno`` (perceptually uniform, black → purple → orange → pale yellow, also
/// readable in grey) is what ``HeatMap`` uses by default.
///
/// ```swift
/// let (r, g, b) = ColorMap.inferno.color(at: 0.9)      // a bright orange-yellow
/// let hottest = ColorMap.inferno.color(index: 255)     // (252, 255, 164)
/// ```
public struct ColorMap: Sendable, Equatable {
    /// 768 bytes: r, g, b of entry 0, then of entry 1, …
    public let rgb: [UInt8]

    /// - Precondition: `rgb.count == 768` (256 RGB triples).
    public init(rgb: [UInt8]) {
        precondition(rgb.count == 768, "ColorMap needs 256 RGB triples (768 bytes), got \(rgb.count)")
        self.rgb = rgb
    }

    /// A table interpolated linearly between colour stops (components in 0...1) placed at
    /// table entries: indices strictly increasing, the first 0, the last 255.
    ///
    /// ```swift
    /// let gray = ColorMap(stops: [(0, 0, 0, 0), (255, 1, 1, 1)])
    /// ```
    public init(stops: [(index: Int, r: Double, g: Double, b: Double)]) {
        precondition(stops.count >= 2 && stops.first!.index == 0 && stops.last!.index == 255
                     && zip(stops, stops.dropFirst()).allSatisfy { $0.index < $1.index },
                     "colour stops must start at entry 0, end at 255 and increase")
        var rgb = [UInt8](repeating: 0, count: 768)
        var k = 0
        for i in 0..<256 {
            while stops[k + 1].index < i { k += 1 }
            let a = stops[k], b = stops[k + 1]
            let f = Double(i - a.index) / Double(b.index - a.index)
            func byte(_ x: Double, _ y: Double) -> UInt8 {
                UInt8(max(0, min(255, ((x + (y - x) * f) * 255).rounded())))
            }
            rgb[3 * i] = byte(a.r, b.r)
            rgb[3 * i + 1] = byte(a.g, b.g)
            rgb[3 * i + 2] = byte(a.b, b.b)
        }
        self.init(rgb: rgb)
    }

    /// The colour of entry `index`.
    public func color(index: UInt8) -> (r: UInt8, g: UInt8, b: UInt8) {
        let i = 3 * Int(index)
        return (rgb[i], rgb[i + 1], rgb[i + 2])
    }

    /// The colour of `t` in `0...1` (clamped; NaN gives entry 0).
    public func color(at t: Float) -> (r: UInt8, g: UInt8, b: UInt8) {
        color(index: Self.index(of: t))
    }

    /// The entry `t` in `0...1` falls on: `round(t · 255)`, clamped, NaN → 0.
    @inlinable
    public static func index(of t: Float) -> UInt8 {
        guard t > 0 else { return 0 }          // also NaN
        guard t < 1 else { return 255 }
        return UInt8(t * 255 + 0.5)
    }

    /// matplotlib's `inferno` (Smith & van der Walt, CC0): every 8th entry of its 256-entry
    /// table plus the last, linearly interpolated back to 256 entries (the colour map is
    /// smooth, so this stays within a few 1/255 steps of the original).
    public static let inferno: ColorMap = {
        let samples: [(Double, Double, Double)] = [
            (0.001462, 0.000466, 0.013866), (0.013995, 0.011225, 0.071862),
            (0.042253, 0.028139, 0.141141), (0.081962, 0.043328, 0.215289),
            (0.129285, 0.047293, 0.290788), (0.183429, 0.040329, 0.354971),
            (0.238273, 0.036621, 0.396353), (0.290763, 0.045644, 0.418637),
            (0.341500, 0.062325, 0.429425), (0.391453, 0.080927, 0.433109),
            (0.441207, 0.099338, 0.431594), (0.491022, 0.117179, 0.425552),
            (0.540920, 0.134729, 0.415123), (0.590734, 0.152563, 0.400290),
            (0.640135, 0.171438, 0.381065), (0.688653, 0.192239, 0.357603),
            (0.735683, 0.215906, 0.330245), (0.780517, 0.243327, 0.299523),
            (0.822386, 0.275197, 0.266085), (0.860533, 0.311892, 0.230606),
            (0.894305, 0.353399, 0.193584), (0.923215, 0.399359, 0.155193),
            (0.946965, 0.449191, 0.115272), (0.965397, 0.502249, 0.073859),
            (0.978422, 0.557937, 0.034931), (0.985952, 0.615750, 0.025592),
            (0.987874, 0.675267, 0.065257), (0.984075, 0.736087, 0.129527),
            (0.974638, 0.797692, 0.206332), (0.960626, 0.859069, 0.298010),
            (0.947594, 0.917399, 0.410665), (0.954529, 0.965896, 0.540361),
            (0.988362, 0.998364, 0.644924),
        ]
        return ColorMap(stops: samples.enumerated().map { k, c in
            (index: min(8 * k, 255), r: c.0, g: c.1, b: c.2)
        })
    }()
}
