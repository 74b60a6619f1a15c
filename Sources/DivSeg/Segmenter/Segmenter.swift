import DivSegCore
import DivSegIO

/// The shared segmentation model (TheMethod.md): per location, on the hypercolumn
/// concatenated with the image's global descriptor, a 1×1 convolution to 512 units, ReLU,
/// and a 1×1 convolution to one logit per class; label 0 is background.
///
/// The input normalisation learned in training is folded into the first layer once, when
/// the segmenter is created or loaded: `W'[:, d] = W[:, d] / std_d`,
/// `b' = b − Σ_d W'[:, d] · mean_d`.
/// Applying it to an image then uses two exact shortcuts: the global descriptor's share of
/// the first layer is one bias vector per image, and the hypercolumn share is a single GEMM
/// over all 5376 locations (512 × 4224 × 5376, ≈ 23 GFLOP; ≈ 0.12 s on the 2-core reference
/// machine). From ``CompactHypercolumns`` the first layer is applied per layer group at the
/// group's own resolution instead (``logits(_:)-(CompactHypercolumns)``, 2.4× fewer FLOPs).
///
/// ```swift
/// let segmenter = try Segmenter(contentsOf: "classes/segmenter.h5")
/// let features = extractor.extract(from: image)
/// let logits = try segmenter.logits(hypercolumns: features.features, global: features.global)
/// // logits.shape == [segmenter.classes.count, 64, 84]; upsample, then argmax over classes
/// ```
public struct Segmenter: Sendable {
    /// Class names in label order; `classes[0] == "background"`.
    public let classes: [String]
    /// The learned arrays, as trained (normalisation not folded).
    public let parameters: SegmenterParameters
    /// Hypercolumn channels at the start of every input vector (4224); the rest of the
    /// input is the global descriptor.
    public let featureChannels: Int
    /// The feature construction rule the segmenter was trained on (``FeatureGrid/ruleName``).
    public var featureRule: String
    /// An identifier the caller chooses (the registry: a fingerprint of the class set the
    /// segmenter was trained for), stored with the file so a stale model can be detected.
    public var fingerprint: String

    /// First layer with the normalisation folded in: `[hiddenUnits, inputCount]`, and bias.
    let foldedWeights: [Float]
    let foldedBias: [Float]

    /// Length of the global descriptor the segmenter expects.
    public var globalCount: Int { parameters.inputCount - featureChannels }
    /// Units of the hidden layer.
    public var hiddenUnits: Int { parameters.hiddenUnits }

    /// Format name written to, and required of, segmenter files.
    public static let formatName = "divseg-segmenter-1"

    /// A segmenter from its parameters.
    ///
    /// - Throws: ``SegmenterError/invalidClasses(detail:)`` or
    ///   ``SegmenterError/dimensionMismatch(what:got:expected:)`` when the classes and
    ///   arrays do not fit together.
    public init(classes: [String], parameters: SegmenterParameters,
                featureChannels: Int = FeatureGrid.channels,
                featureRule: String = FeatureGrid.ruleName, fingerprint: String = "") throws(SegmenterError) {
        try Self.validate(classes: classes)
        if let problem = parameters.inconsistency() {
            throw .dimensionMismatch(what: "The segmenter parameters", got: problem, expected: "consistent sizes")
        }
        guard parameters.classCount == classes.count else {
            throw .dimensionMismatch(what: "The segmenter's output layer", got: "\(parameters.classCount) classes",
                                     expected: "\(classes.count) (one per class name)")
        }
        guard featureChannels > 0, featureChannels <= parameters.inputCount else {
            throw .dimensionMismatch(what: "The segmenter's input", got: "\(parameters.inputCount) values",
                                     expected: "at least the \(featureChannels) hypercolumn channels")
        }
        self.classes = classes
        self.parameters = parameters
        self.featureChannels = featureChannels
        self.featureRule = featureRule
        self.fingerprint = fingerprint
        (foldedWeights, foldedBias) = Self.fold(parameters)
    }

    /// Checks a class list: non-empty, `"background"` first, no duplicates.
    public static func validate(classes: [String]) throws(SegmenterError) {
        guard let first = classes.first else { throw .invalidClasses(detail: "the list is empty") }
        guard first == "background" else {
            throw .invalidClasses(detail: "label 0 is \"\(first)\", not \"background\"")
        }
        var seen = Set<String>()
        for name in classes where !seen.insert(name).inserted {
            throw .invalidClasses(detail: "\"\(name)\" appears twice")
        }
    }

    static func fold(_ p: SegmenterParameters) -> (weights: [Float], bias: [Float]) {
        let (d, h) = (p.inputCount, p.hiddenUnits)
        let scale = p.inputScale
        var weights = p.hiddenWeights
        var bias = p.hiddenBias
        for j in 0..<h {
            var shift = 0.0
            for i in 0..<d {
                let w = p.hiddenWeights[j * d + i] * scale[i]
                weights[j * d + i] = w
                shift += Double(w) * Double(p.inputMean[i])
            }
            bias[j] = Float(Double(p.hiddenBias[j]) - shift)
        }
        return (weights, bias)
    }

    // MARK: Inference

    /// Class logits at every location of one image: `[classes.count, height, width]`. The
    /// same bits whatever the number of BLAS threads (``BLAS/gemmFixedBlocks(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``),
    /// so shards on machines of any size predict what one process predicts.
    ///
    /// ```swift
    /// let logits = try segmenter.logits(hypercolumns: h.features, global: h.global)
    /// let giraffe = logits.channel(segmenter.classes.firstIndex(of: "giraffe")!)
    /// ```
    ///
    /// - Parameters:
    ///   - hypercolumns: `[featureChannels, height, width]` (the 64×84 grid normally; any
    ///     grid works since the network is per location).
    ///   - global: the image's global descriptor (``globalCount`` values).
    /// - Throws: ``SegmenterError/dimensionMismatch(what:got:expected:)``.
    public func logits(hypercolumns: Tensor, global: [Float]) throws(SegmenterError) -> Tensor {
        let shape = hypercolumns.shape
        guard shape.count == 3, shape[0] == featureChannels, shape[1] > 0, shape[2] > 0 else {
            throw .dimensionMismatch(what: "The hypercolumn tensor", got: "shape \(shape)",
                                     expected: "[\(featureChannels), height, width]")
        }
        guard global.count == globalCount else {
            throw .dimensionMismatch(what: "The global descriptor", got: "\(global.count) values",
                                     expected: "\(globalCount)")
        }
        let (n, h, f) = (shape[1] * shape[2], hiddenUnits, featureChannels)
        let d = parameters.inputCount
        var hidden = [Float](repeating: 0, count: h * n)
        foldedWeights.withUnsafeBufferPointer { w in
            hypercolumns.scalars.withUnsafeBufferPointer { x in
                hidden.withUnsafeMutableBufferPointer { z in
                    // [H, n] = W'[:, 0..<F] · X [F, n]; fixed blocks: the same logits with any thread count.
                    BLAS.gemmFixedBlocks(m: h, n: n, k: f, a: w.baseAddress!, lda: d,
                              b: x.baseAddress!, ldb: n, c: z.baseAddress!, ldc: n)
                }
            }
        }
        return outputLogits(hidden: &hidden, global: global, height: shape[1], width: shape[2])
    }

    /// Logits from the first layer's pre-activations `hidden` (`[H, height·width]`, without
    /// bias): adds the image bias (folded bias plus the global descriptor's share), applies
    /// the ReLU and the output layer.
    private func outputLogits(hidden: inout [Float], global: [Float], height: Int, width: Int) -> Tensor {
        let (n, h, c, f, d) = (height * width, hiddenUnits, classes.count, featureChannels, parameters.inputCount)
        // The global share of the first layer: one bias vector for the image.
        var imageBias = foldedBias
        foldedWeights.withUnsafeBufferPointer { w in
            for j in 0..<h {
                let row = w.baseAddress! + j * d + f
                var sum = imageBias[j]
                for g in 0..<global.count { sum += row[g] * global[g] }
                imageBias[j] = sum
            }
        }
        hidden.withUnsafeMutableBufferPointer { z in
            Parallel.forEachChunk(of: 0..<h, minimumChunk: 16) { units in
                for j in units {
                    let row = z.baseAddress! + j * n, bias = imageBias[j]
                    for i in 0..<n { row[i] = max(0, row[i] + bias) }
                }
            }
        }
        return Tensor(shape: [c, height, width]) { out in
            parameters.outputWeights.withUnsafeBufferPointer { w in
                hidden.withUnsafeBufferPointer { z in
                    // [C, n] = W2 [C, H] · Z [H, n]
                    BLAS.gemmFixedBlocks(m: c, n: n, k: h, a: w.baseAddress!, lda: h,
                              b: z.baseAddress!, ldb: n, c: out.baseAddress!, ldc: n)
                }
            }
            for k in 0..<c {
                let bias = parameters.outputBias[k]
                for i in 0..<n { out[k * n + i] += bias }
            }
        }
    }

    /// Class logits from hypercolumns kept per layer group at the groups' own resolutions,
    /// `[classes.count, 64, 84]`: the first layer is applied to each group where it lives
    /// (blocks 1–3 on the 64×84 grid, block4 at 32×42, block5 at 16×21) and the block4/5
    /// results are upsampled to the grid and added — exact, because the upsampling is
    /// linear (TheMethod.md, "Exact shortcuts"), and 2.4× fewer multiply–adds than on the expanded tensor.
    /// Agrees with ``logits(hypercolumns:global:)`` on `compact.expanded()` up to rounding.
    ///
    /// ```swift
    /// let compact = extractor.extractCompact(from: image)
    /// let logits = try segmenter.logits(compact)      // [classes, 64, 84]
    /// ```
    ///
    /// - Throws: ``SegmenterError/dimensionMismatch(what:got:expected:)`` when the segmenter
    ///   was not trained on the 4224-channel hypercolumn or the global descriptor's length
    ///   differs.
    public func logits(_ compact: CompactHypercolumns) throws(SegmenterError) -> Tensor {
        guard featureChannels == FeatureGrid.channels else {
            throw .dimensionMismatch(what: "The segmenter's hypercolumn input", got: "\(featureChannels) channels",
                                     expected: "\(FeatureGrid.channels) for compact hypercolumns")
        }
        guard compact.global.count == globalCount else {
            throw .dimensionMismatch(what: "The global descriptor", got: "\(compact.global.count) values",
                                     expected: "\(globalCount)")
        }
        let (gh, gw) = (FeatureGrid.height, FeatureGrid.width)
        let (h, d) = (hiddenUnits, parameters.inputCount)
        /// W'[:, channels] · group, `[H, group height · group width]`.
        func firstLayer(_ group: Tensor, channels: Range<Int>) -> [Float] {
            let n = group.shape[1] * group.shape[2]
            var z = [Float](repeating: 0, count: h * n)
            foldedWeights.withUnsafeBufferPointer { w in
                group.scalars.withUnsafeBufferPointer { x in
                    z.withUnsafeMutableBufferPointer { out in
                        BLAS.gemmFixedBlocks(m: h, n: n, k: channels.count, a: w.baseAddress! + channels.lowerBound, lda: d,
                                  b: x.baseAddress!, ldb: n, c: out.baseAddress!, ldc: n)
                    }
                }
            }
            return z
        }
        var hidden = firstLayer(compact.grid, channels: CompactHypercolumns.gridChannels)
        for (group, channels) in [(compact.block4, CompactHypercolumns.block4Channels),
                                  (compact.block5, CompactHypercolumns.block5Channels)] {
            let coarse = Tensor(shape: [h, group.shape[1], group.shape[2]],
                                scalars: firstLayer(group, channels: channels))
            let upsampled = Resampler.resize(coarse, height: gh, width: gw)
            hidden.withUnsafeMutableBufferPointer { z in
                upsampled.scalars.withUnsafeBufferPointer { u in
                    for i in 0..<z.count { z[i] += u[i] }
                }
            }
        }
        return outputLogits(hidden: &hidden, global: compact.global, height: gh, width: gw)
    }

    /// ``logits(hypercolumns:global:)`` of an image's ``Hypercolumns``.
    public func logits(_ features: Hypercolumns) throws(SegmenterError) -> Tensor {
        try logits(hypercolumns: features.features, global: features.global)
    }

    /// Logits of a batch of input vectors (rows as in ``SegmenterTrainingSet``): row-major
    /// `[rows.count / inputCount, classes.count]`, computed in GEMMs of 4096 rows.
    ///
    /// - Throws: ``SegmenterError/dimensionMismatch(what:got:expected:)`` when `rows.count`
    ///   is not a multiple of the input length.
    public func logits(rows: [Float]) throws(SegmenterError) -> [Float] {
        let (d, h, c) = (parameters.inputCount, hiddenUnits, classes.count)
        guard rows.count % d == 0 else {
            throw .dimensionMismatch(what: "The input rows", got: "\(rows.count) values",
                                     expected: "a multiple of \(d)")
        }
        let count = rows.count / d
        var out = [Float](repeating: 0, count: count * c)
        let chunk = 4096
        var hidden = [Float](repeating: 0, count: min(chunk, max(count, 1)) * h)
        rows.withUnsafeBufferPointer { x in
            foldedWeights.withUnsafeBufferPointer { w1 in
                parameters.outputWeights.withUnsafeBufferPointer { w2 in
                    hidden.withUnsafeMutableBufferPointer { z in
                        out.withUnsafeMutableBufferPointer { y in
                            var start = 0
                            while start < count {
                                let m = min(chunk, count - start)
                                BLAS.gemm(transposeB: true, m: m, n: h, k: d,
                                          a: x.baseAddress! + start * d, lda: d,
                                          b: w1.baseAddress!, ldb: d, c: z.baseAddress!, ldc: h)
                                for r in 0..<m {
                                    for j in 0..<h { z[r * h + j] = max(0, z[r * h + j] + foldedBias[j]) }
                                }
                                BLAS.gemm(transposeB: true, m: m, n: c, k: h, a: z.baseAddress!, lda: h,
                                          b: w2.baseAddress!, ldb: h, c: y.baseAddress! + start * c, ldc: c)
                                for r in 0..<m {
                                    for k in 0..<c { y[(start + r) * c + k] += parameters.outputBias[k] }
                                }
                                start += m
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Logits of one input vector computed the plain way — normalise, then both layers,
    /// in double precision, without the folded weights. A reference for checking the fast
    /// paths, not for bulk use.
    public func referenceLogits(vector: [Float]) throws(SegmenterError) -> [Float] {
        let p = parameters
        guard vector.count == p.inputCount else {
            throw .dimensionMismatch(what: "The input vector", got: "\(vector.count) values",
                                     expected: "\(p.inputCount)")
        }
        let scale = p.inputScale
        let normalised = (0..<p.inputCount).map { Double((vector[$0] - p.inputMean[$0]) * scale[$0]) }
        var hidden = [Double](repeating: 0, count: p.hiddenUnits)
        for j in 0..<p.hiddenUnits {
            var s = Double(p.hiddenBias[j])
            for i in 0..<p.inputCount { s += normalised[i] * Double(p.hiddenWeights[j * p.inputCount + i]) }
            hidden[j] = max(0, s)
        }
        return (0..<p.classCount).map { k in
            var s = Double(p.outputBias[k])
            for j in 0..<p.hiddenUnits { s += hidden[j] * Double(p.outputWeights[k * p.hiddenUnits + j]) }
            return Float(s)
        }
    }

    /// The predicted label (argmax of the logits; lowest label on ties) of every row of a
    /// training set.
    public func predictions(on set: SegmenterTrainingSet) throws(SegmenterError) -> [Int32] {
        guard set.dimension == parameters.inputCount, set.featureChannels == featureChannels else {
            throw .dimensionMismatch(what: "The training set rows",
                                     got: "\(set.featureChannels) + \(set.globalCount) values",
                                     expected: "\(featureChannels) + \(globalCount)")
        }
        let logits = try logits(rows: set.features)
        let c = classes.count
        return (0..<set.count).map { r in
            var best = 0
            for k in 1..<c where logits[r * c + k] > logits[r * c + best] { best = k }
            return Int32(best)
        }
    }

    /// Share of the set's points whose predicted label equals their label.
    public func accuracy(on set: SegmenterTrainingSet) throws(SegmenterError) -> Double {
        guard set.count > 0 else { return 0 }
        let predicted = try predictions(on: set)
        let correct = zip(predicted, set.labels).filter { $0 == $1 }.count
        return Double(correct) / Double(set.count)
    }

    // MARK: Files

    /// Writes the segmenter to an HDF5 file atomically (the old file stays intact until the
    /// new one is complete).
    ///
    /// Layout: datasets `hidden/kernel` `[hidden, inputs]`, `hidden/bias`, `output/kernel`
    /// `[classes, hidden]`, `output/bias`, `input/mean`, `input/std` (float32); root
    /// attributes `format` (``formatName``), `classes` (string array), `feature_rule`,
    /// `fingerprint`, `hypercolumn_channels`.
    ///
    /// ```swift
    /// var segmenter = trained
    /// segmenter.fingerprint = registry.classSetFingerprint
    /// try segmenter.save(to: "classes/segmenter.h5")
    /// ```
    ///
    /// - Throws: ``HDF5Error`` when the file cannot be written.
    public func save(to path: String) throws {
        let p = parameters
        try HDF5File.writeAtomically(to: path) { file in
            try file.writeFloats("hidden/kernel", p.hiddenWeights, shape: [p.hiddenUnits, p.inputCount])
            try file.writeFloats("hidden/bias", p.hiddenBias, shape: [p.hiddenUnits])
            try file.writeFloats("output/kernel", p.outputWeights, shape: [p.classCount, p.hiddenUnits])
            try file.writeFloats("output/bias", p.outputBias, shape: [p.classCount])
            try file.writeFloats("input/mean", p.inputMean, shape: [p.inputCount])
            try file.writeFloats("input/std", p.inputStd, shape: [p.inputCount])
            try file.setStringAttribute("format", Self.formatName)
            try file.setStringArrayAttribute("classes", classes)
            try file.setStringAttribute("feature_rule", featureRule)
            try file.setStringAttribute("fingerprint", fingerprint)
            try file.setFloatAttribute("hypercolumn_channels", Float(featureChannels))
        }
    }

    /// Loads a segmenter written by ``save(to:)``.
    ///
    /// ```swift
    /// let segmenter = try Segmenter(contentsOf: "classes/segmenter.h5")
    /// guard segmenter.fingerprint == expected else { /* stale: retrain */ }
    /// ```
    ///
    /// - Parameter featureRule: the rule the caller's features follow; a file trained on
    ///   another rule is refused.
    /// - Throws: ``SegmenterError/incompatibleFeatureRule(path:found:expected:)``,
    ///   ``SegmenterError/malformedFile(path:detail:)`` (not a segmenter file, missing or
    ///   inconsistent arrays), or ``HDF5Error`` (no such file, not HDF5, damaged).
    /// `displayPath` is the name used in messages when `path` is another way to reach the
    /// file (the registry reads a snapshot through `/proc/self/fd/N`).
    public init(contentsOf path: String, displayPath: String? = nil,
                featureRule expectedRule: String = FeatureGrid.ruleName) throws {
        let file = try HDF5File.open(path)
        defer { file.close() }
        let shownPath = displayPath ?? path
        func malformed(_ detail: String) -> SegmenterError { .malformedFile(path: shownPath, detail: detail) }
        switch try ModelFileHeader.check(file, kind: "segmenter", format: Self.formatName,
                                         required: ["classes", "fingerprint", "hypercolumn_channels"], featureRule: expectedRule) {
        case .malformed(let detail)?: throw malformed(detail)
        case .featureRule(let found)?:
            throw SegmenterError.incompatibleFeatureRule(path: shownPath, found: found, expected: expectedRule)
        case nil: break
        }
        let classes = try file.stringArrayAttribute("classes")
        let fingerprint = try file.stringAttribute("fingerprint")
        let channelsValue = try file.floatAttribute("hypercolumn_channels")
        // Checked before any conversion to Int: a value like 1e30 or NaN must be an error,
        // not a trap. The bound is re-checked against the input size below.
        guard channelsValue.isFinite, channelsValue >= 1, channelsValue <= 16_777_216,
              channelsValue == channelsValue.rounded() else {
            throw malformed("the attribute hypercolumn_channels is \(channelsValue), not a whole number from 1 to 16777216")
        }
        func read(_ name: String, rank: Int) throws -> (values: [Float], shape: [Int]) {
            guard file.contains(name) else { throw malformed("the dataset '\(name)' is missing") }
            let result = try file.readFloats(name)
            guard result.shape.count == rank else {
                throw malformed("'\(name)' has shape \(result.shape), expected rank \(rank)")
            }
            return result
        }
        let w1 = try read("hidden/kernel", rank: 2), b1 = try read("hidden/bias", rank: 1)
        let w2 = try read("output/kernel", rank: 2), b2 = try read("output/bias", rank: 1)
        let mean = try read("input/mean", rank: 1), std = try read("input/std", rank: 1)
        for (name, array) in [("hidden/kernel", w1), ("hidden/bias", b1), ("output/kernel", w2),
                              ("output/bias", b2), ("input/mean", mean), ("input/std", std)] {
            if let index = array.values.firstIndex(where: { !$0.isFinite }) {
                throw malformed("the dataset '\(name)' holds a non-finite value (\(array.values[index]) at index \(index))")
            }
        }
        guard Float(w1.shape[1]) >= channelsValue else {
            throw malformed("the attribute hypercolumn_channels is \(Int(channelsValue)), more than the \(w1.shape[1]) inputs of hidden/kernel")
        }
        let (h, d) = (w1.shape[0], w1.shape[1])
        guard w2.shape[1] == h, b1.shape == [h], b2.shape == [w2.shape[0]],
              mean.shape == [d], std.shape == [d] else {
            throw malformed("array shapes do not fit together: hidden/kernel \(w1.shape), hidden/bias "
                            + "\(b1.shape), output/kernel \(w2.shape), output/bias \(b2.shape), "
                            + "input/mean \(mean.shape), input/std \(std.shape)")
        }
        guard w2.shape[0] == classes.count else {
            throw malformed("output/kernel has \(w2.shape[0]) classes but the file names \(classes.count)")
        }
        let parameters = SegmenterParameters(
            inputCount: d, hiddenUnits: h, classCount: classes.count,
            hiddenWeights: w1.values, hiddenBias: b1.values, outputWeights: w2.values,
            outputBias: b2.values, inputMean: mean.values, inputStd: std.values)
        do {
            try self.init(classes: classes, parameters: parameters, featureChannels: Int(channelsValue),
                          featureRule: expectedRule, fingerprint: fingerprint)
        } catch {
            throw malformed(error.description)
        }
    }
}
