import ArgumentParser
import DivSeg
import DivSegCore

/// The dense-CRF options of `segment` and `evaluate`.
struct CRFOptions: ParsableArguments {
    @Flag(name: .customLong("crf"), help: "Refine predictions with the dense CRF (Gaussian + bilateral kernels).")
    var enabled = false
    @Option(name: .customLong("crf-iterations"), parsing: .unconditional,
            help: "Mean-field iterations of the CRF, \(DenseCRFParameters.iterationsRange.boundText).")
    var iterations = DenseCRFParameters.segmenterDefault.iterations
    @Option(name: .customLong("crf-bilateral-weight"), parsing: .unconditional,
            help: "Weight of the CRF's bilateral (appearance) kernel, \(DenseCRFParameters.weightRange.boundText).")
    var bilateralWeight = DenseCRFParameters.segmenterDefault.bilateralWeight
    @Option(name: .customLong("crf-srgb"), parsing: .unconditional,
            help: "Colour standard deviation of the CRF's bilateral kernel in 8-bit RGB units, \(DenseCRFParameters.deviationRange.boundText).")
    var bilateralSRGB = DenseCRFParameters.segmenterDefault.bilateralSRGB
    @Option(name: .customLong("crf-logit-scale"), parsing: .unconditional,
            help: "Factor on the segmenter's logits before the CRF's unaries (above 1 sharpens them), \(DenseCRFParameters.logitScaleRange.boundText).")
    var logitScale = DenseCRFParameters.segmenterDefault.logitScale

    /// Checked whether or not `--crf` is given, so a bad value never waits for a later run.
    func validate() throws {
        try requireOption("crf-iterations", iterations, in: DenseCRFParameters.iterationsRange, "mean-field iterations")
        try requireOption("crf-bilateral-weight", bilateralWeight, in: DenseCRFParameters.weightRange, "kernel weight")
        try requireOption("crf-srgb", bilateralSRGB, in: DenseCRFParameters.deviationRange,
                          "colour standard deviation in 8-bit RGB units")
        try requireOption("crf-logit-scale", logitScale, in: DenseCRFParameters.logitScaleRange, "factor on the logits")
    }

    /// The CRF parameters when `--crf` is given, validated; nil otherwise.
    func parameters() throws -> DenseCRFParameters? {
        guard enabled else { return nil }
        var parameters = DenseCRFParameters.segmenterDefault
        parameters.iterations = iterations
        parameters.bilateralSRGB = bilateralSRGB
        parameters.bilateralWeight = bilateralWeight
        parameters.logitScale = logitScale
        do {
            try parameters.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        return parameters
    }
}
