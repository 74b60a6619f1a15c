import DivSegCore
import Foundation

/// The code that runs the backbone's convolutions. Both give the same maps up to float
/// rounding: on VGG-16 both stay within 6e-4 of an independent reference (worst sampled
/// hypercolumn value), as the tests check.
///
/// ```swift
/// let vgg = try VGG16(contentsOf: weights, engine: .builtin)   // e.g. to compare speeds
/// ```
public enum ConvolutionEngine: String, Sendable, CaseIterable {
    /// oneDNN's direct convolutions, chosen by CPU features (AVX2, AVX-512, …) at run time.
    case oneDNN = "onednn"
    /// divseg's own Winograd F(2×2)/im2col layers (``Conv3x3``) over OpenBLAS GEMMs.
    case builtin

    /// oneDNN, unless the environment variable `DIVSEG_CONVOLUTION` names another engine
    /// (`builtin`), for comparisons.
    public static var `default`: ConvolutionEngine {
        ConvolutionEngine(rawValue: ProcessInfo.processInfo.environment["DIVSEG_CONVOLUTION"] ?? "") ?? .oneDNN
    }
}
