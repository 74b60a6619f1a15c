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
        @Flag(help: "Complete or undo an unfinished change, set an invalid journal aside (renamed, not deleted) and delete staging leftovers, then verify.")
        var repair = false

        func run() throws {
            let weights = try backbone.resolvedWeightsPath()
            let editor = RegistryEditor(directory: registryOptions.directory,
                                        backbone: try BackboneIdentity.vgg16(weightsAt: weights))
            if repair {
                for action in try editor.repair() { print("repair: \(action)") }
            }
            let report = try editor.verify()
            print(report.summary)
            if !report.isHealthy { throw ExitCode(1) }
        }
    }
}
