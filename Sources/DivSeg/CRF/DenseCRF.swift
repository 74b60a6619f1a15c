import DivSegCore
import DivSegIO

/// A fully connected CRF on top of the segmenter (Krähenbühl & Koltun, "Efficient Inference
/// in Fully Connected CRFs with Gaussian Edge Potentials", 2011; TheMethod.md "Prediction"):
/// unaries U = −log p from the segmenter's probabilities at full image resolution, Potts
/// compatibility, a smoothness (position) and an appearance (position + RGB) Gaussian kernel,
/// and mean-field inference with the kernels evaluated on permutohedral lattices
/// (``PermutohedralLattice``), in time linear in the pixels. It reproduces the reference
/// implementation (and pydensecrf): symmetric kernel normalisation, each pixel's own kernel
/// term kept, Q₀ = p.
///
/// ```swift
/// let logits = try pipeline.logits(image)                              // [21, 64, 84]
/// let crf = try DenseCRF()                                             // defaults: 10 iterations
/// let labels = try crf.labels(image: image, logits: logits)            // full-size LabelMap
///
/// // or with probabilities you already have at full resolution:
/// let p = LabelUpsampler.probabilities(fromLogits: logits, height: image.height, width: image.width)
/// let marginals = try crf.infer(image: image, probabilities: p)        // [21, H, W]
/// ```
///
/// Cost: two lattices per image (built once, reused by every label and iteration) and per
/// iteration a splat, d+1 blurs and a slice per kernel over all labels at once. 500×375 px,
/// 21 labels, 10 iterations: 0.32 s on one core (pydensecrf2: 0.57 s), 0.17 s on two free
/// cores (docs/BENCHMARKS.md, "Dense CRF"). Memory: besides input and output, two
/// `pixels × labels` float buffers (labels padded to a multiple of 8) and the lattices.
public struct DenseCRF: Sendable {
    public let parameters: DenseCRFParameters
    /// Whether to use all cores (``Parallel``); false runs on the calling thread only.
    public var parallel: Bool

    /// - Throws: ``DenseCRFError/invalidParameter(name:value:requirement:)`` when `parameters`
    ///   are out of range.
    public init(parameters: DenseCRFParameters = DenseCRFParameters(), parallel: Bool = true) throws(DenseCRFError) {
        try parameters.validate()
        self.parameters = parameters
        self.parallel = parallel
    }

    /// The marginals after `parameters.iterations` mean-field updates.
    ///
    /// - Parameters:
    ///   - probabilities: `[labels, image.height, image.width]`, e.g. a softmax; each pixel's
    ///     values are normalised to sum to 1.
    ///   - observer: called with the marginals before the first update (iteration 0) and
    ///     after each update; building that tensor costs a pass over the marginals, so pass
    ///     nil unless you need them.
    /// - Returns: `[labels, image.height, image.width]`, summing to 1 per pixel.
    /// - Throws: ``DenseCRFError`` for an empty image, a shape that does not match the image,
    ///   or unusable probabilities.
    public func infer(image: Image, probabilities: Tensor,
                      observer: ((_ iteration: Int, _ marginals: Tensor) -> Void)? = nil) throws(DenseCRFError) -> Tensor {
        let state = try prepare(image: image, probabilities: probabilities)
        run(state, observer: observer)
        return state.marginalsTensor()
    }

    /// ``infer(image:probabilities:observer:)`` on a flat `[labelCount, height, width]` array.
    public func infer(image: Image, probabilities: [Float], labelCount: Int) throws(DenseCRFError) -> [Float] {
        guard labelCount > 0, probabilities.count == labelCount * image.width * image.height else {
            throw .sizeMismatch(what: "The probability array", got: "\(probabilities.count) values",
                                expected: "\(labelCount) × \(image.height) × \(image.width)")
        }
        return try infer(image: image, probabilities: Tensor(shape: [labelCount, image.height, image.width],
                                                             scalars: probabilities)).scalars
    }

    /// The most probable label of each pixel after inference, as a label map of the image's
    /// size: `labelIDs[c]` for channel c (default: c); ties go to the lowest channel.
    public func labels(image: Image, probabilities: Tensor, labelIDs: [UInt8]? = nil) throws(DenseCRFError) -> LabelMap {
        let ids = try Self.ids(labelIDs, channels: probabilities.rank == 3 ? probabilities.shape[0] : 0)
        let state = try prepare(image: image, probabilities: probabilities)
        run(state, observer: nil)
        return LabelMap(width: image.width, height: image.height, labels: state.argmax(labelIDs: ids))
    }

    /// Segmenter logits on the feature grid (`[C, h, w]`) → bilinear upsampling to the image
    /// size and softmax (``LabelUpsampler/probabilities(fromLogits:height:width:antialias:)``)
    /// → inference → label map, the logits multiplied by ``DenseCRFParameters/logitScale``
    /// first. With ``DenseCRFParameters/resolution`` below 1, inference runs on the shrunk
    /// image and the marginals are enlarged bilinearly before the argmax. What
    /// ``SegmentationPipeline`` does when it has a CRF.
    public func labels(image: Image, logits: Tensor, labelIDs: [UInt8]? = nil) throws(DenseCRFError) -> LabelMap {
        let reduced = try reducedInput(image: image, logits: logits)
        guard reduced.image.width != image.width || reduced.image.height != image.height else {
            return try reduced.crf.labels(image: image, probabilities: reduced.probabilities, labelIDs: labelIDs)
        }
        let ids = try Self.ids(labelIDs, channels: logits.shape[0])
        let marginals = try reduced.crf.infer(image: reduced.image, probabilities: reduced.probabilities)
        return LabelUpsampler.labels(fromLogits: marginals, height: image.height, width: image.width, labelIDs: ids)
    }

    /// The marginals of ``labels(image:logits:labelIDs:)`` at the image's size,
    /// `[C, image.height, image.width]` (28 MB for 23 classes at 640×480): what
    /// ``Segmentation`` keeps for its probability maps. With ``DenseCRFParameters/resolution``
    /// below 1 they are enlarged bilinearly (and still sum to 1 per pixel).
    ///
    /// ```swift
    /// let p = try DenseCRF().marginals(image: image, logits: pipeline.logits(image))
    /// ```
    public func marginals(image: Image, logits: Tensor) throws(DenseCRFError) -> Tensor {
        let reduced = try reducedInput(image: image, logits: logits)
        let marginals = try reduced.crf.infer(image: reduced.image, probabilities: reduced.probabilities)
        guard reduced.image.width != image.width || reduced.image.height != image.height else { return marginals }
        return Resampler.resize(marginals, height: image.height, width: image.width)
    }

    /// `labelIDs`, or the channel numbers, checked against the channel count.
    private static func ids(_ labelIDs: [UInt8]?, channels: Int) throws(DenseCRFError) -> [UInt8] {
        guard channels <= 256 else {
            throw .sizeMismatch(what: "The label count", got: "\(channels)", expected: "at most 256 (UInt8 labels)")
        }
        let ids = labelIDs ?? (0..<channels).map { UInt8($0) }
        guard ids.count == channels else {
            throw .sizeMismatch(what: "labelIDs", got: "\(ids.count) ids", expected: "one per channel (\(channels))")
        }
        return ids
    }

    /// The image inference runs on (shrunk by ``DenseCRFParameters/resolution``), the
    /// probabilities there, and a CRF whose positional deviations are shrunk alike.
    private func reducedInput(image: Image, logits: Tensor) throws(DenseCRFError)
        -> (image: Image, probabilities: Tensor, crf: DenseCRF) {
        guard logits.rank == 3, logits.shape.allSatisfy({ $0 > 0 }) else {
            throw .sizeMismatch(what: "The logits", got: "shape \(logits.shape)", expected: "[C, h, w] with C, h, w > 0")
        }
        guard image.width > 0, image.height > 0 else { throw .emptyImage }
        let scale = parameters.logitScale
        let scaled = scale == 1 ? logits : Tensor(shape: logits.shape, scalars: logits.scalars.map { $0 * scale })
        let r = parameters.resolution
        let height = max(1, Int((Float(image.height) * r).rounded()))
        let width = max(1, Int((Float(image.width) * r).rounded()))
        var input = image, crf = self
        if height != image.height || width != image.width {
            input = image.resized(height: height, width: width)
            // The kernels cover the same part of the scene: positions shrink with the image.
            let shrink = (Float(width) / Float(image.width) + Float(height) / Float(image.height)) / 2
            let lowest = DenseCRFParameters.deviationRange.lowerBound
            var reduced = parameters
            reduced.gaussianSXY = max(lowest, parameters.gaussianSXY * shrink)
            reduced.bilateralSXY = max(lowest, parameters.bilateralSXY * shrink)
            crf = try DenseCRF(parameters: reduced, parallel: parallel)
        }
        return (input, LabelUpsampler.probabilities(fromLogits: scaled, height: height, width: width), crf)
    }

    /// The mean-field free energy F(Q) = E_Q[E(x)] − H(Q) of `marginals` (up to a constant):
    /// Σ_i Σ_l Q_i(l)(U_i(l) + log Q_i(l)) + ½ Σ_k w_k Σ_i,j K̃_k(i, j)(1 − Q_i·Q_j), with
    /// U = −log p and the lattice-filtered, normalised kernels K̃ that inference uses. The
    /// updates are its fixed-point iteration (concave-convex: the Potts term with Gaussian
    /// kernels is concave), so F falls from one iteration to the next — what the tests check.
    /// Builds the lattices afresh: meant for tests and diagnostics, not hot loops.
    public func energy(image: Image, probabilities: Tensor, marginals: Tensor) throws(DenseCRFError) -> Double {
        let state = try prepare(image: image, probabilities: probabilities)
        guard marginals.shape == probabilities.shape else {
            throw .sizeMismatch(what: "The marginals", got: "shape \(marginals.shape)", expected: "\(probabilities.shape)")
        }
        marginals.scalars.withUnsafeBufferPointer { state.loadMarginals($0.baseAddress!) }
        return state.energy()
    }

    private func prepare(image: Image, probabilities: Tensor) throws(DenseCRFError) -> MeanFieldState {
        guard image.width > 0, image.height > 0 else { throw .emptyImage }
        guard probabilities.rank == 3, probabilities.shape[0] > 0,
              probabilities.shape[1] == image.height, probabilities.shape[2] == image.width else {
            throw .sizeMismatch(what: "The probabilities", got: "shape \(probabilities.shape)",
                                expected: "[labels, \(image.height), \(image.width)]")
        }
        return try probabilities.scalars.withUnsafeBufferPointer { buffer throws(DenseCRFError) in
            try MeanFieldState(image: image, probabilities: buffer, labelCount: probabilities.shape[0],
                               parameters: parameters, parallel: parallel)
        }
    }

    private func run(_ state: MeanFieldState, observer: ((Int, Tensor) -> Void)?) {
        state.run(iterations: parameters.iterations, observer: observer)
    }
}
