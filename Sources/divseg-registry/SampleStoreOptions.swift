import ArgumentParser
import DivSegRegistry

/// `--sample-store inside|cache|DIR`: where the registry's sample store is for this command,
/// overriding the registry's setting (`config sample-store`).
struct SampleStoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Sample store for this command: inside (<registry>/.samples), cache (<cache>/samples) or a folder.",
                               discussion: "Default: the registry's setting (config sample-store), else a .samples folder already in the registry, else <cache>/samples."))
    var sampleStore: String?

    func validate() throws {
        if let sampleStore, sampleStore.isEmpty { throw ValidationError("--sample-store is empty; pass inside, cache or a folder.") }
    }

    /// The store's folder for `registry`.
    func directory(registry: String, cache: CacheOptions) throws -> String {
        if let sampleStore {
            return SampleStoreLocation.directory(registry: registry, cacheDirectory: cache.directory, setting: sampleStore)
        }
        return try cache.sampleStoreDirectory(registry: registry)
    }
}
