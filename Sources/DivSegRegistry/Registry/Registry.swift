import DivSeg
import DivSegIO
import Foundation

/// A registry folder of class bundles (default `./classes`): discovers and validates bundles,
/// assigns label ids and locates the shared segmenter trained for them.
///
/// Problems are reported per bundle; healthy bundles are served regardless.
///
/// ```swift
/// let registry = try Registry.open("classes", backbone: backboneInfo)
/// for problem in registry.problems { print(problem) }
/// print(registry.labels)   // ["aeroplane": 1, …, "giraffe": 21]
/// ```
public struct Registry: Sendable {
    public let directory: String
    /// Healthy bundles, ordered by label id.
    public let bundles: [ClassBundle]
    /// Bundles that could not be used, with the reason.
    public let problems: [BundleError]
    /// Label id of every healthy class (background is 0).
    public let labels: [String: Int]

    /// File name of the shared segmenter inside the registry folder.
    public static let segmenterFileName = "segmenter.h5"
    /// Where the shared segmenter lives.
    public var segmenterPath: String { (directory as NSString).appendingPathComponent(Registry.segmenterFileName) }

    /// Class names in segmenter channel order: "background", then classes by label id.
    public var segmenterClasses: [String] { ["background"] + bundles.map(\.name) }
    /// Label id of each segmenter channel (0 for background).
    public var channelLabels: [UInt8] { [0] + bundles.map { UInt8(labels[$0.name]!) } }

    /// Opens a registry folder. A missing folder is an error; an empty one is a valid,
    /// empty registry.
    public static func open(_ directory: String, backbone: BundleManifest.BackboneInfo?) throws -> Registry {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RegistryError.notFound(directory)
        }
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        var bundles: [ClassBundle] = []
        var problems: [BundleError] = []
        for entry in entries where !entry.hasPrefix(".") && !entry.contains(".tmp-") && !entry.contains(".old-") {
            let path = (directory as NSString).appendingPathComponent(entry)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { continue }
            do {
                bundles.append(try ClassBundle(at: path, backbone: backbone))
            } catch let error as BundleError {
                problems.append(error)
            }
        }
        // Duplicate names or aliases: the first bundle (by directory name) keeps the name.
        var owners: [String: String] = [:]
        var unique: [ClassBundle] = []
        for bundle in bundles {
            let names = [bundle.name] + bundle.manifest.aliases.map(ClassNames.canonical)
            if let clash = names.first(where: { owners[$0] != nil }) {
                problems.append(.badManifest(bundle: bundle.directory, detail: "the name '\(clash)' is already used by bundle '\(owners[clash]!)'"))
                continue
            }
            for n in names { owners[n] = bundle.directory }
            unique.append(bundle)
        }
        let labels = assignLabels(unique)
        return Registry(directory: directory, bundles: unique.sorted { labels[$0.name]! < labels[$1.name]! },
                        problems: problems, labels: labels)
    }

    /// Background is 0; preferred ids are honoured when free; the rest get the next free id
    /// in name order.
    static func assignLabels(_ bundles: [ClassBundle]) -> [String: Int] {
        var labels: [String: Int] = [:]
        var used: Set<Int> = [0, 255]
        for bundle in bundles.sorted(by: { $0.name < $1.name }) {
            if let preferred = bundle.manifest.preferredLabel, preferred > 0, preferred < 255, !used.contains(preferred) {
                labels[bundle.name] = preferred
                used.insert(preferred)
            }
        }
        var next = 1
        for bundle in bundles.sorted(by: { $0.name < $1.name }) where labels[bundle.name] == nil {
            while used.contains(next) { next += 1 }
            labels[bundle.name] = next
            used.insert(next)
        }
        return labels
    }

    /// A fingerprint of the class set (names, label ids, localizer hashes): a segmenter
    /// trained for another fingerprint is stale.
    public var fingerprint: String {
        let lines = bundles.map { "\(labels[$0.name]!) \($0.name) \($0.manifest.localizer.sha256) \($0.manifest.scoreScale)" }
        return FileDigest.sha256(of: Data(lines.joined(separator: "\n").utf8))
    }

    /// The shared segmenter, if it was trained for exactly this class set.
    /// - Throws: ``RegistryError/noSegmenter(_:)`` or ``RegistryError/staleSegmenter(_:)``
    ///   (both tell the user to run `retrain`), or the segmenter file's own error.
    public func loadSegmenter() throws -> Segmenter {
        guard FileManager.default.fileExists(atPath: segmenterPath) else { throw RegistryError.noSegmenter(directory) }
        let segmenter = try Segmenter(contentsOf: segmenterPath)
        guard segmenter.fingerprint == fingerprint, segmenter.classes == segmenterClasses else {
            throw RegistryError.staleSegmenter(directory)
        }
        return segmenter
    }

    /// The class with a label id, if any ("background" for 0).
    public func className(label: Int) -> String? {
        label == 0 ? "background" : labels.first { $0.value == label }?.key
    }

    /// The VOC palette with each bundle's own colour at its label id.
    public var palette: ColorPalette {
        var palette = ColorPalette.voc
        for bundle in bundles where bundle.manifest.color.count == 3 {
            let c = bundle.manifest.color.map { UInt8(clamping: $0) }
            palette.setColor((r: c[0], g: c[1], b: c[2]), of: UInt8(labels[bundle.name]!))
        }
        return palette
    }

    /// The bundle of a class (by name or alias).
    public func bundle(named name: String) -> ClassBundle? {
        let canonical = ClassNames.canonical(name)
        return bundles.first { $0.name == canonical || $0.manifest.aliases.map(ClassNames.canonical).contains(canonical) }
    }
}

/// Registry-level failures.
public enum RegistryError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case noSegmenter(String)
    case staleSegmenter(String)
    case empty(String)

    public var description: String {
        switch self {
        case .notFound(let dir):
            return "No registry folder at '\(dir)'. Create it, or pass --registry DIR (or set DIVSEG_REGISTRY)."
        case .noSegmenter(let dir):
            return "The registry '\(dir)' has no trained segmenter yet. Run `divseg-registry retrain --registry \(dir)`."
        case .staleSegmenter(let dir):
            return "The segmenter in '\(dir)' was trained for another set of classes. Run `divseg-registry retrain --registry \(dir)` to bring it up to date."
        case .empty(let dir):
            return "The registry '\(dir)' has no usable class bundles. Add one with `divseg-registry train CLASS --dataset … --out \(dir)/CLASS`."
        }
    }
}
