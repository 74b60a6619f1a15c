import ArgumentParser
import DivSegRegistry

extension DivSegRegistry {
    /// `divseg-registry verify`.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every bundle, the label ledger and the segmenter of the registry.",
            discussion: """
                Exit status 0 when healthy, 1 when a bundle is refused, labels.json is damaged or \
                the segmenter is missing or stale. A change interrupted by a crash is completed \
                first. With --repair, a registry blocked by a failed or invalid change journal is \
                made usable again first (the journal is completed, undone, or set aside).
                """)

        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var backbone: BackboneOptions
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var sampleStoreOptions: SampleStoreOptions
        @Flag(help: "Complete or undo an unfinished change, set an invalid journal aside (renamed, not deleted) and delete staging leftovers, then verify.")
        var repair = false
        @Flag(help: "Print the result as JSON ({registry, healthy, checkedBundles, segmenter, problems, notes, repairs, sizes}) instead of text.")
        var json = false

        struct Output: Encodable {
            var registry: String
            var healthy: Bool
            var checkedBundles: Int
            var segmenter: String
            var problems: [String]
            var notes: [String]
            var repairs: [String]
            var sizes: StorageSizes
        }

        func run() throws {
            let weights = try backbone.resolvedWeightsPath()
            var editor = RegistryEditor(directory: registryOptions.directory,
                                        backbone: try BackboneIdentity.vgg16(weightsAt: weights))
            editor.sampleStoreDirectory = try sampleStoreOptions.directory(registry: registryOptions.directory, cache: cacheOptions)
            var repairs: [String] = []
            if repair {
                repairs = try editor.repair().map { "\($0)" }
                if !json { for action in repairs { print("repair: \(action)") } }
            }
            let report = try editor.verify()
            if json {
                try JSONOutput.print(Output(registry: report.registry.directory, healthy: report.isHealthy,
                                            checkedBundles: report.checkedBundles, segmenter: "\(report.segmenter)",
                                            problems: report.problems, notes: report.notes, repairs: repairs,
                                            sizes: StorageSizes(registry: report.registry.directory,
                                                                sampleStore: editor.sampleStore.directory)))
            } else {
                print(report.summary)
                print(StorageSizes(registry: report.registry.directory, sampleStore: editor.sampleStore.directory).text)
            }
            if !report.isHealthy { throw ExitCode(1) }
        }
    }
}
