import DivSegCore
/// The learned arrays of a ``Segmenter``, as training produces and files store them.
///
/// The network, per location, on the input x = [hypercolumn (4224), global descriptor]:
///
///     x̂_d = (x_d − inputMean_d) / inputStd_d        (0 where inputStd_d == 0)
///     h   = ReLU(hiddenWeights · x̂ + hiddenBias)     hiddenWeights: [hiddenUnits, inputCount]
///     y   = outputWeights · h + outputBias            outputWeights: [classCount, hiddenUnits]
///
/// All matrices are row-major. A standard deviation of 0 marks a dimension that never
/// varied in training (a dead channel): it is ignored rather than amplified.
///
/// ```swift
/// let p = segmenter.parameters
/// p.hiddenWeights.count == p.inputCount * p.hiddenUnits
/// ```
public struct SegmenterParameters: Sendable, Equatable {
    public var inputCount: Int
    public var hiddenUnits: Int
    public var classCount: Int
    /// `[hiddenUnits, inputCount]` (one row per hidden unit, as a 1×1 convolution kernel).
    public var hiddenWeights: [Float]
    /// `[hiddenUnits]`.
    public var hiddenBias: [Float]
    /// `[classCount, hiddenUnits]`.
    public var outputWeights: [Float]
    /// `[classCount]`.
    public var outputBias: [Float]
    /// `[inputCount]`: per-dimension mean of the training points.
    public var inputMean: [Float]
    /// `[inputCount]`: per-dimension standard deviation of the training points (0: ignored).
    public var inputStd: [Float]

    /// The name of the first array holding a NaN or infinite value, or nil when every value
    /// is finite. Such a segmenter labels every pixel the same, silently.
    public var firstNonFiniteArray: String? {
        let arrays: [(String, [Float])] = [("hiddenWeights", hiddenWeights), ("hiddenBias", hiddenBias),
                                           ("outputWeights", outputWeights), ("outputBias", outputBias),
                                           ("inputMean", inputMean), ("inputStd", inputStd)]
        return arrays.first { FiniteCheck.firstNonFinite($0.1) != nil }?.0
    }

    public init(inputCount: Int, hiddenUnits: Int, classCount: Int,
                hiddenWeights: [Float], hiddenBias: [Float],
                outputWeights: [Float], outputBias: [Float],
                inputMean: [Float], inputStd: [Float]) {
        self.inputCount = inputCount
        self.hiddenUnits = hiddenUnits
        self.classCount = classCount
        self.hiddenWeights = hiddenWeights
        self.hiddenBias = hiddenBias
        self.outputWeights = outputWeights
        self.outputBias = outputBias
        self.inputMean = inputMean
        self.inputStd = inputStd
    }

    /// Why the arrays do not fit the stated sizes, or nil when they do.
    public func inconsistency() -> String? {
        guard inputCount > 0, hiddenUnits > 0, classCount > 0 else {
            return "sizes must be positive (inputs \(inputCount), hidden \(hiddenUnits), classes \(classCount))"
        }
        let expected: [(String, Int, Int)] = [
            ("hidden weights", hiddenWeights.count, inputCount * hiddenUnits),
            ("hidden bias", hiddenBias.count, hiddenUnits),
            ("output weights", outputWeights.count, hiddenUnits * classCount),
            ("output bias", outputBias.count, classCount),
            ("input mean", inputMean.count, inputCount),
            ("input std", inputStd.count, inputCount),
        ]
        for (name, got, want) in expected where got != want {
            return "\(name) hold \(got) values, expected \(want)"
        }
        if inputStd.contains(where: { !($0 >= 0) || !$0.isFinite }) {
            return "input std holds a negative, NaN or infinite value"
        }
        return nil
    }

    /// The multiplier of each input dimension: 1/std, or 0 for an ignored dimension.
    var inputScale: [Float] { inputStd.map { $0 > 0 ? 1 / $0 : 0 } }
}
