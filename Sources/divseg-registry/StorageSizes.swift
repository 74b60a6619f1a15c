import DivSegRegistry
import Foundation

/// Disk used by a registry and its sample store, as `list` and `verify` report it (text and `--json`).
struct StorageSizes: Encodable {
    /// The registry folder without the sample store (bundles, segmenter, labels).
    var registryBytes: Int64
    var sampleStore: String
    var sampleStoreBytes: Int64
    var sampleStoreFiles: Int

    init(registry: String, sampleStore: String) {
        let store = DiskUsage.of(sampleStore)
        let all = DiskUsage.of(registry)
        let standardized = { (path: String) in ((path as NSString).standardizingPath as NSString).resolvingSymlinksInPath }
        let inside = standardized(sampleStore).hasPrefix(standardized(registry) + "/")
        registryBytes = all.bytes - (inside ? store.bytes : 0)
        self.sampleStore = sampleStore
        sampleStoreBytes = store.bytes
        sampleStoreFiles = store.files
    }

    var text: String {
        "disk: registry \(DiskUsage.text(registryBytes)); sample store \(DiskUsage.text(sampleStoreBytes)) "
            + "(\(sampleStoreFiles) files) in \(sampleStore)"
    }
}
