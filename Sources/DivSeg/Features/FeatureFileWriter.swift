import DivSegCore
import DivSegIO
import Foundation

/// Writes the features of images as HDF5 files: datasets `hypercolumn` (`[4224, 64, 84]`,
/// channel-major) and `global`, plus attributes naming the construction rule and the source
/// image. Files are written atomically.
///
/// `storage` is the element type on disk: float16 (the default) halves the 90 MB a float32
/// hypercolumn file takes — writing it cost more than the backbone itself — at about three
/// significant digits; float32 keeps the values exactly (for comparisons with a reference).
///
/// ```swift
/// let writer = FeatureFileWriter(extractor: extractor, storage: .float32)
/// try writer.write(imageAt: "cat.jpg", to: "cat.h5")
/// ```
public struct FeatureFileWriter: Sendable {
    public let extractor: HypercolumnExtractor
    public let storage: HDF5Storage

    public init(extractor: HypercolumnExtractor, storage: HDF5Storage = .float16) {
        self.extractor = extractor
        self.storage = storage
    }

    /// Decodes one image, computes its features and writes them to `path`.
    @discardableResult
    public func write(imageAt imagePath: String, to path: String) throws -> Hypercolumns {
        let image = try ImageDecoder.decodeRGB(contentsOf: imagePath)
        let features = extractor.extract(from: image)
        try FeatureFileWriter.write(features, source: imagePath, originalSize: (image.height, image.width),
                                    to: path, storage: storage)
        return features
    }

    /// Computes and writes the features of many images, in order, writing one image's file
    /// while the next image is computed: the write and its fsync wait on the disk, not on the
    /// CPU. At most one finished image waits to be written (one extra hypercolumn in memory).
    /// Returns each image's error, nil where its file was written; `afterEach` runs on the
    /// calling thread once an image's features are computed (or failed).
    public func write(images: [String], to targets: [String],
                      afterEach: (Int) -> Void = { _ in }) -> [Error?] {
        precondition(images.count == targets.count, "one target per image")
        let failures = FailureList(count: images.count)
        let writer = DispatchQueue(label: "divseg.features.writer")
        let slot = DispatchSemaphore(value: 1)
        let storage = self.storage
        for (index, (imagePath, target)) in zip(images, targets).enumerated() {
            do {
                let image = try ImageDecoder.decodeRGB(contentsOf: imagePath)
                let features = extractor.extract(from: image)
                let size = (height: image.height, width: image.width)
                slot.wait()
                writer.async {
                    defer { slot.signal() }
                    do {
                        try FeatureFileWriter.write(features, source: imagePath, originalSize: size, to: target,
                                                    storage: storage)
                    } catch {
                        failures.set(index, error)
                    }
                }
            } catch {
                failures.set(index, error)
            }
            afterEach(index)
        }
        writer.sync {}
        return failures.all
    }

    /// Errors recorded by the writer thread and the caller's thread.
    private final class FailureList: @unchecked Sendable {
        private let lock = NSLock()
        private var errors: [Error?]
        init(count: Int) { errors = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ error: Error) { lock.lock(); errors[index] = error; lock.unlock() }
        var all: [Error?] { lock.lock(); defer { lock.unlock() }; return errors }
    }

    /// Writes already computed features.
    public static func write(_ features: Hypercolumns, source: String, originalSize: (height: Int, width: Int),
                             to path: String, storage: HDF5Storage = .float16) throws {
        try HDF5File.writeAtomically(to: path) { file in
            try file.writeFloats("hypercolumn", features.features.scalars, shape: features.features.shape,
                                 storage: storage)
            try file.writeFloats("global", features.global, shape: [features.global.count], storage: storage)
            try file.setStringAttribute("feature_rule", FeatureGrid.ruleName)
            try file.setStringAttribute("source_image", source)
            try file.setStringArrayAttribute("original_size", ["\(originalSize.height)", "\(originalSize.width)"])
        }
    }

    /// Output files for `images`: `out` itself for a single image (unless it is an existing
    /// directory), otherwise `out/<image name>.h5`; the directory is created if needed.
    /// Throws before anything is written if two images share a name, an output is an input
    /// (``OutputClashError``), or an output is a device, FIFO or directory (``FileAccessError``).
    public static func outputPaths(for images: [String], out: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory)
        if images.count == 1 && !(exists && isDirectory.boolValue) {
            try OutputPlan.check([(input: images[0], output: out)])
            return [out]
        }
        if exists && !isDirectory.boolValue {
            throw OutputError.notADirectory(out)
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var seen: [String: String] = [:]
        let paths = try images.map { image in
            let name = URL(fileURLWithPath: image).deletingPathExtension().lastPathComponent + ".h5"
            if let other = seen[name] { throw OutputError.nameClash(name, other, image) }
            seen[name] = image
            return (out as NSString).appendingPathComponent(name)
        }
        // Every output against every input (an image may itself be an .h5 name in `out`),
        // and each one a place a regular file may go — all before anything is computed.
        try OutputPlan.check(Array(zip(images, paths)).map { (input: $0.0, output: $0.1) })
        return paths
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
