import ArgumentParser
import DivSegRegistry
import Foundation

extension DivSegRegistry {
    /// `divseg-registry list [--json]`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the classes of the registry: label id, name, training source, positives, creation time, status.",
            discussion: "Refused bundles are listed with the reason, then the disk the registry and its sample store use. --json prints {\"registry\", \"segmenter\", \"classes\": [{name, id, source, positives, created, status, problem?}], \"sizes\": {registryBytes, sampleStore, sampleStoreBytes, sampleStoreFiles}}.")

        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var backbone: BackboneOptions
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var sampleStoreOptions: SampleStoreOptions

        func run() throws {
            let weights = try backbone.resolvedWeightsPath()
            let registry = try Registry.open(registryOptions.directory, backbone: try BackboneIdentity.vgg16(weightsAt: weights))
            let rows = registry.summaries()
            let sizes = StorageSizes(registry: registry.directory,
                                     sampleStore: try sampleStoreOptions.directory(registry: registry.directory, cache: cacheOptions))
            if json {
                struct Listing: Encodable {
                    var registry: String
                    var segmenter: String
                    var classes: [ClassSummary]
                    var sizes: StorageSizes
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let status = registry.segmenterStatus
                let text = switch status {
                case .current: "current"
                case .stale: "stale"
                case .missing: "missing"
                case .unreadable: "unreadable"
                case .notNeeded: "none"
                }
                print(String(decoding: try encoder.encode(Listing(registry: registry.directory, segmenter: text, classes: rows, sizes: sizes)), as: UTF8.self))
                return
            }
            let header = ["ID", "NAME", "POSITIVES", "CREATED", "SOURCE", "STATUS"]
            let table = rows.map { row in
                [row.label.map(String.init) ?? "-", row.name, row.positives.map(String.init) ?? "-", row.created ?? "-",
                 row.source ?? "-", { if case .refused(let reason) = row.status { "refused: " + reason } else { "ok" } }()]
            }
            let widths = (0..<header.count - 1).map { column in ([header] + table).map { $0[column].count }.max()! }
            for line in [header] + table {
                print(zip(line, widths + [0]).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }
                    .joined(separator: "  "))
            }
            if rows.isEmpty { print("(no classes)") }
            print("segmenter: \(registry.segmenterStatus)")
            print(sizes.text)
            for warning in registry.warnings { printError("warning: \(warning)") }
        }
    }
}
