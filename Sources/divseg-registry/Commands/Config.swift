import ArgumentParser
import DivSegRegistry
import Foundation

extension DivSegRegistry {
    /// `divseg-registry config data-root [DIR | --unset] [--registry DIR]`.
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or change the registry's settings on this machine (settings.json).",
            subcommands: [DataRoot.self, SampleStoreSetting.self])

        /// `config sample-store [inside | cache | DIR | --unset]`: where the sample store is.
        struct SampleStoreSetting: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "sample-store",
                abstract: "Show or set where the registry's sample store is: inside, cache or a folder.",
                discussion: """
                    The sample store keeps each corpus image's training rows (≈1.3 MB per image with the \
                    default dense labels). Default: <cache>/\(SampleStoreLocation.cacheFolderName) (the \
                    feature cache folder, --cache or $DIVSEG_CACHE), unless the registry already has a \
                    \(SampleStore.folderName) folder, which stays in use. 'inside' keeps it in \
                    <registry>/\(SampleStore.folderName) (to ship it with the registry); a folder is taken \
                    relative to the registry. Nothing is moved: entries in the old place are recomputed or \
                    can be copied; 'divseg-registry gc' lists what no class uses.
                    """)

            @Argument(help: "inside, cache, or a folder (omit to show the current place).") var place: String?
            @Flag(help: "Remove the setting (back to the default).") var unset = false
            @OptionGroup var registryOptions: RegistryOptions
            @OptionGroup var cacheOptions: CacheOptions
            @Flag(help: "Print the result as JSON ({registry, sampleStore, setting}) instead of text.") var json = false

            func validate() throws {
                if unset && place != nil { throw ValidationError("Pass a place or --unset, not both.") }
                if let place, place.isEmpty { throw ValidationError("The place is empty; pass inside, cache or a folder.") }
            }

            func run() throws {
                let registry = registryOptions.directory
                guard FileManager.default.fileExists(atPath: registry) else { throw RegistryError.notFound(registry) }
                if unset || place != nil {
                    var settings = try RegistrySettings.read(registry: registry)
                    settings.sampleStore = unset ? nil : place
                    try settings.write(registry: registry)
                }
                let folder = try cacheOptions.sampleStoreDirectory(registry: registry)
                let setting = try RegistrySettings.read(registry: registry).sampleStore ?? "default"
                if json {
                    struct Output: Encodable { var registry: String; var sampleStore: String; var setting: String }
                    try JSONOutput.print(Output(registry: registry, sampleStore: folder, setting: setting))
                } else {
                    print("sample store of \(registry): \(folder) (setting: \(setting))")
                }
            }
        }

        /// `config data-root`: where this registry's corpus images are on this machine.
        struct DataRoot: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "data-root",
                abstract: "Show, set or unset the folder that holds the registry's corpus images.",
                discussion: """
                    Bundles record only their corpus (e.g. coco:coco-mini) and each image's path \
                    relative to its folder with its SHA-256. Commands that retrain look for the \
                    images in: --data-root, $DIVSEG_DATA_ROOT, this setting, then \
                    $DIVSEG_SHARED/data/<corpus> and ../shared/data/<corpus>. The setting is kept \
                    in <registry>/settings.json (an absolute path of this machine; do not commit it).
                    """)

            @Argument(help: "The data root to record (omit to show the current one).") var directory: String?
            @Flag(help: "Remove the recorded data root.") var unset = false
            @OptionGroup var registryOptions: RegistryOptions
            @Flag(help: "Print the result as JSON ({registry, dataRoot, settings}; dataRoot null when none is recorded) instead of text.") var json = false

            func validate() throws {
                if unset && directory != nil { throw ValidationError("Pass a directory or --unset, not both.") }
            }

            func run() throws {
                let registry = registryOptions.directory
                guard FileManager.default.fileExists(atPath: registry) else { throw RegistryError.notFound(registry) }
                let message: String
                if unset {
                    try RegistrySettings.remember(dataRoot: nil, registry: registry)
                    message = "data root unset for \(registry)"
                } else if let directory {
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                        throw ValidationError("'\(directory)' is not a folder. Pass the folder that holds the corpus images (e.g. ../shared/data/coco-mini, which holds images/…).")
                    }
                    try RegistrySettings.remember(dataRoot: directory, registry: registry)
                    message = "data root of \(registry): \(RegistrySettings.absolute(directory)) (in \(RegistrySettings.path(registry: registry)))"
                } else if let root = try RegistrySettings.read(registry: registry).resolvedDataRoot(registry: registry) {
                    message = root
                } else {
                    message = "no data root recorded for \(registry); commands that retrain search --data-root, $\(DataRoots.environmentVariable), then $DIVSEG_SHARED/data/<corpus> and ../shared/data/<corpus>"
                }
                guard json else { return print(message) }
                struct Output: Encodable {
                    var registry: String, dataRoot: String?, settings: String
                    enum CodingKeys: String, CodingKey { case registry, dataRoot, settings }
                    // dataRoot is written as null, not left out, when none is recorded.
                    func encode(to encoder: any Encoder) throws {
                        var container = encoder.container(keyedBy: CodingKeys.self)
                        try container.encode(registry, forKey: .registry)
                        try container.encode(dataRoot, forKey: .dataRoot)
                        try container.encode(settings, forKey: .settings)
                    }
                }
                try JSONOutput.print(Output(registry: registry,
                                            dataRoot: try RegistrySettings.read(registry: registry).resolvedDataRoot(registry: registry),
                                            settings: RegistrySettings.path(registry: registry)))
            }
        }
    }
}
