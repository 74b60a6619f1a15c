import ArgumentParser
import DivSegRegistry
import Foundation

extension DivSegRegistry {
    /// `divseg-registry config data-root [DIR | --unset] [--registry DIR]`.
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or change the registry's settings on this machine (settings.json).",
            subcommands: [DataRoot.self])

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

            func validate() throws {
                if unset && directory != nil { throw ValidationError("Pass a directory or --unset, not both.") }
            }

            func run() throws {
                let registry = registryOptions.directory
                guard FileManager.default.fileExists(atPath: registry) else { throw RegistryError.notFound(registry) }
                if unset {
                    try RegistrySettings.remember(dataRoot: nil, registry: registry)
                    print("data root unset for \(registry)")
                } else if let directory {
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                        throw ValidationError("'\(directory)' is not a folder. Pass the folder that holds the corpus images (e.g. ../shared/data/coco-mini, which holds images/…).")
                    }
                    try RegistrySettings.remember(dataRoot: directory, registry: registry)
                    print("data root of \(registry): \(RegistrySettings.absolute(directory)) (in \(RegistrySettings.path(registry: registry)))")
                } else if let root = try RegistrySettings.read(registry: registry).resolvedDataRoot(registry: registry) {
                    print(root)
                } else {
                    print("no data root recorded for \(registry); commands that retrain search --data-root, $\(DataRoots.environmentVariable), then $DIVSEG_SHARED/data/<corpus> and ../shared/data/<corpus>")
                }
            }
        }
    }
}
