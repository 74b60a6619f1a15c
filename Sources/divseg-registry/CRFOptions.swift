import ArgumentParser
import DivSeg

/// The dense-CRF options of `segment` and `evaluate`.
struct CRFOptions: ParsableArguments {
    @Flag(name: .customLong("crf"), help: "Refine predictions with the dense CRF (Gaussian + bilateral kernels).")
    var enabled = false
    @Option(name: .customLong("crf-iterations"), help: "Mean-field iterations of the CRF.")
    var iterations = DenseCRFParameters().iterations
    @Option(name: .customLong("crf-bilateral-weight"), help: "Weight of the CRF's bilateral (appearance) kernel.")
    var bilateralWeight = DenseCRFParameters().bilateralWeight
    @Option(name: .customLong("crf-srgb"), help: "Colour standard deviation of the CRF's bilateral kernel (0...255 units).")
    var bilateralSRGB = DenseCRFParameters().bilateralSRGB

    /// The CRF parameters when `--crf` is given, validated; nil otherwise.
    func parameters() throws -> DenseCRFParameters? {
        guard enabled else { return nil }
        let parameters = DenseCRFParameters(iterations: iterations, bilateralSRGB: bilateralSRGB,
                                            bilateralWeight: bilateralWeight)
        do {
            try parameters.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        return parameters
    }
}
