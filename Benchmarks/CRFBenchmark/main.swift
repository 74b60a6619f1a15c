// Dense CRF benchmark (issue #5): mean-field inference with the default parameters
// (Gaussian sxy 3 / weight 3, bilateral sxy 80 / srgb 13 / weight 10, 10 iterations) on a real
// 500×375 COCO image with 21 labels, single-threaded and on all cores. Timed end to end as
// pydensecrf2 is in Benchmarks/compare-crf.sh: from probabilities and image to marginals
// (unaries, both lattices and their normalisation, 10 iterations).
//
// Environment:
//   DIVSEG_SHARED           the shared data folder (default ../shared)
//   DIVSEG_CRF_IMAGE        image (default $DIVSEG_SHARED/data/coco-mini/images/000000000077.jpg)
//   DIVSEG_CRF_PROBS        raw float32 [labels, H, W] probabilities (compare-crf.sh writes
//                           them so both sides get the same input); default: a segmenter-like
//                           synthetic input (random 64×84 logits upsampled and softmaxed)
//   DIVSEG_CRF_LABELS       label count for the synthetic input (default 21)
//   DIVSEG_CRF_OUT          if set, the marginals of one run are written there (raw float32)
//
// `crf_setup_*` runs the same with 0 iterations: input conversion, both lattices with their
// normalisation and the output, i.e. everything but the mean-field updates.
import Benchmark
import DivSeg
import DivSegCore
import DivSegIO
import Foundation

let environment = ProcessInfo.processInfo.environment
let shared = environment["DIVSEG_SHARED"] ?? "../shared"
let imagePath = environment["DIVSEG_CRF_IMAGE"] ?? shared + "/data/coco-mini/images/000000000077.jpg"

func log(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

@inline(never)
func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

AllocatorTuning.reuseFreedMemory()
let image: Image
let probabilities: Tensor
do {
    image = try ImageDecoder.decodeRGB(contentsOf: imagePath)
    if let path = environment["DIVSEG_CRF_PROBS"] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let plane = image.width * image.height
        guard data.count % (4 * plane) == 0 else {
            log("\(path): \(data.count) bytes is not a whole number of \(image.width)×\(image.height) float32 planes")
            exit(1)
        }
        let labels = data.count / (4 * plane)
        let values = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        probabilities = Tensor(shape: [labels, image.height, image.width], scalars: values)
    } else {
        let labels = Int(environment["DIVSEG_CRF_LABELS"] ?? "") ?? 21
        var rng = SplitMix64(seed: 5)
        let coarse = Tensor(shape: [labels, 64, 84], scalars: (0..<(labels * 64 * 84)).map { _ in 3 * rng.nextGaussian() })
        probabilities = LabelUpsampler.probabilities(fromLogits: coarse, height: image.height, width: image.width)
    }
} catch {
    log("benchmark setup failed: \(error)")
    exit(1)
}
let labelCount = probabilities.shape[0]
log("dense CRF on \(imagePath): \(image.width)×\(image.height), \(labelCount) labels, 10 iterations, "
    + "vector kernels \(SIMDKernels.activeLevel) (DIVSEG_SIMD=scalar|avx2|avx512 lowers it)")

let single = try! DenseCRF(parallel: false)
let multi = try! DenseCRF(parallel: true)
let setupSingle = try! DenseCRF(parameters: DenseCRFParameters(iterations: 0), parallel: false)
let setupMulti = try! DenseCRF(parameters: DenseCRFParameters(iterations: 0), parallel: true)

if let out = environment["DIVSEG_CRF_OUT"], !out.isEmpty {
    let marginals = try! single.infer(image: image, probabilities: probabilities)
    let data = marginals.scalars.withUnsafeBufferPointer { Data(buffer: $0) }
    try! data.write(to: URL(fileURLWithPath: out))
}

benchmark("crf_\(image.width)x\(image.height)_\(labelCount)labels_1thread") {
    blackHole(try single.infer(image: image, probabilities: probabilities))
}

benchmark("crf_\(image.width)x\(image.height)_\(labelCount)labels_\(Parallel.coreCount)threads") {
    blackHole(try multi.infer(image: image, probabilities: probabilities))
}

benchmark("crf_setup_1thread") {
    blackHole(try setupSingle.infer(image: image, probabilities: probabilities))
}

benchmark("crf_setup_\(Parallel.coreCount)threads") {
    blackHole(try setupMulti.infer(image: image, probabilities: probabilities))
}

main()
