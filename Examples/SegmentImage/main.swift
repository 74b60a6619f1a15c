// Example: segment an image with the classes of a registry, through the façade.
//
//   swift run -c release SegmentImage REGISTRY IMAGE OUTDIR [WEIGHTS]
//
// Writes OUTDIR/<image name>.png (palette label map: pixel = label id, 0 = background) and
// OUTDIR/<image name>_overlay.png, and prints the share of the image each class covers.
// WEIGHTS defaults to the usual search path ($DIVSEG_WEIGHTS, models/, ../shared/models/).
import DivSegKit
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: SegmentImage REGISTRY IMAGE OUTDIR [WEIGHTS]\n".utf8))
    exit(2)
}
let (registryPath, imagePath, outputDirectory) = (arguments[0], arguments[1], arguments[2])
do {
    let registry = try Backbone.load(weightsAt: arguments.count > 3 ? arguments[3] : nil).registry(at: registryPath)
    // A stale segmenter (trained for another class set) is refused: run `divseg-registry retrain`.
    let result = try registry.segment(imageAt: imagePath)

    try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
    let stem = URL(fileURLWithPath: imagePath).deletingPathExtension().lastPathComponent
    let labelPath = (outputDirectory as NSString).appendingPathComponent(stem + ".png")
    let overlayPath = (outputDirectory as NSString).appendingPathComponent(stem + "_overlay.png")
    try PNGEncoder.write(result.labels, palette: result.palette, to: labelPath)
    try PNGEncoder.write(result.overlayWithLegend(), to: overlayPath)

    print("\(imagePath) (\(result.image.width)×\(result.image.height)):")
    for area in result.areas { print(String(format: "  %-12@ %5.1f %%", area.name, 100 * area.fraction)) }
    print("wrote \(labelPath) and \(overlayPath)")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
