import ArgumentParser
import DivSeg
import DivSegCore
import DivSegIO
import Foundation


extension DivSegRegistry {
    /// `divseg-registry features IMAGE… --out PATH`: hypercolumn files for images.
    struct Features: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compute VGG-16 hypercolumn features (4224×64×84) and the global descriptor of images.",
            discussion: """
                Each image is resized to 256×336 (bilinear) and written as an HDF5 file with the \
                datasets 'hypercolumn' (4224×64×84, channel-major) and 'global', in float16 \
                (45 MB per image; about 3 significant digits) or, with --storage float32, exactly \
                (90 MB).

                With one image, --out is the output file; with several, a directory that receives \
                <image name>.h5 per image.
                """)

        @Argument(help: "PNG or JPEG images.")
        var images: [String]

        @Option(name: .shortAndLong, help: "Output .h5 file (one image) or directory (several).")
        var out: String

        @Option(help: "Element type on disk: \(HDF5Storage.allCases.map(\.rawValue).joined(separator: " or ")).")
        var storage: HDF5Storage = .float16

        @OptionGroup var backbone: BackboneOptions

        mutating func validate() throws {
            if images.isEmpty { throw ValidationError("Give at least one image.") }
        }

        func run() throws {
            // Outputs first (clashes, special files): refused before the weights are loaded.
            let targets = try FeatureFileWriter.outputPaths(for: images, out: out)
            let extractor = try HypercolumnExtractor(weightsAt: backbone.resolvedWeightsPath())
            let writer = FeatureFileWriter(extractor: extractor, storage: storage)
            var progress = ProgressReporter(total: images.count, label: "features")
            let failures = writer.write(images: images, to: targets) { _ in progress.advance() }.compactMap { $0 }
            progress.finish()
            for failure in failures { printError("error: \(failure)") }
            if !failures.isEmpty {
                throw ExitCode(failures.count == images.count ? 1 : 2)
            }
        }
    }
}
