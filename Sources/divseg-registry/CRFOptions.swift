import ArgumentParser
import DivSeg
import DivSegCore

/// The dense-CRF options of `segment` and `evaluate`: on by default (issue #11, lever 10),
/// off with `--no-crf` or with `--no-adjust` (the plain argmax) unless `--crf` is given.
struct CRFOptions: ParsableArguments {
    @Flag(name: .customLong("crf"), inversion: .prefixedNo,
          help: "Refine predictions with the dense CRF (Gaussian + bilateral kernels); on by default, off with --no-adjust unless --crf is given.")
    var enabled: Bool?
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
    @Option(name: .customLong("crf-resolution"), parsing: .unconditional,
            help: "Scale of the image the CRF runs on (1: every pixel, about four times the time of the default 0.5), \(DenseCRFParameters.resolutionRange.boundText).")
    var resolution = DenseCRFParameters.segmenterDefault.resolution

    /// Checked whether or not `--crf` is given, so a bad value never waits for a later run.
    func validate() throws {
        try requireOption("crf-iterations", iterations, in: DenseCRFParameters.iterationsRange, "mean-field iterations")
        try requireOption("crf-bilateral-weight", bilateralWeight, in: DenseCRFParameters.weightRange, "kernel weight")
        try requireOption("crf-srgb", bilateralSRGB, in: DenseCRFParameters.deviationRange,
                          "colour standard deviation in 8-bit RGB units")
        try requireOption("crf-logit-scale", logitScale, in: DenseCRFParameters.logitScaleRange, "factor on the logits")
        try requireOption("crf-resolution", resolution, in: DenseCRFParameters.resolutionRange, "scale of the image")
    }

    /// The CRF parameters, validated, or nil with `--no-crf`, and with `plain` (`--no-adjust`)
    /// unless `--crf` is given.
    func parameters(plain: Bool) throws -> DenseCRFParameters? {
        guard enabled ?? !plain else { return nil }
        var parameters = DenseCRFParameters.segmenterDefault
        parameters.iterations = iterations
        parameters.bilateralSRGB = bilateralSRGB
        parameters.bilateralWeight = bilateralWeight
        parameters.logitScale = logitScale
        parameters.resolution = resolution
        do {
            try parameters.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        return parameters
    }
}
