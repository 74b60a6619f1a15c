import Foundation

/// Where a registry's sample store lives (issue #13 point 10): by default in the feature
/// cache folder (`<cache>/samples/`), so the registry itself stays small and registries
/// sharing a cache share their picks (entries are keyed by content, see ``SampleKey``);
/// `inside` keeps it in the registry (`<registry>/.samples/`, e.g. to ship it with the
/// registry); or any folder. Recorded per registry in `settings.json`
/// (`divseg-registry config sample-store inside|cache|DIR`).
///
/// A registry that already has a `.samples/` folder and no setting keeps using it (stores
/// written by earlier versions stay in use; `config sample-store cache` moves nothing, the
/// old folder can be deleted or kept).
///
/// ```swift
/// let store = SampleStore(directory: try SampleStoreLocation.directory(registry: "classes",
///                                                                     cacheDirectory: ".divseg-cache/features"))
/// ```
public enum SampleStoreLocation {
    /// The setting's value for a store inside the registry.
    public static let inside = "inside"
    /// The setting's value for a store in the feature cache folder.
    public static let cache = "cache"
    /// Name of the store's folder inside the feature cache folder.
    public static let cacheFolderName = "samples"

    /// The store's folder for `registry`, given the feature cache folder in use.
    ///
    /// - Throws: ``RegistryError/damagedSettings(path:reason:)`` for an unreadable settings file.
    public static func directory(registry: String, cacheDirectory: String) throws -> String {
        let setting = try RegistrySettings.read(registry: registry).sampleStore
        return directory(registry: registry, cacheDirectory: cacheDirectory, setting: setting)
    }

    /// As ``directory(registry:cacheDirectory:)`` for a given setting.
    public static func directory(registry: String, cacheDirectory: String, setting: String?) -> String {
        let insideFolder = (registry as NSString).appendingPathComponent(SampleStore.folderName)
        let cacheFolder = (cacheDirectory as NSString).appendingPathComponent(cacheFolderName)
        switch setting {
        case inside?: return insideFolder
        case cache?: return cacheFolder
        case let folder? where !folder.isEmpty:
            return folder.hasPrefix("/") ? folder
                : ((registry as NSString).appendingPathComponent(folder) as NSString).standardizingPath
        default:
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: insideFolder, isDirectory: &isDirectory), isDirectory.boolValue {
                return insideFolder
            }
            return cacheFolder
        }
    }
}
