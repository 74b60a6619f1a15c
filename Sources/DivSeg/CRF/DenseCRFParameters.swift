/// The settings of a ``DenseCRF``: a fully connected CRF over the pixels with Potts label
/// compatibility and two Gaussian kernels (Krähenbühl & Koltun 2011, eq. 3),
///
///     k(i, j) = bilateralWeight · exp(−|p_i − p_j|²/2·bilateralSXY² − |I_i − I_j|²/2·bilateralSRGB²)
///             + gaussianWeight  · exp(−|p_i − p_j|²/2·gaussianSXY²)
///
/// (p = pixel position in pixels, I = RGB colour in 0...255), with the reference
/// implementation's symmetric kernel normalisation. The defaults are the values of the
/// reference code and of pydensecrf's examples: Gaussian sxy 3, weight 3; bilateral sxy 80,
/// srgb 13, weight 10; 10 mean-field iterations.
///
/// Decoding from JSON fills missing keys with these defaults, so a configuration may name
/// only what it changes:
///
/// ```swift
/// var parameters = DenseCRFParameters()               // the defaults
/// parameters.iterations = 5
/// let tuned = try JSONDecoder().decode(DenseCRFParameters.self,
///                                      from: Data(#"{"bilateralSRGB": 20}"#.utf8))
/// try tuned.validate()
/// ```
public struct DenseCRFParameters: Codable, Sendable, Equatable {
    /// Mean-field iterations; 0 returns the input probabilities (normalised).
    public var iterations: Int
    /// Standard deviation of the smoothness (position-only) kernel, in pixels.
    public var gaussianSXY: Float
    /// Weight of the smoothness kernel; 0 leaves it out.
    public var gaussianWeight: Float
    /// Positional standard deviation of the appearance (bilateral) kernel, in pixels.
    public var bilateralSXY: Float
    /// Colour standard deviation of the appearance kernel, in 8-bit RGB units.
    public var bilateralSRGB: Float
    /// Weight of the appearance kernel; 0 leaves it out.
    public var bilateralWeight: Float

    public init(iterations: Int = 10, gaussianSXY: Float = 3, gaussianWeight: Float = 3,
                bilateralSXY: Float = 80, bilateralSRGB: Float = 13, bilateralWeight: Float = 10) {
        self.iterations = iterations
        self.gaussianSXY = gaussianSXY
        self.gaussianWeight = gaussianWeight
        self.bilateralSXY = bilateralSXY
        self.bilateralSRGB = bilateralSRGB
        self.bilateralWeight = bilateralWeight
    }

    /// Throws ``DenseCRFError/invalidParameter(name:value:requirement:)`` for the first
    /// setting out of range: a negative iteration count, a standard deviation that is not
    /// positive and finite, or a weight that is negative or not finite (a negative weight
    /// would reward label changes and mean field would no longer be guaranteed to settle).
    public func validate() throws(DenseCRFError) {
        guard iterations >= 0 else {
            throw .invalidParameter(name: "iterations", value: "\(iterations)", requirement: "≥ 0")
        }
        let deviations: [(String, Float)] = [("gaussianSXY", gaussianSXY), ("bilateralSXY", bilateralSXY),
                                             ("bilateralSRGB", bilateralSRGB)]
        for (name, value) in deviations where !(value > 0 && value.isFinite) {
            throw .invalidParameter(name: name, value: "\(value)", requirement: "positive and finite")
        }
        for (name, value) in [("gaussianWeight", gaussianWeight), ("bilateralWeight", bilateralWeight)]
        where !(value >= 0 && value.isFinite) {
            throw .invalidParameter(name: name, value: "\(value)", requirement: "≥ 0 and finite")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case iterations, gaussianSXY, gaussianWeight, bilateralSXY, bilateralSRGB, bilateralWeight
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = DenseCRFParameters()
        self.init(iterations: try c.decodeIfPresent(Int.self, forKey: .iterations) ?? d.iterations,
                  gaussianSXY: try c.decodeIfPresent(Float.self, forKey: .gaussianSXY) ?? d.gaussianSXY,
                  gaussianWeight: try c.decodeIfPresent(Float.self, forKey: .gaussianWeight) ?? d.gaussianWeight,
                  bilateralSXY: try c.decodeIfPresent(Float.self, forKey: .bilateralSXY) ?? d.bilateralSXY,
                  bilateralSRGB: try c.decodeIfPresent(Float.self, forKey: .bilateralSRGB) ?? d.bilateralSRGB,
                  bilateralWeight: try c.decodeIfPresent(Float.self, forKey: .bilateralWeight) ?? d.bilateralWeight)
    }
}
