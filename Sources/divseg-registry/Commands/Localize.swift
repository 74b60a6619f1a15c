import ArgumentParser
import DivSeg
import DivSegCore
import DivSegIO
import DivSegRegistry
import Foundation

extension DivSegRegistry {
    /// `divseg-registry localize CLASS IMAGE|FOLDER… [--out PATH]`: the class score map as a
    /// heat map with a colour bar, per image.
    struct Localize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a class's localizer score map over images as heat-map PNGs with a colour bar.",
            discussion: """
                The score is S_c = F / scoreScale (1 ≈ a typical peak on a positive training image); \
                the colours span each image's lowest to highest score, shown on the colour bar. \
                --out is a folder receiving <name>_<class>_heat.png per image, or, for a single \
                image, a file name ending in .png. A folder argument stands for the PNG and JPEG \
                files in it. Prints the peak's score at its pixel (x, y) in the image and the \
                image-level probability.
                """)

        /// One image's result in `--json`.
        struct Peak: Encodable {
            var image: String
            var heatMap: String
            var className: String
            var peakScore: Double
            /// The peak's location in image pixels (the centre of its grid cell).
            var x: Int
            var y: Int
            var probability: Double
            var range: [Double]
        }

        @Argument(help: "Class name (or alias) of a bundle in the registry.") var className: String
        @Argument(help: "PNG or JPEG images, or folders of them.") var images: [String]
        @Option(name: .shortAndLong, help: "Output folder, or a .png file for a single image.")
        var out: String = Segment.defaultOut
        @Flag(help: "Also take the images in sub-folders of a folder argument.") var recursive = false
        @Flag(help: "Print the results as one JSON array instead of text.") var json = false
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var backbone: BackboneOptions

        func run() throws {
            let images = try ImageInputs.expand(self.images, recursive: recursive)
            // One image: --out is the heat map's file when it ends in .png or is an existing
            // non-folder (refused later if it is not a regular file); a folder otherwise.
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory)
            let single = images.count == 1 && (out.lowercased().hasSuffix(".png") || (exists && !isDirectory.boolValue))
            if !single { try Segment.checkFolder(out) }
            func outputs(_ name: String) -> [String] {
                images.map { path in
                    single ? out : (out as NSString).appendingPathComponent(
                        URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent + "_\(name)_heat.png")
                }
            }
            // A heat map must not replace an image it is drawn over (nor the weights), nor
            // another heat map: checked before the registry is read, and again with the
            // class's registered name.
            let weightsPath = try backbone.resolvedWeightsPath()
            try OutputPlan.check(Array(zip(images, outputs(className))).map { (input: $0, output: $1) },
                                 otherInputs: [weightsPath])
            let (registry, weights) = try registryOptions.open(backbone: backbone)
            guard let bundle = registry.bundle(named: className) else {
                throw ValidationError("No class '\(className)' in \(registry.directory); `divseg-registry list` shows the classes.")
            }
            let outputs = outputs(bundle.name)
            try OutputPlan.check(Array(zip(images, outputs)).map { (input: $0, output: $1) }, otherInputs: [weights])
            let localizer = try bundle.loadLocalizer()
            let extractor = try HypercolumnExtractor(weightsAt: weights)
            if !single { try Segment.makeDirectory(out) }
            var progress = ProgressReporter(total: images.count, label: "localize", lines: true)
            var failures = 0
            var peaks: [Peak] = []
            for (path, output) in zip(images, outputs) {
                do {
                    let picture = try ImageDecoder.decodeRGB(contentsOf: path)
                    let features = extractor.extractCompact(from: picture)
                    let score = localizer.score(features)
                    let range = HeatMap.displayRange(of: score) ?? 0...0
                    let heat = HeatMap.render(image: picture, scores: score, width: FeatureGrid.width,
                                              height: FeatureGrid.height, range: range)
                    try PNGEncoder.write(ColorBar(range: range, title: bundle.name + " score").draw(on: heat), to: output)
                    let peak = score.enumerated().max { $0.element < $1.element }!
                    let (row, column) = (peak.offset / FeatureGrid.width, peak.offset % FeatureGrid.width)
                    // The grid cell's centre in the image (HeatMap.render's mapping).
                    let x = Int(((Double(column) + 0.5) * Double(picture.width) / Double(FeatureGrid.width)).rounded(.down))
                    let y = Int(((Double(row) + 0.5) * Double(picture.height) / Double(FeatureGrid.height)).rounded(.down))
                    let probability = localizer.probability(features)
                    peaks.append(Peak(image: path, heatMap: output, className: bundle.name, peakScore: Double(peak.element),
                                      x: x, y: y, probability: Double(probability),
                                      range: [Double(range.lowerBound), Double(range.upperBound)]))
                    if !json {
                        print(String(format: "%@: %@ peak score %.2f at pixel (x %d, y %d) of %d×%d, image-level probability %.3f",
                                     path, bundle.name, peak.element, x, y, picture.width, picture.height, probability))
                    }
                } catch {
                    failures += 1
                    printError("error: \(path): \(error)")
                }
                progress.advance()
            }
            progress.finish()
            if json { try JSONOutput.print(peaks) }
            if failures > 0 { throw ExitCode(failures == images.count ? 1 : 2) }
        }
    }
}
