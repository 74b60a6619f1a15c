import ArgumentParser
import DivSeg
import DivSegCore
import DivSegIO
import DivSegRegistry
import Foundation

extension DivSegRegistry {
    /// `divseg-registry segment IMAGE… --out DIR`: label PNGs and colour overlays.
    struct Segment: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Segment images with the registry's segmenter.",
            discussion: """
                Writes <name>.png (palette label map at the original size; pixel = label id, \
                0 = background, colours as VOC) and <name>_overlay.png (the labels blended over \
                the image) per image into --out. With --crf, the segmenter's upsampled \
                probabilities are refined by a dense CRF on the image before the argmax.
                """)

        @Argument(help: "PNG or JPEG images.") var images: [String]
        @Option(name: .shortAndLong, help: "Output directory.") var out: String
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var backbone: BackboneOptions
        @OptionGroup var crf: CRFOptions

        func run() throws {
            let crfParameters = try crf.parameters()
            let (registry, weights) = try registryOptions.open(backbone: backbone)
            let pipeline = SegmentationPipeline(extractor: try HypercolumnExtractor(weightsAt: weights),
                                                segmenter: try registry.loadSegmenter(),
                                                channelLabels: registry.channelLabels, crf: crfParameters)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let palette = registry.palette
            var progress = ProgressReporter(total: images.count, label: "segment")
            var failures = 0
            for path in images {
                do {
                    let image = try ImageDecoder.decodeRGB(contentsOf: path)
                    let labels = try pipeline.segment(image)
                    let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                    try PNGEncoder.write(labels, palette: palette, to: (out as NSString).appendingPathComponent(stem + ".png"))
                    try PNGEncoder.write(Overlay.render(image: image, labels: labels, palette: palette),
                                         to: (out as NSString).appendingPathComponent(stem + "_overlay.png"))
                    let present = Set(labels.labels).subtracting([0]).sorted()
                    print("\(path): \(present.compactMap { registry.className(label: Int($0)) }.joined(separator: ", "))")
                } catch {
                    failures += 1
                    printError("error: \(path): \(error)")
                }
                progress.advance()
            }
            progress.finish()
            if failures > 0 { throw ExitCode(failures == images.count ? 1 : 2) }
        }
    }
}
