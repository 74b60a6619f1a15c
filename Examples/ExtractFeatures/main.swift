// Example: compute the hypercolumn features of one image with the library API.
//
//   swift run -c release ExtractFeatures [IMAGE] [WEIGHTS]
//
// IMAGE defaults to a COCO image in ../shared; WEIGHTS to the usual search path
// ($DIVSEG_WEIGHTS, models/, ../shared/models/).
import DivSeg
import DivSegIO
import Foundation

let arguments = CommandLine.arguments.dropFirst()
let imagePath = arguments.first ?? "../shared/data/coco-mini/images/000000000025.jpg"
do {
    let weights = try WeightsLocator.resolve(arguments.dropFirst().first)
    let extractor = try HypercolumnExtractor(weightsAt: weights)
    let image = try ImageDecoder.decodeRGB(contentsOf: imagePath)
    let start = Date()
    let features = extractor.extract(from: image)
    let seconds = Date().timeIntervalSince(start)
    print("image \(imagePath): \(image.width)×\(image.height)")
    print("hypercolumns \(features.features.shape), global descriptor \(features.global.count) values")
    print(String(format: "features computed in %.3f s", seconds))
    // The strongest block5_conv3 channels of this image, from the global descriptor.
    let top = features.global.enumerated().sorted { $0.element > $1.element }.prefix(5)
    print("strongest block5_conv3 channels:", top.map { "\($0.offset) (\(String(format: "%.1f", $0.element)))" }.joined(separator: ", "))
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
