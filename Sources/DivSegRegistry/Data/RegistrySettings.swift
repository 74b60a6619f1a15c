import Foundation

/// Per-machine settings of a registry folder, in `<registry>/settings.json`: today only the
/// data root, the folder its bundles' corpus images are found in on this machine (written by
/// `divseg-registry config data-root DIR` or `--data-root DIR --remember`).
///
/// The file belongs to the machine, not to the registry's state: it is not part of any
/// bundle, the fingerprint or a transaction, and the shipped registry's copy is ignored by
/// git (`classes/settings.json`), so no machine path is ever committed. A relative
/// `dataRoot` in a hand-written file is taken relative to the registry folder.
///
/// ```swift
/// try RegistrySettings(dataRoot: "/data/coco-mini").write(registry: "classes")
/// let root = try RegistrySettings.read(registry: "classes").resolvedDataRoot(registry: "classes")
/// ```
public struct RegistrySettings: Codable, Sendable, Equatable {
    /// Folder that holds the corpus images (`<dataRoot>/<corpus.csv path>`), or nil.
    public var dataRoot: String?
    /// Where the registry's sample store is (``SampleStoreLocation``): `"inside"`
    /// (`<registry>/.samples`), `"cache"` (the feature cache folder's `samples/`), or a
    /// folder (relative to the registry); nil: the default (see ``SampleStoreLocation``).
    public var sampleStore: String?

    /// File name inside the registry folder.
    public static let fileName = "settings.json"

    public init(dataRoot: String? = nil, sampleStore: String? = nil) {
        self.dataRoot = dataRoot
        self.sampleStore = sampleStore
    }

    /// Where a registry's settings live.
    public static func path(registry: String) -> String {
        (registry as NSString).appendingPathComponent(fileName)
    }

    /// The settings of a registry; no file means no settings.
    ///
    /// - Throws: ``RegistryError/damagedSettings(path:reason:)`` for a file that is not
    ///   such a JSON object.
    public static func read(registry: String) throws -> RegistrySettings {
        let path = path(registry: registry)
        guard let data = FileManager.default.contents(atPath: path) else { return RegistrySettings() }
        do { return try JSONDecoder().decode(RegistrySettings.self, from: data) } catch {
            throw RegistryError.damagedSettings(path: path, reason: "not a JSON object like {\"dataRoot\": \"/data/coco-mini\"}")
        }
    }

    /// Writes the settings atomically (an empty value removes the file).
    public func write(registry: String) throws {
        let path = Self.path(registry: registry)
        if self == RegistrySettings() {
            if FileManager.default.fileExists(atPath: path) {
                do { try FileManager.default.removeItem(atPath: path) } catch {
                    throw RegistryError.writeFailed(path: path, reason: error.localizedDescription)
                }
            }
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { try DurableFile.writeAtomically(try encoder.encode(self), to: path) } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError.writeFailed(path: path, reason: "\(error)")
        }
    }

    /// The data root as a path usable from the current directory (relative values are
    /// relative to the registry folder).
    public func resolvedDataRoot(registry: String) -> String? {
        guard let dataRoot, !dataRoot.isEmpty else { return nil }
        if dataRoot.hasPrefix("/") { return dataRoot }
        return ((registry as NSString).appendingPathComponent(dataRoot) as NSString).standardizingPath
    }
}

extension RegistrySettings {
    /// Records `dataRoot` (made absolute: the file is this machine's, and a relative path
    /// would otherwise depend on the directory later commands run in) in a registry's
    /// settings, keeping its other settings.
    ///
    /// ```swift
    /// try RegistrySettings.remember(dataRoot: "../shared/data/coco-mini", registry: "classes")
    /// ```
    public static func remember(dataRoot: String?, registry: String) throws {
        var settings = (try? read(registry: registry)) ?? RegistrySettings()
        settings.dataRoot = dataRoot.map(absolute)
        try settings.write(registry: registry)
    }

    /// `path` from the current directory, standardized.
    public static func absolute(_ path: String) -> String { DataRoots.absolute(path) }
}
