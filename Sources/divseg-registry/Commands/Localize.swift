import ArgumentParser
import DivSeg
import DivSegCore
import DivSegIO
import DivSegRegistry
import Foundation

extension DivSegRegistry {
    /// `divseg-registry localize CLASS IMAGE --out PNG`: the class score map as a heat map.
    struct Localize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a class's localizer score map over an image as a heat-map PNG.",
            discussion: "The score is S_c = F / scoreScale (1 ≈ a typical peak on a positive training image).")

        @Argument(help: "Class name (or alias) of a bundle in the registry.") var className: String
        @Argument(help: "PNG or JPEG image.") var image: String
        @Option(name: .shortAndLong, help: "Output PNG.") var out: String
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var backbone: BackboneOptions

        func run() throws {
            // The heat map must not replace the image it is drawn over (nor the weights).
            try OutputPlan.check([(input: image, output: out)], otherInputs: [backbone.resolvedWeightsPath()])
            let (registry, weights) = try registryOptions.open(backbone: backbone)
            guard let bundle = registry.bundle(named: className) else {
                throw ValidationError("No class '\(className)' in \(registry.directory); `divseg-registry list` shows the classes.")
            }
            let localizer = try bundle.loadLocalizer()
            let picture = try ImageDecoder.decodeRGB(contentsOf: image)
            let features = try HypercolumnExtractor(weightsAt: weights).extractCompact(from: picture)
            let score = localizer.score(features)
            try PNGEncoder.write(HeatMap.render(image: picture, scores: score, width: FeatureGrid.width,
                                                height: FeatureGrid.height),
                                 to: out)
            let peak = score.enumerated().max { $0.element < $1.element }!
            print(String(format: "%@: peak score %.2f at grid (%d, %d), image-level probability %.3f",
                         bundle.name, peak.element, peak.offset / FeatureGrid.width, peak.offset % FeatureGrid.width,
                         localizer.probability(features)))
        }
    }
}
