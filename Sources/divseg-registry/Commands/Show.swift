import ArgumentParser
import DivSegRegistry
import Foundation

extension DivSegRegistry {
    /// `divseg-registry show CLASS`.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one class of the registry: label id, manifest, training record, corpus size.")

        @Argument(help: "Class name or alias.") var className: String
        @Flag(help: "Print JSON ({name, label, colour, directory, corpusImages, segmenter, manifest}) instead of text.")
        var json = false
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var backbone: BackboneOptions

        func run() throws {
            let (registry, _) = try registryOptions.open(backbone: backbone)
            guard let bundle = registry.bundle(named: className) else {
                throw RegistryError.classNotFound(name: className, directory: registry.directory,
                                                  known: registry.summaries().map(\.name))
            }
            let m = bundle.manifest
            let t = m.training
            let corpus = try bundle.corpus()
            let colour = registry.palette.color(of: UInt8(registry.labels[m.name]!))
            if json {
                struct Output: Encodable {
                    var name: String
                    var label: Int
                    var colour: [Int]
                    var directory: String
                    var corpusImages: Int
                    var segmenter: String
                    var manifest: BundleManifest
                }
                try JSONOutput.print(Output(name: m.name, label: registry.labels[m.name]!,
                                            colour: [Int(colour.r), Int(colour.g), Int(colour.b)],
                                            directory: bundle.directory, corpusImages: corpus.entries.count,
                                            segmenter: "\(registry.segmenterStatus)", manifest: m))
                return
            }
            func percent(_ x: Double?) -> String { x.map { String(format: "%.1f %%", $0 * 100) } ?? "-" }
            print("""
                class:        \(m.name) (\(m.displayName))\(m.aliases.isEmpty ? "" : ", aliases: " + m.aliases.joined(separator: ", "))
                label id:     \(registry.labels[m.name]!)\(m.preferredLabel.map { " (preferred \($0))" } ?? "")
                colour:       \(colour.r), \(colour.g), \(colour.b) (by label id, as in overlays)
                directory:    \(bundle.directory)
                localizer:    \(m.localizer.file), \(m.localizer.loss), \(m.localizer.inputChannels) inputs, \(m.localizer.hiddenUnits) hidden, \(m.localizer.storage), sha256 \(m.localizer.sha256.prefix(16))…
                score scale:  \(m.scoreScale)
                backbone:     \(m.backbone.name), weights sha256 \(m.backbone.weightsSHA256.prefix(16))…, \(m.backbone.featureRule)
                trained on:   \(t.corpusIdentity)\(t.split.map { " (split \($0))" } ?? ""), \(t.positives) positives, \(t.negatives) negatives, corpus \(corpus.entries.count) images
                training:     \(t.epochs) epochs, \(t.optimizer), lr \(t.learningRate), seed \(t.seed), \(String(format: "%.1f", t.seconds)) s, final loss \(t.finalLoss)
                held out:     \(t.heldOutImages) images, accuracy \(percent(t.heldOutAccuracy)), AUC \(t.heldOutAUC.map { String(format: "%.3f", $0) } ?? "-")
                created:      \(m.created) by \(m.toolVersion)
                segmenter:    \(registry.segmenterStatus)
                """)
        }
    }
}
