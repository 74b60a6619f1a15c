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
            try Self.checkFolder(out)
            // Every output file, checked against every input and every other output before
            // anything is written: `segment coll/self.png --out coll` must not replace the
            // image with its label map, nor `a/x.png b/x.png` (or `y.jpg y_overlay.png`)
            // overwrite each other's results.
            let outputs = images.map { path in
                let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                return (labels: (out as NSString).appendingPathComponent(stem + ".png"),
                        overlay: (out as NSString).appendingPathComponent(stem + "_overlay.png"))
            }
            try OutputPlan.check(zip(images, outputs).flatMap { image, files in
                [(input: image, output: files.labels), (input: image, output: files.overlay)]
            }, otherInputs: [backbone.resolvedWeightsPath()])
            let (registry, weights) = try registryOptions.open(backbone: backbone)
            let pipeline = SegmentationPipeline(extractor: try HypercolumnExtractor(weightsAt: weights),
                                                segmenter: try registry.loadSegmenter(),
                                                channelLabels: registry.channelLabels, crf: crfParameters)
            try Self.makeDirectory(out)
            let palette = registry.palette
            var progress = ProgressReporter(total: images.count, label: "segment")
            var failures = 0
            for (path, files) in zip(images, outputs) {
                do {
                    let image = try ImageDecoder.decodeRGB(contentsOf: path)
                    let labels = try pipeline.segment(image)
                    try PNGEncoder.write(labels, palette: palette, to: files.labels)
                    try PNGEncoder.write(Overlay.render(image: image, labels: labels, palette: palette),
                                         to: files.overlay)
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

        /// Refuses an --out that exists and is not a folder (before anything is computed).
        static func checkFolder(_ out: String) throws {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), !isDirectory.boolValue {
                throw FileAccessError.notWritable(path: out, reason: "it is a file, but --out must be a folder")
            }
        }

        /// Creates the output folder, with a message naming it (not Foundation's raw error).
        static func makeDirectory(_ out: String) throws {
            try checkFolder(out)
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                throw FileAccessError.notWritable(path: out, reason: "the folder cannot be created "
                    + "(a file is in the way on its path, or a parent folder is not writable)")
            }
        }
    }
}
