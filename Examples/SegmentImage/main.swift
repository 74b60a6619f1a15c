// Example: segment an image with the classes of a registry, through the library API.
//
//   swift run -c release SegmentImage REGISTRY IMAGE OUTDIR [WEIGHTS]
//
// Writes OUTDIR/<image name>.png (palette label map: pixel = label id, 0 = background) and
// OUTDIR/<image name>_overlay.png, and prints the share of the image each class covers.
// WEIGHTS defaults to the usual search path ($DIVSEG_WEIGHTS, models/, ../shared/models/).
import DivSeg
import DivSegIO
import DivSegRegistry
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: SegmentImage REGISTRY IMAGE OUTDIR [WEIGHTS]\n".utf8))
    exit(2)
}
let (registryPath, imagePath, outputDirectory) = (arguments[0], arguments[1], arguments[2])
do {
    let weights = try WeightsLocator.resolve(arguments.count > 3 ? arguments[3] : nil)
    // Opening validates every bundle against the backbone; broken bundles are skipped.
    let registry = try Registry.open(registryPath, backbone: try BackboneIdentity.vgg16(weightsAt: weights))
    for problem in registry.problems { FileHandle.standardError.write(Data("warning: \(problem)\n".utf8)) }
    // A segmenter trained for another class set is refused (run `divseg-registry retrain`).
    let pipeline = SegmentationPipeline(extractor: try HypercolumnExtractor(weightsAt: weights),
                                        segmenter: try registry.loadSegmenter(),
                                        channelLabels: registry.channelLabels)
    let image = try ImageDecoder.decodeRGB(contentsOf: imagePath)
    let labels = try pipeline.segment(image)

    try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
    let stem = URL(fileURLWithPath: imagePath).deletingPathExtension().lastPathComponent
    let labelPath = (outputDirectory as NSString).appendingPathComponent(stem + ".png")
    let overlayPath = (outputDirectory as NSString).appendingPathComponent(stem + "_overlay.png")
    try PNGEncoder.write(labels, palette: registry.palette, to: labelPath)
    try PNGEncoder.write(Overlay.render(image: image, labels: labels, palette: registry.palette), to: overlayPath)

    var counts: [UInt8: Int] = [:]
    for label in labels.labels { counts[label, default: 0] += 1 }
    print("\(imagePath) (\(image.width)×\(image.height)), \(registry.bundles.count) classes:")
    for (label, count) in counts.sorted(by: { $0.value > $1.value }) {
        print(String(format: "  %-12@ %5.1f %%", registry.className(label: Int(label)) ?? "label \(label)",
                     100 * Double(count) / Double(labels.labels.count)))
    }
    print("wrote \(labelPath) and \(overlayPath)")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
