import CDivSegKernels

/// Vectorised elementwise math on float buffers, at the ``SIMDKernels`` level.
public enum VectorMath {
    /// Replaces each of the `count` floats at `values` by its exponential. Cephes' `expf`
    /// scheme (range reduction by ln 2, a degree-7 polynomial, 2^n from the exponent bits):
    /// relative error below 1e-7 on [−87, 88]; inputs are clamped to [−87.3, 88], so the
    /// result is never 0 or infinite (NaN stays NaN).
    public static func exp(_ values: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count >= 0, "count must not be negative")
        ds_exp_inplace(values, count)
    }

    /// The mean-field update of `count` rows of `stride` floats (a positive multiple of 8,
    /// of which the first `labels` are used and the rest are 0 in both inputs):
    /// `out = p · exp(m − max m)` normalised to sum 1, for probabilities `p` and messages
    /// `m ≥ 0`. Rows whose products are all tiny (the top message on a label with
    /// p ≈ 0, the others more than 87 below it, where exp is clamped) are recomputed in the
    /// log domain. `out` may not overlap the inputs.
    public static func normalisedExponentialProducts(probabilities: UnsafePointer<Float>,
                                                     messages: UnsafePointer<Float>,
                                                     into out: UnsafeMutablePointer<Float>,
                                                     rows count: Int, stride: Int, labels: Int) {
        precondition(stride > 0 && stride % 8 == 0 && (0...stride).contains(labels) && count >= 0,
                     "rows of \(stride) floats must be a positive multiple of 8 holding \(labels) labels")
        ds_meanfield_normalise(out, messages, probabilities, count, stride, labels)
    }
}
