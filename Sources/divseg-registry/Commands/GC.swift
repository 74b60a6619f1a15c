import ArgumentParser
import DivSegRegistry
import Foundation

extension DivSegRegistry {
    /// `divseg-registry gc [--registry DIR] [--also-registry DIR…] [--delete] [--json]`.
    struct GC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "List (or with --delete, delete) sample-store and feature-cache entries no registered class or corpus uses.",
            discussion: """
                A dry run unless --delete is given. In use: sample-store entries of images in a \
                registered bundle's corpus whose classes are all registered with their current \
                localizers; feature-cache entries of images in a corpus. Name every registry that \
                shares the store or the cache (--also-registry), or their entries count as unused. \
                Only entry files inside the store and cache folders are ever deleted (regular files \
                named as entries; links, other files and other folders are left alone).
                """)

        @OptionGroup var registryOptions: RegistryOptions
        @Option(help: "Another registry whose entries are kept (repeatable).") var alsoRegistry: [String] = []
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var sampleStoreOptions: SampleStoreOptions
        @OptionGroup var backbone: BackboneOptions
        @Flag(help: "Leave the feature cache alone (only the sample store).") var samplesOnly = false
        @Flag(help: "Delete the unused entries (default: only list them).") var delete = false
        @Flag(help: "Print JSON ({sampleStore, cache, unusedSampleEntries, unusedSampleBytes, keptSampleEntries, unusedCacheEntries, unusedCacheBytes, keptCacheEntries, deleted, failures}).")
        var json = false

        struct Output: Encodable {
            var sampleStore: String
            var cache: String?
            var unusedSampleEntries: Int
            var unusedSampleBytes: Int64
            var keptSampleEntries: Int
            var unusedCacheEntries: Int
            var unusedCacheBytes: Int64
            var keptCacheEntries: Int
            var deleted: Bool
            var failures: [String]
            var entries: [StorageCollector.Entry]
        }

        func run() throws {
            let identity = try BackboneIdentity.vgg16(weightsAt: try backbone.resolvedWeightsPath())
            let directories = [registryOptions.directory] + alsoRegistry
            var registries: [Registry] = []
            for directory in directories {
                let registry = try Registry.open(directory, backbone: identity)
                // A refused bundle's entries would look unused: refuse to judge instead.
                if let problem = registry.problems.first {
                    throw ValidationError("The registry '\(directory)' has a refused bundle (\(problem)); fix it "
                        + "(verify --repair, or remove it) before gc, whose picks would otherwise be counted as unused.")
                }
                registries.append(registry)
            }
            let store = try sampleStoreOptions.directory(registry: registryOptions.directory, cache: cacheOptions)
            let cache = samplesOnly ? nil : cacheOptions.directory
            let plan = try StorageCollector.plan(registries: registries, sampleStore: store, cacheDirectory: cache)
            let failures = delete ? plan.delete() : []
            if json {
                try JSONOutput.print(Output(sampleStore: store, cache: cache, unusedSampleEntries: plan.sampleEntries.count,
                                            unusedSampleBytes: plan.sampleBytes, keptSampleEntries: plan.keptSampleEntries,
                                            unusedCacheEntries: plan.cacheEntries.count, unusedCacheBytes: plan.cacheBytes,
                                            keptCacheEntries: plan.keptCacheEntries, deleted: delete,
                                            failures: failures.map { "\($0.path): \($0.reason)" },
                                            entries: plan.sampleEntries + plan.cacheEntries))
            } else {
                print(plan.summary)
                if delete {
                    print("deleted \(plan.sampleEntries.count + plan.cacheEntries.count - failures.count) entries "
                        + "(\(DiskUsage.text(plan.sampleBytes + plan.cacheBytes)) freed)")
                } else if !(plan.sampleEntries.isEmpty && plan.cacheEntries.isEmpty) {
                    print("dry run: nothing deleted; pass --delete to delete them")
                }
            }
            for failure in failures { printError("warning: could not delete \(failure.path): \(failure.reason)") }
            if !failures.isEmpty { throw ExitCode(1) }
        }
    }
}
