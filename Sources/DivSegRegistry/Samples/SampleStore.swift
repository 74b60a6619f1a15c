import DivSegIO
import Foundation

/// The sample store of a registry (`<registry>/.samples/`): the picked points of earlier
/// retrainings, so that adding or removing a class re-samples only the images whose key
/// changed (BundlesAndRegistries.md, ``SampleKey``).
///
/// It is a cache: not part of the registry's state or fingerprint, absent from a fresh
/// clone, safe to delete. An entry that is missing, unreadable or written for another key
/// is recomputed, never fatal; a write that fails is logged and training goes on.
///
/// Each entry is an HDF5 file `v1/<fg|bg>/<first two hex digits>/<key digest>.h5` with
/// datasets `locations` (`[k]`), the rows — `mask` and `values` (``SparseHalfRows``,
/// `encoding = "float16-sparse"`) when every value fits half precision, else `features`
/// (`[k, 4224]`, float32); entries of older builds (`encoding = "float16"`, `features` in
/// float16) are still read — and `global` (float32), and attributes `format`, `key` (the
/// full ``SampleKey`` text), `class` and `count`. An image's dense labels (336 rows) take
/// ≈1.3 MB.
///
/// ```swift
/// let store = SampleStore(registry: "classes")
/// if case .hit(let picks) = store.read(key) { print(picks.locations) }
/// store.write(picks, for: key)
/// ```
public struct SampleStore: Sendable {
    /// The store's folder.
    public let directory: String
    /// Receives one line per damaged entry or failed write.
    public var log: (@Sendable (String) -> Void)?

    /// Name of the store's folder inside a registry.
    public static let folderName = ".samples"
    /// The `format` attribute of entries.
    public static let formatName = "divseg-samples-1"

    /// The store of a registry folder.
    public init(registry: String) {
        self.init(directory: (registry as NSString).appendingPathComponent(Self.folderName))
    }

    /// A store in any folder (created when the first entry is written).
    public init(directory: String) {
        self.directory = directory
    }

    /// What a lookup found.
    public enum Lookup: Sendable, Equatable {
        case hit(SamplePicks)
        case missing
        /// There is an entry but it cannot be used (the reason); recompute and overwrite it.
        case damaged(String)
    }

    /// Where the entry of `key` lives.
    public func path(for key: SampleKey) -> String {
        let digest = key.digest
        return [directory, "v1", key.kind.rawValue, String(digest.prefix(2)), digest + ".h5"]
            .reduce("") { $0.isEmpty ? $1 : ($0 as NSString).appendingPathComponent($1) }
    }

    /// Whether an entry for `key` exists (not whether it is sound: ``read(_:channels:locationCount:)``
    /// checks that). Decides which training images need their file before any is read.
    public func contains(_ key: SampleKey) -> Bool {
        FileManager.default.fileExists(atPath: path(for: key))
    }

    /// Reads the entry of `key`, checking that it was written for this key and that its
    /// arrays are consistent (`channels` values per row, locations below `locationCount`).
    public func read(_ key: SampleKey, channels: Int, locationCount: Int) -> Lookup {
        let path = path(for: key)
        guard FileManager.default.fileExists(atPath: path) else { return .missing }
        do {
            let file = try HDF5File.open(path)
            defer { file.close() }
            guard (try? file.stringAttribute("format")) == Self.formatName else { return .damaged("not a sample-store entry") }
            guard (try? file.stringAttribute("key")) == key.text else { return .damaged("written for another key") }
            // Checked before the conversion to Int, which traps on NaN or huge values.
            let rawCount = try file.floatAttribute("count")
            guard rawCount.isFinite, rawCount >= 0, rawCount <= Float(locationCount), rawCount == rawCount.rounded() else {
                return .damaged("its count attribute is \(rawCount), not a whole number from 0 to \(locationCount)")
            }
            let count = Int(rawCount)
            let global = try file.readFloats("global").values
            guard global.allSatisfy(\.isFinite) else { return .damaged("non-finite global descriptor") }
            if count == 0 {
                return .hit(SamplePicks(locations: [], rows: [], channels: channels, global: global, isHalfPrecision: true))
            }
            let locations = try file.readFloats("locations")
            let encoding = try? file.stringAttribute("encoding")
            let features: (values: [Float], shape: [Int])
            if encoding == SparseHalfRows.encodingName {
                // Entries written since the compact form: decoded to the same rows bit for bit.
                do {
                    features = (try SparseHalfRows.decode(mask: try file.readFloats("mask").values,
                                                          values: try file.readFloats("values").values,
                                                          count: count * channels), [count, channels])
                } catch let error as SparseHalfRows.DecodeError {
                    return .damaged("sparse rows that do not decode (\(error.description))")
                }
            } else {
                features = try file.readFloats("features")
            }
            guard locations.shape == [count], features.shape == [count, channels] else {
                return .damaged("arrays of shapes \(locations.shape) and \(features.shape), expected [\(count)] and [\(count), \(channels)]")
            }
            guard locations.values.allSatisfy({ $0 >= 0 && $0 < Float(locationCount) && $0 == $0.rounded() }) else {
                return .damaged("a location outside the grid")
            }
            guard features.values.allSatisfy(\.isFinite) else { return .damaged("non-finite features") }
            let half = encoding == "float16" || encoding == SparseHalfRows.encodingName
            return .hit(SamplePicks(locations: locations.values.map { Int($0) }, rows: features.values,
                                    channels: channels, global: global, isHalfPrecision: half))
        } catch {
            return .damaged("unreadable (\(error))")
        }
    }

    /// Stores `picks` under `key`, atomically. Returns false (after logging) when the entry
    /// cannot be written.
    @discardableResult
    public func write(_ picks: SamplePicks, for key: SampleKey, className: String? = nil) -> Bool {
        let path = path(for: key)
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try HDF5File.writeAtomically(to: path) { file in
                try file.setStringAttribute("format", Self.formatName)
                try file.setStringAttribute("key", key.text)
                try file.setStringAttribute("class", className ?? "background")
                try file.setStringAttribute("encoding", picks.isHalfPrecision ? SparseHalfRows.encodingName : "float32")
                try file.setFloatAttribute("count", Float(picks.count))
                try file.writeFloats("global", picks.global, shape: [picks.global.count])
                if picks.count > 0 {
                    try file.writeFloats("locations", picks.locations.map(Float.init), shape: [picks.count])
                    if picks.isHalfPrecision {
                        let packed = SparseHalfRows.encode(picks.rows)
                        try file.writeFloats("mask", packed.mask, shape: [packed.mask.count])
                        try file.writeFloats("values", packed.values, shape: [packed.values.count])
                    } else {
                        try file.writeFloats("features", picks.rows, shape: [picks.count, picks.channels], storage: .float32)
                    }
                }
            }
            return true
        } catch {
            log?("sample store: cannot write '\(path)': \(error)")
            return false
        }
    }

    /// Number of entries (foreground + background).
    public func entryCount() -> Int {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return 0 }
        var count = 0
        while let name = enumerator.nextObject() as? String {
            if name.hasSuffix(".h5") { count += 1 }
        }
        return count
    }
}
