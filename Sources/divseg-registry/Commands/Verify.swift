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
                first.
                """)

        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var backbone: BackboneOptions

        func run() throws {
            let weights = try backbone.resolvedWeightsPath()
            let editor = RegistryEditor(directory: registryOptions.directory,
                                        backbone: try BackboneIdentity.vgg16(weightsAt: weights))
            let report = try editor.verify()
            print(report.summary)
            if !report.isHealthy { throw ExitCode(1) }
        }
    }
}
