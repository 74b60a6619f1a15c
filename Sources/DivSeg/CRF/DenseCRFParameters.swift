import DivSegCore

/// The settings of a ``DenseCRF``: a fully connected CRF over the pixels with Potts label
/// compatibility and two Gaussian kernels (Krähenbühl & Koltun 2011, eq. 3),
///
///     k(i, j) = bilateralWeight · exp(−|p_i − p_j|²/2·bilateralSXY² − |I_i − I_j|²/2·bilateralSRGB²)
///             + gaussianWeight  · exp(−|p_i − p_j|²/2·gaussianSXY²)
///
/// (p = pixel position in pixels, I = RGB colour in 0...255), with the reference
/// implementation's symmetric kernel normalisation. The defaults are the values of the
/// reference code and of pydensecrf's examples: Gaussian sxy 3, weight 3; bilateral sxy 80,
/// srgb 13, weight 10; 10 mean-field iterations. ``logitScale`` (default 1, the reference
/// behaviour) multiplies the segmenter's logits before the softmax that gives the unaries:
/// above 1 it sharpens low-confidence probabilities so that the pairwise terms smooth
/// boundaries instead of handing weakly predicted classes to their surroundings.
/// ``resolution`` (default 1, every pixel) runs the CRF on a shrunk image;
/// ``segmenterDefault``, what `segment` uses, runs it at half size.
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
    /// Factor on the logits before the softmax of the unaries (a temperature of
    /// 1 / logitScale); 1 leaves the segmenter's probabilities as they are.
    public var logitScale: Float
    /// The scale of the image the CRF runs on when it starts from logits
    /// (``DenseCRF/labels(image:logits:labelIDs:)``, ``DenseCRF/marginals(image:logits:)``):
    /// 1 (the reference) runs on every pixel; 0.5 on the image shrunk to half its width and
    /// height, with the positional deviations scaled alike so that the kernels cover the same
    /// part of the scene, and the marginals enlarged bilinearly to the image before the
    /// argmax — about a quarter of the work; on a real photo the labels agree with those of
    /// every pixel on 99 % of the pixels, the rest along boundaries (`DenseCRFTests`).
    /// ``DenseCRF/infer(image:probabilities:observer:)`` runs at the resolution of the
    /// probabilities it is given.
    public var resolution: Float

    /// The ``iterations`` accepted. Mean field settles within 5–10 iterations (the
    /// reference code's default is 10) and each one costs about a second on a VOC-sized image;
    /// more than 100 only burns time.
    public static let iterationsRange = 0...100
    /// The kernel weights accepted (``gaussianWeight``, ``bilateralWeight``): non-negative
    /// (a negative weight would reward label changes and mean field would no longer be
    /// guaranteed to settle) and finite; the usual values are 3–10, and above 1000 the
    /// pairwise terms drown the segmenter's probabilities entirely.
    public static let weightRange: ClosedRange<Float> = 0...1000
    /// The standard deviations accepted (``gaussianSXY``, ``bilateralSXY`` in pixels,
    /// ``bilateralSRGB`` in 8-bit RGB units): positive and finite; below 0.01 no two pixels
    /// interact, above 10 000 every pixel interacts equally with every other.
    public static let deviationRange: ClosedRange<Float> = 0.01...10_000
    /// The ``logitScale``s accepted: positive and finite; 0.01 flattens any logits to a
    /// uniform distribution, 100 turns them into one-hot labels.
    public static let logitScaleRange: ClosedRange<Float> = 0.01...100
    /// The ``resolution``s accepted: above 1 would only interpolate the logits further, and
    /// below 0.1 a 640×480 image shrinks to fewer pixels than the segmenter's own grid.
    public static let resolutionRange: ClosedRange<Float> = 0.1...1

    /// The parameters `segment`, `evaluate` and the registry façade use by default: the
    /// reference kernels and 10 iterations (chosen on held-out train2017 images after the
    /// prediction rules, docs/RESULTS.md, issue #11, levers 8 and 10: two folds, localizers and
    /// segmenter trained on the other fold; lever 8 found logit scale 1 best, 17.6 against
    /// 17.1 with scale 2), run at ``resolution`` 0.5: on held-out images it scores as every
    /// pixel does (mean of three seeds 18.07 against 18.12; 0.25: 18.01; 0.5 with 5
    /// iterations: 17.85) for about a third of the time (+0.1 s instead of +0.4 s for a
    /// 640×480 image). `DenseCRFParameters()` is the reference itself, every pixel.
    ///
    /// ```swift
    /// let pipeline = SegmentationPipeline(extractor: e, segmenter: s, crf: .segmenterDefault)
    /// ```
    public static let segmenterDefault = DenseCRFParameters(resolution: 0.5)

    public init(iterations: Int = 10, gaussianSXY: Float = 3, gaussianWeight: Float = 3,
                bilateralSXY: Float = 80, bilateralSRGB: Float = 13, bilateralWeight: Float = 10,
                logitScale: Float = 1, resolution: Float = 1) {
        self.iterations = iterations
        self.gaussianSXY = gaussianSXY
        self.gaussianWeight = gaussianWeight
        self.bilateralSXY = bilateralSXY
        self.bilateralSRGB = bilateralSRGB
        self.bilateralWeight = bilateralWeight
        self.logitScale = logitScale
        self.resolution = resolution
    }

    /// Throws ``DenseCRFError/invalidParameter(name:value:requirement:)`` for the first
    /// setting out of range: iterations outside ``iterationsRange``, a standard deviation
    /// outside ``deviationRange`` or a weight outside ``weightRange`` (NaN is outside every
    /// range).
    public func validate() throws(DenseCRFError) {
        guard Self.iterationsRange.contains(iterations) else {
            throw .invalidParameter(name: "iterations", value: "\(iterations)",
                                    requirement: "in \(Self.iterationsRange.boundText)")
        }
        let deviations: [(String, Float)] = [("gaussianSXY", gaussianSXY), ("bilateralSXY", bilateralSXY),
                                             ("bilateralSRGB", bilateralSRGB)]
        for (name, value) in deviations where !Self.deviationRange.contains(value) {
            throw .invalidParameter(name: name, value: "\(value)",
                                    requirement: "in \(Self.deviationRange.boundText)")
        }
        for (name, value) in [("gaussianWeight", gaussianWeight), ("bilateralWeight", bilateralWeight)]
        where !Self.weightRange.contains(value) {
            throw .invalidParameter(name: name, value: "\(value)", requirement: "in \(Self.weightRange.boundText)")
        }
        guard Self.logitScaleRange.contains(logitScale) else {
            throw .invalidParameter(name: "logitScale", value: "\(logitScale)",
                                    requirement: "in \(Self.logitScaleRange.boundText)")
        }
        guard Self.resolutionRange.contains(resolution) else {
            throw .invalidParameter(name: "resolution", value: "\(resolution)",
                                    requirement: "in \(Self.resolutionRange.boundText)")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case iterations, gaussianSXY, gaussianWeight, bilateralSXY, bilateralSRGB, bilateralWeight, logitScale, resolution
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = DenseCRFParameters()
        self.init(iterations: try c.decodeIfPresent(Int.self, forKey: .iterations) ?? d.iterations,
                  gaussianSXY: try c.decodeIfPresent(Float.self, forKey: .gaussianSXY) ?? d.gaussianSXY,
                  gaussianWeight: try c.decodeIfPresent(Float.self, forKey: .gaussianWeight) ?? d.gaussianWeight,
                  bilateralSXY: try c.decodeIfPresent(Float.self, forKey: .bilateralSXY) ?? d.bilateralSXY,
                  bilateralSRGB: try c.decodeIfPresent(Float.self, forKey: .bilateralSRGB) ?? d.bilateralSRGB,
                  bilateralWeight: try c.decodeIfPresent(Float.self, forKey: .bilateralWeight) ?? d.bilateralWeight,
                  logitScale: try c.decodeIfPresent(Float.self, forKey: .logitScale) ?? d.logitScale,
                  resolution: try c.decodeIfPresent(Float.self, forKey: .resolution) ?? d.resolution)
    }
}
