// Backbone benchmarks on the real VGG-16 weights and a real 256×336 COCO image.
// Run through Benchmarks/compare-backbone.sh, which also times the ONNX Runtime peer in
// the same run and prints the ratio.
import Benchmark
import DivSeg
import DivSegCore
import DivSegIO
import Foundation

let shared = ProcessInfo.processInfo.environment["DIVSEG_SHARED"] ?? "../shared"
let weights = ProcessInfo.processInfo.environment["DIVSEG_WEIGHTS"] ?? shared + "/models/vgg16_imagenet_notop.h5"
let imagePath = ProcessInfo.processInfo.environment["DIVSEG_BENCH_IMAGE"]
    ?? shared + "/testdata/vgg16-reference/000000000025_256x336.png"

AllocatorTuning.reuseFreedMemory()

let extractor: HypercolumnExtractor
let image: Image
do {
    extractor = try HypercolumnExtractor(weightsAt: weights)
    image = try ImageDecoder.decodeRGB(contentsOf: imagePath)
} catch {
    FileHandle.standardError.write(Data("benchmark setup failed: \(error)\n".utf8))
    exit(1)
}
let input = HypercolumnExtractor.networkInput(for: image)
let maps = extractor.backbone.convolutionMaps(input)

/// FLOPs of the 13 conv layers at 256×336 (2 per multiply-add), for GFLOP/s figures.
let convFLOPs: Double = {
    var flops = 0.0, h = 256.0, w = 336.0, cin = 3.0
    for (i, cout) in VGG16.channels.enumerated() {
        flops += 2 * 9 * cin * Double(cout) * h * w
        cin = Double(cout)
        if VGG16.poolAfter.contains(i) { h = (h / 2).rounded(.down); w = (w / 2).rounded(.down) }
    }
    return flops
}()
FileHandle.standardError.write(Data(String(format: "conv FLOPs per image: %.1f G\n", convFLOPs / 1e9).utf8))
FileHandle.standardError.write(Data("vector kernels: \(SIMDKernels.activeLevel) (DIVSEG_SIMD=scalar|avx2|avx512 lowers it)\n".utf8))

/// Keeps a result alive so the optimiser cannot drop the work that produced it.
@inline(never)
func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

// Segmenting a 640×480 photo end to end: decode → resize → features → segmenter (23 classes,
// 512 hidden units; random weights time the same as trained ones) → upsample → palette PNG.
let photoPath = shared + "/data/coco-mini/images/000000000009.jpg"
let segmenter: Segmenter = {
    var rng = SplitMix64(seed: 5)
    let inputs = FeatureGrid.channels + 512, hidden = 512, classes = 23
    let parameters = SegmenterParameters(
        inputCount: inputs, hiddenUnits: hidden, classCount: classes,
        hiddenWeights: rng.floats(hidden * inputs, in: -0.01...0.01), hiddenBias: [Float](repeating: 0, count: hidden),
        outputWeights: rng.floats(classes * hidden, in: -0.1...0.1), outputBias: [Float](repeating: 0, count: classes),
        inputMean: [Float](repeating: 0, count: inputs), inputStd: [Float](repeating: 1, count: inputs))
    return try! Segmenter(classes: ["background"] + (1..<classes).map { "class\($0)" }, parameters: parameters)
}()
let pipeline = SegmentationPipeline(extractor: extractor, segmenter: segmenter)
benchmark("segment_640x480_end_to_end") {
    let photo = try ImageDecoder.decodeRGB(contentsOf: photoPath)
    precondition(photo.width == 640 && photo.height == 480)
    let labels = try pipeline.segment(photo)
    blackHole(try PNGEncoder.encode(labels, palette: .voc))
}

benchmark("vgg16_conv13_256x336") {
    blackHole(extractor.backbone.convolutionMaps(input))
}
benchmark("hypercolumn_assembly") {
    blackHole(HypercolumnExtractor.assemble(maps))
}
benchmark("features_end_to_end_256x336") {
    blackHole(extractor.extract(from: image))
}
main()
