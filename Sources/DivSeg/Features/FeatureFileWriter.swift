import DivSegCore
import DivSegIO
import Foundation

/// Writes the features of images as HDF5 files: datasets `hypercolumn` (float32,
/// `[4224, 64, 84]`, channel-major) and `global` (float32), plus attributes naming the
/// construction rule and the source image. Files are written atomically.
///
/// ```swift
/// let writer = FeatureFileWriter(extractor: extractor)
/// try writer.write(imageAt: "cat.jpg", to: "cat.h5")
/// ```
public struct FeatureFileWriter: Sendable {
    public let extractor: HypercolumnExtractor

    public init(extractor: HypercolumnExtractor) { self.extractor = extractor }

    /// Decodes one image, computes its features and writes them to `path`.
    @discardableResult
    public func write(imageAt imagePath: String, to path: String) throws -> Hypercolumns {
        let image = try ImageDecoder.decodeRGB(contentsOf: imagePath)
        let features = extractor.extract(from: image)
        try FeatureFileWriter.write(features, source: imagePath, originalSize: (image.height, image.width), to: path)
        return features
    }

    /// Writes already computed features.
    public static func write(_ features: Hypercolumns, source: String, originalSize: (height: Int, width: Int),
                             to path: String) throws {
        try HDF5File.writeAtomically(to: path) { file in
            try file.writeFloats("hypercolumn", features.features.scalars, shape: features.features.shape)
            try file.writeFloats("global", features.global, shape: [features.global.count])
            try file.setStringAttribute("feature_rule", FeatureGrid.ruleName)
            try file.setStringAttribute("source_image", source)
            try file.setStringArrayAttribute("original_size", ["\(originalSize.height)", "\(originalSize.width)"])
        }
    }

    /// Output files for `images`: `out` itself for a single image (unless it is an existing
    /// directory), otherwise `out/<image name>.h5`; the directory is created if needed.
    public static func outputPaths(for images: [String], out: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory)
        if images.count == 1 && !(exists && isDirectory.boolValue) {
            return [out]
        }
        if exists && !isDirectory.boolValue {
            throw OutputError.notADirectory(out)
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var seen: [String: String] = [:]
        return try images.map { image in
            let name = URL(fileURLWithPath: image).deletingPathExtension().lastPathComponent + ".h5"
            if let other = seen[name] { throw OutputError.nameClash(name, other, image) }
            seen[name] = image
            return (out as NSString).appendingPathComponent(name)
        }
    }

    /// Problems with the output location.
    public enum OutputError: Error, CustomStringConvertible, Equatable {
        case notADirectory(String)
        case nameClash(String, String, String)
        public var description: String {
            switch self {
            case .notADirectory(let path):
                return "--out '\(path)' is a file, but several images need a directory."
            case .nameClash(let name, let a, let b):
                return "'\(a)' and '\(b)' would both be written to \(name); process them into separate directories."
            }
        }
    }
}
