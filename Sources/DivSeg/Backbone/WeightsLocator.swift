import Foundation

/// Finds the VGG-16 weights file: an explicit path, else `$DIVSEG_WEIGHTS`, else the usual
/// places relative to the working directory (`models/`, `../shared/models/`).
///
/// ```swift
/// let path = try WeightsLocator.resolve(nil)   // "../shared/models/vgg16_imagenet_notop.h5"
/// ```
public enum WeightsLocator {
    /// The file name of the Keras ImageNet VGG-16 convolution weights.
    public static let fileName = "vgg16_imagenet_notop.h5"

    /// Where the weights are looked for when no path is given, in order.
    public static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var paths: [String] = []
        if let env = environment["DIVSEG_WEIGHTS"], !env.isEmpty { paths.append(env) }
        paths += ["models/\(fileName)", "../shared/models/\(fileName)", "shared/models/\(fileName)"]
        return paths
    }

    /// The path to use, or an error telling the user how to obtain the file.
    public static func resolve(_ explicit: String?,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let explicit {
            guard FileManager.default.fileExists(atPath: explicit) else { throw Missing(searched: [explicit]) }
            return explicit
        }
        let searched = candidates(environment: environment)
        if let found = searched.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw Missing(searched: searched)
    }

    /// No weights file was found.
    public struct Missing: Error, CustomStringConvertible, Equatable {
        public let searched: [String]
        public var description: String {
            "VGG-16 weights not found (looked at: \(searched.joined(separator: ", "))). Pass --weights PATH "
                + "or set DIVSEG_WEIGHTS. The file is Keras's vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 "
                + "(ImageNet VGG-16 convolution weights); see README.md, \"Getting the weights\"."
        }
    }
}
