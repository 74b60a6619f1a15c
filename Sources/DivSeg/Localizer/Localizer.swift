import DivSegCore
import DivSegIO

/// The trained localizer of one foreground class (TheMethod.md, paper §3.1): per grid
/// location, a 1×1 convolution 4224 → `hiddenUnits`, ReLU, and a 1×1 convolution
/// `hiddenUnits` → 2 giving a foreground score F(i) (row 0) and a background score B(i)
/// (row 1).
///
/// The first layer acts on the hypercolumn multiplied channel-wise by a fixed
/// ``inputScale`` (1/RMS of each channel over the training images, TheMethod.md, "Localizers"); for
/// inference the scale is folded into the kernel. Maps are computed with the exact shortcut
/// on ``CompactHypercolumns`` (each channel group's slice of the kernel applied at the
/// group's own resolution, results upsampled and added), ~9 GMAC per image at 1024 hidden
/// units instead of ~23.
///
/// ```swift
/// let giraffe = try Localizer(contentsOf: "classes/giraffe/localizer.h5")
/// let compact = extractor.extractCompact(from: image)
/// let (f, b) = giraffe.maps(compact)          // 5376 values each, row-major 64×84
/// let s = giraffe.score(compact)              // F / scoreScale: the sampling score S_c
/// ```
public struct Localizer: Sendable {
    /// The `format` attribute of localizer files.
    public static let formatName = "divseg-localizer-1"

    /// The class this localizer finds (informational; bundles name classes themselves).
    public var className: String
    /// The MIL loss it was trained with (its ``probability(_:)`` follows the same rule).
    public let loss: LocalizerLoss
    /// Hidden units of the first layer.
    public let hiddenUnits: Int
    /// Input channels (the hypercolumn's 4224).
    public var inputChannels: Int { FeatureGrid.channels }
    /// The hypercolumn rule the localizer was trained on (``FeatureGrid/ruleName``).
    public let featureRule: String
    /// First layer kernel `[hiddenUnits, 4224]`, row-major (row = hidden unit), acting on the
    /// scaled hypercolumn.
    public let fc1Kernel: [Float]
    /// First layer bias (`hiddenUnits`).
    public let fc1Bias: [Float]
    /// Second layer kernel `[2, hiddenUnits]`: row 0 gives F, row 1 gives B.
    public let fc2Kernel: [Float]
    /// Second layer bias (F, B).
    public let fc2Bias: [Float]
    /// Per-channel input scale (4224).
    public let inputScale: [Float]
    /// s_c: the mean over the positive training images of max_i F(i); ``score(_:kind:)``
    /// divides F by it so that a typical positive image peaks at 1. (The MIL losses only see
    /// differences of scores, so F may lie below zero everywhere; the trainer then uses the
    /// mean height of the peak above its image's mean F instead, and says so in its report.)
    public var scoreScale: Float
    /// The same mean for F − B (``LocalizerScore/foregroundMinusBackground``).
    public var differenceScale: Float
    /// The same mean for −B (``LocalizerScore/negativeBackground``).
    public var backgroundScale: Float
    /// Grid cells along each edge left out of the max during training; ``score(_:kind:)``
    /// lowers them to the interior's minimum so that sampling never starts there.
    public let borderMargin: Int

    /// A localizer from its parameters.
    ///
    /// ```swift
    /// let l = try Localizer(className: "giraffe", loss: .globalSoftmax,
    ///                       fc1Kernel: w1, fc1Bias: b1, fc2Kernel: w2, fc2Bias: b2,
    ///                       inputScale: [Float](repeating: 1, count: 4224))
    /// ```
    ///
    /// - Throws: ``LocalizerError/invalidParameters(detail:)`` when the array lengths do not
    ///   fit together, or a scale is not finite and positive.
    public init(className: String, loss: LocalizerLoss = .globalSoftmax, fc1Kernel: [Float], fc1Bias: [Float],
                fc2Kernel: [Float], fc2Bias: [Float], inputScale: [Float], scoreScale: Float = 1,
                differenceScale: Float = 1, backgroundScale: Float = 1, borderMargin: Int = 0,
                featureRule: String = FeatureGrid.ruleName) throws(LocalizerError) {
        let hidden = fc1Bias.count, k = FeatureGrid.channels
        func invalid(_ detail: String) -> LocalizerError { .invalidParameters(detail: detail) }
        guard hidden > 0 else { throw invalid("fc1 bias is empty (no hidden units)") }
        guard fc1Kernel.count == hidden * k else {
            throw invalid("fc1 kernel holds \(fc1Kernel.count) values, [\(hidden), \(k)] needs \(hidden * k)")
        }
        guard fc2Kernel.count == 2 * hidden else {
            throw invalid("fc2 kernel holds \(fc2Kernel.count) values, [2, \(hidden)] needs \(2 * hidden)")
        }
        guard fc2Bias.count == 2 else { throw invalid("fc2 bias holds \(fc2Bias.count) values, needs 2") }
        guard inputScale.count == k else { throw invalid("input scale holds \(inputScale.count) values, needs \(k)") }
        guard inputScale.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw invalid("input scale has a value that is not finite and positive")
        }
        for (name, value) in [("scoreScale", scoreScale), ("differenceScale", differenceScale),
                              ("backgroundScale", backgroundScale)] where !(value.isFinite && value > 0) {
            throw invalid("\(name) is \(value), must be finite and positive")
        }
        guard borderMargin >= 0 && 2 * borderMargin < FeatureGrid.height else {
            throw invalid("border margin \(borderMargin) leaves no cell of the grid")
        }
        self.className = className
        self.loss = loss
        self.hiddenUnits = hidden
        self.featureRule = featureRule
        self.fc1Kernel = fc1Kernel
        self.fc1Bias = fc1Bias
        self.fc2Kernel = fc2Kernel
        self.fc2Bias = fc2Bias
        self.inputScale = inputScale
        self.scoreScale = scoreScale
        self.differenceScale = differenceScale
        self.backgroundScale = backgroundScale
        self.borderMargin = borderMargin
    }

    /// An untrained localizer: He-normal first layer (std √(2/4224)), second layer normal
    /// with std √(1/hidden), zero biases, drawn from `SplitMix64(seed:)`.
    ///
    /// ```swift
    /// let start = Localizer(randomWithHiddenUnits: 1024, className: "giraffe", seed: 7)
    /// ```
    public init(randomWithHiddenUnits hidden: Int, className: String, loss: LocalizerLoss = .globalSoftmax,
                inputScale: [Float]? = nil, borderMargin: Int = 0, seed: UInt64) {
        precondition(hidden > 0, "a localizer needs at least one hidden unit")
        let k = FeatureGrid.channels
        var rng = SplitMix64(seed: seed)
        let std1 = (2 / Float(k)).squareRoot(), std2 = (1 / Float(hidden)).squareRoot()
        let w1 = (0..<(hidden * k)).map { _ in rng.nextGaussian() * std1 }
        let w2 = (0..<(2 * hidden)).map { _ in rng.nextGaussian() * std2 }
        // Parameters are valid by construction.
        self = try! Localizer(className: className, loss: loss, fc1Kernel: w1,
                              fc1Bias: [Float](repeating: 0, count: hidden), fc2Kernel: w2, fc2Bias: [0, 0],
                              inputScale: inputScale ?? [Float](repeating: 1, count: k), borderMargin: borderMargin)
    }

    // MARK: Inference

    /// The first layer's kernel with the input scale folded in (`[hiddenUnits, 4224]`): the
    /// matrix that multiplies raw hypercolumns.
    public var inferenceKernel: [Float] {
        let k = FeatureGrid.channels
        return [Float](unsafeUninitializedCapacity: fc1Kernel.count) { out, initialized in
            fc1Kernel.withUnsafeBufferPointer { w in
                inputScale.withUnsafeBufferPointer { s in
                    Parallel.forEachChunk(of: 0..<hiddenUnits, minimumChunk: 16) { rows in
                        for r in rows {
                            let src = w.baseAddress! + r * k, dst = out.baseAddress! + r * k
                            for c in 0..<k { dst[c] = src[c] * s[c] }
                        }
                    }
                }
            }
            initialized = fc1Kernel.count
        }
    }

    /// F and B on the 64×84 grid (5376 values each, row-major), by the exact shortcut.
    ///
    /// ```swift
    /// let (f, b) = localizer.maps(extractor.extractCompact(from: image))
    /// let peak = f.indices.max { f[$0] < f[$1] }!      // row peak / 84, column peak % 84
    /// ```
    public func maps(_ features: CompactHypercolumns) -> (foreground: [Float], background: [Float]) {
        let workspace = LocalizerWorkspace(hidden: hiddenUnits)
        forward(features, in: workspace)
        return (workspace.foreground, workspace.background)
    }

    func forward(_ features: CompactHypercolumns, in workspace: LocalizerWorkspace) {
        precondition(workspace.hidden == hiddenUnits, "workspace built for another hidden size")
        inferenceKernel.withUnsafeBufferPointer { kernel in
            workspace.forward(kernel: kernel.baseAddress!, fc1Bias: fc1Bias, fc2Kernel: fc2Kernel,
                              fc2Bias: fc2Bias, features: features)
        }
    }

    /// The sampling score on the grid (5376 values): by default S_c = F / ``scoreScale``.
    /// With a ``borderMargin``, the margin's cells are set to the interior's minimum.
    ///
    /// ```swift
    /// let s = localizer.score(compact)                       // the paper's score
    /// let alt = localizer.score(compact, kind: .negativeBackground)
    /// ```
    public func score(_ features: CompactHypercolumns, kind: LocalizerScore = .foreground) -> [Float] {
        let (f, b) = maps(features)
        return score(foreground: f, background: b, kind: kind)
    }

    /// The score from maps computed before (by ``maps(_:)``).
    public func score(foreground: [Float], background: [Float], kind: LocalizerScore = .foreground) -> [Float] {
        precondition(foreground.count == FeatureGrid.locations && background.count == FeatureGrid.locations,
                     "maps must hold \(FeatureGrid.locations) values")
        let divisor = scale(for: kind)
        var s = zip(foreground, background).map { kind.raw(foreground: $0, background: $1) / divisor }
        if borderMargin > 0 {
            let (h, w, m) = (FeatureGrid.height, FeatureGrid.width, borderMargin)
            func inBorder(_ i: Int) -> Bool {
                let r = i / w, c = i % w
                return r < m || r >= h - m || c < m || c >= w - m
            }
            let floor = s.indices.filter { !inBorder($0) }.map { s[$0] }.min() ?? 0
            for i in s.indices where inBorder(i) { s[i] = floor }
        }
        return s
    }

    /// The divisor ``score(_:kind:)`` uses for `kind` (1 for probabilities).
    public func scale(for kind: LocalizerScore) -> Float {
        switch kind {
        case .foreground: return scoreScale
        case .foregroundMinusBackground: return differenceScale
        case .negativeBackground: return backgroundScale
        case .probability: return 1
        }
    }

    /// Loss, probability and gradient locations for an image with (`present`) or without
    /// the class, by the localizer's ``loss`` (border margin applied).
    public func evaluate(_ features: CompactHypercolumns, present: Bool) -> LocalizerLoss.Evaluation {
        let (f, b) = maps(features)
        return loss.evaluate(foreground: f, background: b, present: present, borderMargin: borderMargin)
    }

    /// The image-level probability that the class is present.
    public func probability(_ features: CompactHypercolumns) -> Float {
        evaluate(features, present: true).probability
    }

    /// The loss of one image and its gradient with respect to the parameters.
    ///
    /// ```swift
    /// let g = localizer.gradient(compact, present: false)
    /// ```
    public func gradient(_ features: CompactHypercolumns, present: Bool) -> LocalizerGradient {
        let workspace = LocalizerWorkspace(hidden: hiddenUnits)
        forward(features, in: workspace)
        let evaluation = loss.evaluate(foreground: workspace.foreground, background: workspace.background,
                                       present: present, borderMargin: borderMargin)
        return LocalizerGradient.backward(evaluation, workspace: workspace, fc2Kernel: fc2Kernel,
                                          inputScale: inputScale, features: features)
    }

    // MARK: Files

    /// Writes the localizer as HDF5, atomically: datasets `fc1/kernel` `[hidden, 4224]`,
    /// `fc1/bias`, `fc2/kernel` `[2, hidden]`, `fc2/bias`, `input_scale`; attributes `format`,
    /// `class_name`, `loss`, `hidden_units`, `input_channels`, `score_scale`,
    /// `difference_scale`, `background_scale`, `border_margin`, `feature_rule`.
    ///
    /// `storage: .float16` stores `fc1/kernel` — nearly all of the file — at half precision
    /// (17 MB → 8.7 MB at 1024 hidden units); the small arrays stay float32.
    ///
    /// ```swift
    /// try localizer.save(to: "classes/giraffe/localizer.h5")
    /// ```
    ///
    /// - Throws: ``HDF5Error`` when the file cannot be written.
    public func save(to path: String, storage: HDF5Storage = .float32) throws {
        try HDF5File.writeAtomically(to: path) { file in
            try file.writeFloats("fc1/kernel", fc1Kernel, shape: [hiddenUnits, FeatureGrid.channels], storage: storage)
            try file.writeFloats("fc1/bias", fc1Bias, shape: [hiddenUnits])
            try file.writeFloats("fc2/kernel", fc2Kernel, shape: [2, hiddenUnits])
            try file.writeFloats("fc2/bias", fc2Bias, shape: [2])
            try file.writeFloats("input_scale", inputScale, shape: [FeatureGrid.channels])
            try file.setStringAttribute("format", Self.formatName)
            try file.setStringAttribute("class_name", className)
            try file.setStringAttribute("loss", loss.rawValue)
            try file.setStringAttribute("feature_rule", featureRule)
            try file.setFloatAttribute("hidden_units", Float(hiddenUnits))
            try file.setFloatAttribute("input_channels", Float(FeatureGrid.channels))
            try file.setFloatAttribute("score_scale", scoreScale)
            try file.setFloatAttribute("difference_scale", differenceScale)
            try file.setFloatAttribute("background_scale", backgroundScale)
            try file.setFloatAttribute("border_margin", Float(borderMargin))
        }
    }

    /// Loads a localizer written by ``save(to:storage:)``.
    ///
    /// ```swift
    /// let giraffe = try Localizer(contentsOf: "classes/giraffe/localizer.h5")
    /// ```
    ///
    /// - Parameter featureRule: the rule the caller's features follow; a file trained on
    ///   another rule is refused.
    /// - Throws: ``LocalizerError/incompatibleFeatureRule(path:found:expected:)``,
    ///   ``LocalizerError/wrongShape(path:dataset:found:expected:)``,
    ///   ``LocalizerError/malformedFile(path:detail:)``, or ``HDF5Error`` (no such file, not
    ///   HDF5, damaged).
    /// The name of the first parameter array holding a NaN or infinite value (as named in
    /// the file: "fc1/kernel", …), or nil when every weight is finite. Such a localizer
    /// scores every location NaN, and sampling would pick arbitrary points from it.
    public var firstNonFiniteArray: String? {
        let arrays: [(String, [Float])] = [("fc1/kernel", fc1Kernel), ("fc1/bias", fc1Bias),
                                           ("fc2/kernel", fc2Kernel), ("fc2/bias", fc2Bias)]
        return arrays.first { FiniteCheck.firstNonFinite($0.1) != nil }?.0
    }

    public init(contentsOf path: String, featureRule expectedRule: String = FeatureGrid.ruleName) throws {
        let file = try HDF5File.open(path)
        defer { file.close() }
        func malformed(_ detail: String) -> LocalizerError { .malformedFile(path: path, detail: detail) }
        switch try ModelFileHeader.check(file, kind: "localizer", format: Self.formatName,
                                         required: ["loss", "hidden_units", "score_scale"], featureRule: expectedRule) {
        case .malformed(let detail)?: throw malformed(detail)
        case .featureRule(let found)?:
            throw LocalizerError.incompatibleFeatureRule(path: path, found: found, expected: expectedRule)
        case nil: break
        }
        let lossName = try file.stringAttribute("loss")
        guard let loss = LocalizerLoss(rawValue: lossName) else {
            throw malformed("its loss is '\(lossName)', expected one of "
                + LocalizerLoss.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let hiddenValue = try file.floatAttribute("hidden_units")
        guard hiddenValue >= 1, hiddenValue == hiddenValue.rounded(), hiddenValue < 1e7 else {
            throw malformed("hidden_units is \(hiddenValue), not a positive integer")
        }
        let hidden = Int(hiddenValue), k = FeatureGrid.channels
        func read(_ name: String, _ expected: [Int]) throws -> [Float] {
            try LocalizerFile.readDataset(name, shape: expected, from: file, path: path)
        }
        func optionalFloat(_ name: String, default value: Float) throws -> Float {
            file.hasAttribute(name) ? try file.floatAttribute(name) : value
        }
        let margin = try optionalFloat("border_margin", default: 0)
        guard margin >= 0, margin == margin.rounded(), margin < Float(FeatureGrid.height) else {
            throw malformed("border_margin is \(margin), not a small non-negative integer")
        }
        do {
            try self.init(
                className: file.hasAttribute("class_name") ? try file.stringAttribute("class_name") : "",
                loss: loss, fc1Kernel: try read("fc1/kernel", [hidden, k]), fc1Bias: try read("fc1/bias", [hidden]),
                fc2Kernel: try read("fc2/kernel", [2, hidden]), fc2Bias: try read("fc2/bias", [2]),
                inputScale: try read("input_scale", [k]), scoreScale: try file.floatAttribute("score_scale"),
                differenceScale: try optionalFloat("difference_scale", default: 1),
                backgroundScale: try optionalFloat("background_scale", default: 1),
                borderMargin: Int(margin), featureRule: expectedRule)
        } catch let error as LocalizerError {
            if case .invalidParameters(let detail) = error { throw malformed(detail) }
            throw error
        }
        if let array = firstNonFiniteArray { throw malformed("'\(array)' holds a NaN or infinite value") }
    }
}
