import DivSeg
import DivSegCore
import DivSegIO
import DivSegTestSupport
import Foundation
import Testing
import DivSegDatasets

/// Real coco-mini images and masks, and segmenter-like probabilities derived from the masks:
/// the label shares of each cell of a coarse grid (as the 64×84 feature grid sees an image),
/// scaled into logits with noise, upsampled bilinearly and softmaxed — blurred, blocky object
/// boundaries, the situation the CRF exists for.
enum CRFFixture {
    static var dataRoot: String { SharedData.cocoMini }

    static func image(_ id: String) throws -> Image {
        try ImageDecoder.decodeRGB(contentsOf: "\(dataRoot)/images/\(id).jpg")
    }

    /// The mask with COCO category ids mapped to labels: `categories[k]` → k + 1, anything
    /// else → 0.
    static func labels(_ id: String, categories: [UInt8]) throws -> LabelMap {
        var mask = try ImageDecoder.decodeLabels(contentsOf: "\(dataRoot)/masks/\(id).png")
        mask.labels = mask.labels.map { value in categories.firstIndex(of: value).map { UInt8($0 + 1) } ?? 0 }
        return mask
    }

    static func crop(_ image: Image, x: Int, y: Int, width: Int, height: Int) -> Image {
        var pixels = [UInt8]()
        for row in y..<(y + height) {
            let start = (row * image.width + x) * image.channels
            pixels += image.pixels[start..<(start + width * image.channels)]
        }
        return Image(width: width, height: height, channels: image.channels, pixels: pixels)
    }

    static func crop(_ map: LabelMap, x: Int, y: Int, width: Int, height: Int) -> LabelMap {
        var labels = [UInt8]()
        for row in y..<(y + height) { labels += map.labels[(row * map.width + x)..<(row * map.width + x + width)] }
        return LabelMap(width: width, height: height, labels: labels)
    }

    /// `[labelCount, H, W]` probabilities from a `gridHeight × gridWidth` grid of logits
    /// `strength × (label share of the cell) + noise`.
    static func coarseProbabilities(_ truth: LabelMap, labelCount: Int, gridHeight: Int, gridWidth: Int,
                                    strength: Float = 4, noise: Float = 0.5, seed: UInt64 = 1) -> Tensor {
        LabelUpsampler.probabilities(fromLogits: coarseLogits(truth, labelCount: labelCount, gridHeight: gridHeight,
                                                              gridWidth: gridWidth, strength: strength, noise: noise, seed: seed),
                                     height: truth.height, width: truth.width)
    }

    /// The `[labelCount, gridHeight, gridWidth]` logits of ``coarseProbabilities``.
    static func coarseLogits(_ truth: LabelMap, labelCount: Int, gridHeight: Int, gridWidth: Int,
                             strength: Float = 4, noise: Float = 0.5, seed: UInt64 = 1) -> Tensor {
        var share = [Float](repeating: 0, count: labelCount * gridHeight * gridWidth)
        var total = [Float](repeating: 0, count: gridHeight * gridWidth)
        for y in 0..<truth.height {
            let r = min(gridHeight - 1, y * gridHeight / truth.height)
            for x in 0..<truth.width {
                let c = min(gridWidth - 1, x * gridWidth / truth.width)
                let label = Int(truth.labels[y * truth.width + x])
                share[(label * gridHeight + r) * gridWidth + c] += 1
                total[r * gridWidth + c] += 1
            }
        }
        var rng = SplitMix64(seed: seed)
        let plane = gridHeight * gridWidth
        let logits = (0..<share.count).map { i in
            strength * share[i] / max(1, total[i % plane]) + noise * rng.nextGaussian()
        }
        return Tensor(shape: [labelCount, gridHeight, gridWidth], scalars: logits)
    }

    /// Mean field with explicit O(N²) kernel sums in Double: the definition the lattice
    /// approximates (symmetric normalisation, own pixel kept, Q₀ = p). Label-major output.
    static func bruteForceMeanField(image: Image, probabilities: Tensor, parameters: DenseCRFParameters) -> [Double] {
        let w = image.width, h = image.height, n = w * h, labels = probabilities.shape[0]
        func kernel(spatial: Float, color: Float?) -> [Double] {
            var k = [Double](repeating: 0, count: n * n)
            for i in 0..<n {
                for j in 0..<n {
                    let dx = Double(i % w - j % w), dy = Double(i / w - j / w)
                    var e = (dx * dx + dy * dy) / (2 * Double(spatial * spatial))
                    if let color {
                        for c in 0..<3 {
                            let d = Double(image.pixels[i * image.channels + c]) - Double(image.pixels[j * image.channels + c])
                            e += d * d / (2 * Double(color * color))
                        }
                    }
                    k[i * n + j] = exp(-e)
                }
            }
            let norm = (0..<n).map { i in 1 / (0..<n).reduce(0.0) { $0 + k[i * n + $1] }.squareRoot() }
            for i in 0..<n { for j in 0..<n { k[i * n + j] *= norm[i] * norm[j] } }
            return k
        }
        let kernels = [(kernel(spatial: parameters.gaussianSXY, color: nil), Double(parameters.gaussianWeight)),
                       (kernel(spatial: parameters.bilateralSXY, color: parameters.bilateralSRGB), Double(parameters.bilateralWeight))]
        var p = [Double](repeating: 0, count: n * labels)
        for i in 0..<n {
            let sum = (0..<labels).reduce(0.0) { $0 + Double(probabilities.scalars[$1 * n + i]) }
            for l in 0..<labels { p[l * n + i] = Double(probabilities.scalars[l * n + i]) / sum }
        }
        var q = p
        for _ in 0..<parameters.iterations {
            var m = [Double](repeating: 0, count: n * labels)
            for (k, weight) in kernels {
                for l in 0..<labels {
                    for i in 0..<n {
                        var acc = 0.0
                        for j in 0..<n { acc += k[i * n + j] * q[l * n + j] }
                        m[l * n + i] += weight * acc
                    }
                }
            }
            for i in 0..<n {
                let top = (0..<labels).map { m[$0 * n + i] }.max()!
                var sum = 0.0
                for l in 0..<labels {
                    q[l * n + i] = p[l * n + i] * exp(m[l * n + i] - top)
                    sum += q[l * n + i]
                }
                for l in 0..<labels { q[l * n + i] /= sum }
            }
        }
        return q
    }

    static func argmax(_ marginals: [Float], labels: Int, pixels: Int) -> [UInt8] {
        (0..<pixels).map { i in
            var best = marginals[i], arg = 0
            for l in 1..<labels where marginals[l * pixels + i] > best {
                best = marginals[l * pixels + i]
                arg = l
            }
            return UInt8(arg)
        }
    }
}

/// Pixel (x, y) of a `[labels, H, W]` tensor.
private func value(_ t: Tensor, _ label: Int, _ y: Int, _ x: Int) -> Float {
    t.scalars[(label * t.shape[1] + y) * t.shape[2] + x]
}

@Suite("CRF: dense CRF mean field on real images")
struct DenseCRFTests {
    /// The giraffe crop the reference numbers below were computed on, and its input: the
    /// ground-truth mask shifted by (3, 2) px, as a 0.7 / 0.3 probability.
    static func referenceCrop() throws -> (image: Image, probabilities: Tensor) {
        let image = CRFFixture.crop(try CRFFixture.image("000000000025"), x: 384, y: 56, width: 32, height: 24)
        let mask = CRFFixture.crop(try CRFFixture.labels("000000000025", categories: [25]), x: 384, y: 56, width: 32, height: 24)
        var p = [Float](repeating: 0, count: 2 * 24 * 32)
        for y in 0..<24 {
            for x in 0..<32 {
                let inside = mask.labels[max(0, y - 2) * 32 + max(0, x - 3)] == 1
                let foreground: Float = inside ? 0.7 : 0.3
                p[y * 32 + x] = 1 - foreground
                p[768 + y * 32 + x] = foreground
            }
        }
        return (image, Tensor(shape: [2, 24, 32], scalars: p))
    }

    /// Expected values from pydensecrf2 1.1 (the reference C++ implementation) on the same
    /// pixels (Pillow decodes the JPEG to the same bytes as ``ImageDecoder``):
    ///
    ///     img = np.array(Image.open('images/000000000025.jpg').convert('RGB'))[56:80, 384:416]
    ///     mask = (np.array(Image.open('masks/000000000025.png')) == 25)[56:80, 384:416]
    ///     shifted = mask[np.clip(np.arange(24) - 2, 0, 23)][:, np.clip(np.arange(32) - 3, 0, 31)]
    ///     p1 = np.where(shifted, np.float32(0.7), np.float32(0.3)); p = np.stack([1 - p1, p1])
    ///     d = dcrf.DenseCRF2D(32, 24, 2); d.setUnaryEnergy(-np.log(p).reshape(2, -1))
    ///     d.addPairwiseGaussian(sxy=3, compat=3)
    ///     d.addPairwiseBilateral(sxy=80, srgb=13, rgbim=img, compat=10)
    ///     Q = np.array(d.inference(10)).reshape(2, 24, 32)
    ///
    /// Our lattice follows the reference's arithmetic, so the agreement is at float-rounding
    /// level (3e-6 at most over a whole 500×375 image with 21 labels, Benchmarks/compare-crf.sh).
    /// The tolerances leave room for summation order only: 1e-4 per marginal, and every pixel's
    /// label equal unless the reference itself is within 0.01 of a tie.
    @Test("matches pydensecrf2, the reference implementation, on a real 32×24 crop")
    func referenceImplementation() throws {
        let (image, p) = try Self.referenceCrop()
        let q = try DenseCRF().infer(image: image, probabilities: p)
        let mass = (0..<2).map { l in q.scalars[(l * 768)..<((l + 1) * 768)].reduce(0, +) }
        #expect(abs(mass[0] - 661.1048) < 0.01 && abs(mass[1] - 106.8962) < 0.01, "mass \(mass)")
        let points: [(y: Int, x: Int, q: Float)] = [
            (0, 0, 4.792785e-07), (5, 7, 2.290018e-07), (10, 15, 7.007753e-06), (12, 16, 6.050292e-06),
            (20, 30, 3.039439e-06), (23, 31, 1.396859e-05), (3, 20, 5.114472e-07), (8, 4, 1.016923e-06),
            (15, 9, 0.99826568), (18, 25, 1.513795e-04), (11, 11, 5.314221e-06), (6, 28, 2.018432e-06),
        ]
        for point in points {
            #expect(abs(value(q, 1, point.y, point.x) - point.q) < 1e-4, "(\(point.x), \(point.y))")
        }
        let rows = [
            "00000000000000000000000000000000", "00000000000000000000000000000000",
            "00000000000000000000000000000000", "00000000000000000000000000000000",
            "00000000000000000000000000000000", "00000000000000000000000001100000",
            "00000100000000000000000000000000", "00000000000010000000000010000000",
            "00000000000000000000000000000000", "00000000000000000000000000100000",
            "00000000000000000000000000000000", "00000000000000000000000000100000",
            "00000000000000000000000000000000", "00000000000000010000001000000000",
            "00000000000011010000110000000000", "00000000010001110011110000100000",
            "00000000100110111111111000000000", "00000000001111111111111100000000",
            "00000000000110110111011100000000", "00000000010101111011011010000000",
            "00000010101110110000101101000000", "00000100000000100000101000100000",
            "00000000001111100001111000010000", "00000100010101111011010000010000",
        ]
        var differing = 0
        for (y, row) in rows.enumerated() {
            for (x, bit) in row.enumerated() where (value(q, 1, y, x) > 0.5) != (bit == "1") {
                differing += 1
                #expect(abs(value(q, 1, y, x) - 0.5) < 0.01, "label differs at (\(x), \(y))")
            }
        }
        #expect(differing <= 2)
    }

    /// Mean field with the lattice against mean field with explicit O(N²) kernel sums on a
    /// real 32×24 crop whose input is segmenter-like (3×4 grid of mask shares, noise,
    /// bilinear upsampling). The lattice's kernel is an approximation (see
    /// PermutohedralLatticeTests), and ten mean-field iterations with weight 10 amplify small
    /// message differences near label ties, so a few pixels flip and their marginals differ a
    /// lot (up to ≈0.8) while the rest agree closely. Measured: mean |ΔQ| 0.005 / 0.008,
    /// 95th percentile 0.008 / 0.009, labels equal on 99.5 % / 99.2 % of the pixels (default
    /// kernels / bilateral sxy 8, so that positions matter inside the crop). Thresholds:
    /// mean ≤ 0.015, 95th percentile ≤ 0.02, labels ≥ 98.5 %.
    @Test("mean field on the lattice agrees with brute-force mean field on a real crop",
          arguments: [DenseCRFParameters(), DenseCRFParameters(bilateralSXY: 8)])
    func bruteForce(parameters: DenseCRFParameters) throws {
        let image = try CRFFixture.image("000000000025")
        let truth = try CRFFixture.labels("000000000025", categories: [25])
        let crop = CRFFixture.crop(image, x: 384, y: 56, width: 32, height: 24)
        let cropTruth = CRFFixture.crop(truth, x: 384, y: 56, width: 32, height: 24)
        let p = CRFFixture.coarseProbabilities(cropTruth, labelCount: 2, gridHeight: 3, gridWidth: 4)
        let exact = CRFFixture.bruteForceMeanField(image: crop, probabilities: p, parameters: parameters)
        let ours = try DenseCRF(parameters: parameters).infer(image: crop, probabilities: p)
        let errors = (0..<exact.count).map { abs(exact[$0] - Double(ours.scalars[$0])) }.sorted()
        let mean = errors.reduce(0, +) / Double(errors.count)
        let percentile95 = errors[errors.count * 95 / 100]
        let a = CRFFixture.argmax(ours.scalars, labels: 2, pixels: 768)
        let b = CRFFixture.argmax(exact.map { Float($0) }, labels: 2, pixels: 768)
        let agreement = Double(zip(a, b).filter { $0 == $1 }.count) / 768
        #expect(mean <= 0.015, "mean |ΔQ| \(mean)")
        #expect(percentile95 <= 0.02, "95th percentile |ΔQ| \(percentile95)")
        #expect(agreement >= 0.985, "labels agree on \(agreement * 100) %")
        // The CRF changed the input's labels substantially, so the agreement is not trivial.
        let input = CRFFixture.argmax(p.scalars, labels: 2, pixels: 768)
        #expect(zip(input, b).filter { $0 != $1 }.count > 50)
    }

    /// The updates are the fixed-point iteration of the mean-field free energy, which is
    /// concave-convex for Potts with Gaussian kernels (Krähenbühl & Koltun 2013), so it must
    /// fall at every step. On this 256×192 crop of the giraffe image the drops shrink from
    /// 1.7e4 to ≈2.6 over the ten iterations (total ≈1.6e4), far above Double rounding; the full
    /// 640×426 image behaves alike (8e4 to ≈1.6, total 6e4).
    @Test("the mean-field free energy falls at every iteration on a real image")
    func energyDecreases() throws {
        let image = CRFFixture.crop(try CRFFixture.image("000000000025"), x: 300, y: 20, width: 256, height: 192)
        let truth = CRFFixture.crop(try CRFFixture.labels("000000000025", categories: [25]), x: 300, y: 20, width: 256, height: 192)
        let p = CRFFixture.coarseProbabilities(truth, labelCount: 2, gridHeight: 26, gridWidth: 34)
        let crf = try DenseCRF()
        var snapshots: [Tensor] = []
        let final = try crf.infer(image: image, probabilities: p) { iteration, marginals in
            #expect(iteration == snapshots.count)
            snapshots.append(marginals)
        }
        #expect(snapshots.count == 11)
        #expect(snapshots.last == final)
        let energies = try snapshots.map { try crf.energy(image: image, probabilities: p, marginals: $0) }
        for t in 1..<energies.count {
            #expect(energies[t] < energies[t - 1], "iteration \(t): \(energies[t - 1]) → \(energies[t])")
        }
        #expect(energies[10] < 0.5 * energies[0])
        // Observing does not change the result.
        #expect(try crf.infer(image: image, probabilities: p) == final)
    }

    @Test("no iterations or no kernels return the input, normalised per pixel")
    func trivialCases() throws {
        let (image, p) = try Self.referenceCrop()
        let doubled = Tensor(shape: p.shape, scalars: p.scalars.map { $0 * 2 })
        let none = try DenseCRF(parameters: DenseCRFParameters(iterations: 0)).infer(image: image, probabilities: doubled)
        for i in 0..<p.count { #expect(abs(none.scalars[i] - p.scalars[i]) <= 1e-7) }
        let weightless = try DenseCRF(parameters: DenseCRFParameters(gaussianWeight: 0, bilateralWeight: 0))
        #expect(try weightless.infer(image: image, probabilities: p) == none)
        // One kernel alone runs too, and differs from both kernels.
        let gaussianOnly = try DenseCRF(parameters: DenseCRFParameters(bilateralWeight: 0)).infer(image: image, probabilities: p)
        let both = try DenseCRF().infer(image: image, probabilities: p)
        #expect(gaussianOnly != none && gaussianOnly != both)
        for i in 0..<768 { #expect(abs(gaussianOnly.scalars[i] + gaussianOnly.scalars[768 + i] - 1) < 1e-5) }
    }

    @Test("parallel and single-threaded inference agree on a real image with 21 labels")
    func parallelAgrees() throws {
        let image = try CRFFixture.image("000000000077")
        var rng = SplitMix64(seed: 3)
        let logits = Tensor(shape: [21, 64, 84], scalars: (0..<(21 * 64 * 84)).map { _ in 3 * rng.nextGaussian() })
        let p = LabelUpsampler.probabilities(fromLogits: logits, height: image.height, width: image.width)
        let serial = try DenseCRF(parallel: false).infer(image: image, probabilities: p)
        let parallel = try DenseCRF(parallel: true).infer(image: image, probabilities: p)
        var worst: Float = 0
        for i in 0..<serial.count { worst = max(worst, abs(serial.scalars[i] - parallel.scalars[i])) }
        // Parallel splatting sums bands in another order; nothing else differs.
        #expect(worst < 1e-4, "max difference \(worst)")
    }

    @Test("labels(image:logits:) is the argmax of inference on the upsampled softmax, with label ids")
    func labelsFromLogits() throws {
        let image = CRFFixture.crop(try CRFFixture.image("000000000025"), x: 200, y: 100, width: 96, height: 80)
        var rng = SplitMix64(seed: 4)
        let logits = Tensor(shape: [3, 12, 16], scalars: (0..<(3 * 12 * 16)).map { _ in 2 * rng.nextGaussian() })
        let crf = try DenseCRF()
        let p = LabelUpsampler.probabilities(fromLogits: logits, height: 80, width: 96)
        let q = try crf.infer(image: image, probabilities: p)
        let expected = CRFFixture.argmax(q.scalars, labels: 3, pixels: 80 * 96)
        let plain = try crf.labels(image: image, logits: logits)
        #expect(plain.width == 96 && plain.height == 80)
        #expect(plain.labels == expected)
        #expect(try crf.labels(image: image, probabilities: p, labelIDs: [0, 15, 7]).labels == expected.map { [0, 15, 7][Int($0)] })
        // A gray image is used as equal R, G and B.
        let gray = Image(width: 96, height: 80, channels: 1, pixels: stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] })
        let rgb = Image(width: 96, height: 80, channels: 3, pixels: gray.pixels.flatMap { [$0, $0, $0] })
        #expect(try crf.infer(image: gray, probabilities: p) == crf.infer(image: rgb, probabilities: p))
    }

    @Test("logitScale multiplies the logits before the unaries; validated and decoded with its default")
    func logitScale() throws {
        let image = CRFFixture.crop(try CRFFixture.image("000000000025"), x: 200, y: 100, width: 96, height: 80)
        var rng = SplitMix64(seed: 5)
        let logits = Tensor(shape: [3, 12, 16], scalars: (0..<(3 * 12 * 16)).map { _ in 0.5 * rng.nextGaussian() })
        var sharp = DenseCRFParameters()
        sharp.logitScale = 4
        let scaled = Tensor(shape: logits.shape, scalars: logits.scalars.map { $0 * 4 })
        let viaScale = try DenseCRF(parameters: sharp).labels(image: image, logits: logits)
        #expect(viaScale == (try DenseCRF().labels(image: image, logits: scaled)))
        #expect(viaScale != (try DenseCRF().labels(image: image, logits: logits)),
                "sharper unaries change what the pairwise terms do to these weak logits")
        #expect(DenseCRFParameters().logitScale == 1)
        // What segment and evaluate use: the reference values, chosen on held-out train2017
        // after the prediction rules, on the half-size image.
        var reference = DenseCRFParameters.segmenterDefault
        reference.resolution = 1
        #expect(reference == DenseCRFParameters())
        #expect(DenseCRFParameters.segmenterDefault.resolution == 0.5)
        try DenseCRFParameters.segmenterDefault.validate()
        for bad: Float in [0, -1, .nan, .infinity, 1000] {
            var parameters = DenseCRFParameters()
            parameters.logitScale = bad
            #expect {
                try DenseCRF(parameters: parameters)
            } throws: { error in
                guard case .invalidParameter(let name, _, _) = error as? DenseCRFError else { return false }
                return name == "logitScale"
            }
        }
        let decoded = try JSONDecoder().decode(DenseCRFParameters.self, from: Data(#"{"logitScale": 2.5}"#.utf8))
        #expect(decoded.logitScale == 2.5 && decoded.iterations == DenseCRFParameters().iterations)
        #expect(try JSONDecoder().decode(DenseCRFParameters.self, from: JSONEncoder().encode(sharp)) == sharp)
    }

    /// A whole 640×426 photo with segmenter-like logits on the 64×84 grid (blocky giraffe
    /// boundaries): the CRF on the half-size image is the CRF of the shrunk image with its
    /// positional deviations halved, enlarged; its labels are the full-resolution CRF's but for
    /// a thin band along boundaries, and as accurate. (Whether the CRF helps at all is a
    /// question for real segmenter logits: docs/RESULTS.md, lever 10.)
    @Test("resolution: inference on the shrunk image, marginals enlarged; as accurate as every pixel")
    func resolution() throws {
        let image = try CRFFixture.image("000000000025")
        let truth = try CRFFixture.labels("000000000025", categories: [25])
        let logits = CRFFixture.coarseLogits(truth, labelCount: 2, gridHeight: 64, gridWidth: 84)
        var half = DenseCRFParameters()
        half.resolution = 0.5
        let reduced = try DenseCRF(parameters: half)
        let labels = try reduced.labels(image: image, logits: logits)

        // The definition, spelled out: 320×213, sxy 1.5 and 40, enlarged bilinearly.
        let small = image.resized(height: 213, width: 320)
        let shrink = (Float(320) / 640 + Float(213) / 426) / 2
        let shrunk = DenseCRFParameters(gaussianSXY: 3 * shrink, bilateralSXY: 80 * shrink)
        let q = try DenseCRF(parameters: shrunk)
            .infer(image: small, probabilities: LabelUpsampler.probabilities(fromLogits: logits, height: 213, width: 320))
        #expect(labels == LabelUpsampler.labels(fromLogits: q, height: 426, width: 640, labelIDs: [0, 1]))

        // The marginals at full size sum to 1 and their argmax is the label map.
        let marginals = try reduced.marginals(image: image, logits: logits)
        #expect(marginals.shape == [2, 426, 640])
        let plane = 426 * 640
        let worst = (0..<plane).map { abs(marginals.scalars[$0] + marginals.scalars[plane + $0] - 1) }.max()!
        #expect(worst < 1e-5, "marginals sum to 1 within \(worst)")
        #expect(CRFFixture.argmax(marginals.scalars, labels: 2, pixels: plane) == labels.labels)

        // Against the truth: the plain argmax, the CRF on every pixel, the CRF on a quarter of them.
        func accuracy(_ map: LabelMap) -> Double {
            Double(zip(map.labels, truth.labels).filter { $0 == $1 }.count) / Double(plane)
        }
        let plain = LabelUpsampler.labels(fromLogits: logits, height: 426, width: 640, labelIDs: [0, 1])
        let full = try DenseCRF().labels(image: image, logits: logits)
        #expect(accuracy(full) != accuracy(plain), "the CRF acts on these logits")
        #expect(abs(accuracy(labels) - accuracy(full)) < 0.005,
                "half resolution \(accuracy(labels)), every pixel \(accuracy(full)), plain \(accuracy(plain))")
        let agreement = Double(zip(labels.labels, full.labels).filter { $0 == $1 }.count) / Double(plane)
        #expect(agreement > 0.98, "half and full resolution agree on \(agreement) of the pixels")
        // The default is the reference: every pixel.
        #expect(DenseCRFParameters().resolution == 1)
        for bad: Float in [0, 0.05, 1.5, .nan] {
            var parameters = DenseCRFParameters()
            parameters.resolution = bad
            #expect(throws: DenseCRFError.self) { try DenseCRF(parameters: parameters) }
        }
        let decoded = try JSONDecoder().decode(DenseCRFParameters.self, from: Data(#"{"resolution": 0.5}"#.utf8))
        #expect(decoded == half)
    }

    @Test("LabelUpsampler.probabilities: a softmax of the same resize as the label path")
    func upsampledProbabilities() {
        var rng = SplitMix64(seed: 6)
        for (c, h, w, height, width) in [(5, 7, 9, 23, 31), (21, 64, 84, 30, 41), (2, 3, 3, 3, 3)] {
            let logits = Tensor(shape: [c, h, w], scalars: (0..<(c * h * w)).map { _ in 6 * rng.nextGaussian() })
            let p = LabelUpsampler.probabilities(fromLogits: logits, height: height, width: width)
            let resized = Resampler.resize(logits, height: height, width: width)
            let plane = height * width
            for i in 0..<plane {
                let top = (0..<c).map { resized.scalars[$0 * plane + i] }.max()!
                let e = (0..<c).map { exp(Double(resized.scalars[$0 * plane + i] - top)) }
                let sum = e.reduce(0, +)
                for k in 0..<c { #expect(abs(Double(p.scalars[k * plane + i]) - e[k] / sum) < 1e-6) }
            }
            let labels = LabelUpsampler.labels(fromLogits: logits, height: height, width: width)
            #expect(CRFFixture.argmax(p.scalars, labels: c, pixels: plane) == labels.labels)
        }
    }

    @Test("parameters: defaults, validation with typed errors, JSON with missing keys")
    func parameters() throws {
        let defaults = DenseCRFParameters()
        #expect(defaults == DenseCRFParameters(iterations: 10, gaussianSXY: 3, gaussianWeight: 3,
                                               bilateralSXY: 80, bilateralSRGB: 13, bilateralWeight: 10))
        let bad: [(DenseCRFParameters, String)] = [
            (DenseCRFParameters(iterations: -1), "iterations"),
            (DenseCRFParameters(gaussianSXY: 0), "gaussianSXY"),
            (DenseCRFParameters(bilateralSXY: -3), "bilateralSXY"),
            (DenseCRFParameters(bilateralSRGB: .nan), "bilateralSRGB"),
            (DenseCRFParameters(gaussianWeight: -1), "gaussianWeight"),
            (DenseCRFParameters(bilateralWeight: .infinity), "bilateralWeight"),
        ]
        for (parameters, name) in bad {
            #expect {
                try DenseCRF(parameters: parameters)
            } throws: { error in
                guard case .invalidParameter(let got, _, _) = error as? DenseCRFError else { return false }
                return got == name && "\(error)".contains("DenseCRFParameters.\(name)")
            }
        }
        let decoded = try JSONDecoder().decode(DenseCRFParameters.self, from: Data(#"{"bilateralSRGB": 20, "iterations": 5}"#.utf8))
        #expect(decoded == DenseCRFParameters(iterations: 5, bilateralSRGB: 20))
        let custom = DenseCRFParameters(iterations: 3, gaussianSXY: 2, gaussianWeight: 1, bilateralSXY: 50,
                                        bilateralSRGB: 10, bilateralWeight: 5)
        #expect(try JSONDecoder().decode(DenseCRFParameters.self, from: JSONEncoder().encode(custom)) == custom)
        // A standard deviation so small that positions leave the lattice's range.
        let image = Image(width: 4, height: 3, channels: 3, pixels: [UInt8](repeating: 9, count: 36))
        let p = Tensor(shape: [2, 3, 4], scalars: [Float](repeating: 0.5, count: 24))
        #expect(throws: DenseCRFError.self) {
            try DenseCRF(parameters: DenseCRFParameters(gaussianSXY: 1e-6)).infer(image: image, probabilities: p)
        }
    }

    @Test("input errors name the problem and the pixel")
    func inputErrors() throws {
        let crf = try DenseCRF()
        let image = Image(width: 4, height: 3, channels: 3, pixels: [UInt8](repeating: 9, count: 36))
        let good = Tensor(shape: [2, 3, 4], scalars: [Float](repeating: 0.5, count: 24))
        #expect(throws: DenseCRFError.emptyImage) {
            try crf.infer(image: Image(width: 0, height: 0, channels: 3, pixels: []), probabilities: Tensor(zeros: [2, 0, 0]))
        }
        #expect(throws: DenseCRFError.self) { try crf.infer(image: image, probabilities: Tensor(zeros: [2, 4, 3])) }
        #expect(throws: DenseCRFError.self) { try crf.infer(image: image, probabilities: Tensor(zeros: [0, 3, 4])) }
        #expect(throws: DenseCRFError.self) { try crf.infer(image: image, probabilities: [0.5, 0.5], labelCount: 2) }
        for (index, badValue, detail) in [(13, Float.nan, "negative, NaN"), (13, -0.1, "negative, NaN"), (13, .infinity, "negative, NaN")] {
            var p = good
            p.scalars[index] = badValue
            do {
                _ = try crf.infer(image: image, probabilities: p)
                Issue.record("\(badValue) was accepted")
            } catch {
                guard case .invalidProbabilities(let x, let y, let text) = error else { Issue.record("\(error)"); continue }
                #expect(x == 1 && y == 0 && text.contains(detail))
            }
        }
        var zeros = good
        zeros.scalars[6] = 0
        zeros.scalars[18] = 0
        do {
            _ = try crf.infer(image: image, probabilities: zeros)
            Issue.record("all-zero probabilities were accepted")
        } catch {
            guard case .invalidProbabilities(2, 1, let text) = error else { Issue.record("\(error)"); return }
            #expect(text.contains("all are zero"))
        }
        #expect(throws: DenseCRFError.self) { try crf.labels(image: image, probabilities: good, labelIDs: [1]) }
        #expect(throws: DenseCRFError.self) {
            try crf.energy(image: image, probabilities: good, marginals: Tensor(zeros: [3, 3, 4]))
        }
        #expect(throws: DenseCRFError.self) { try crf.labels(image: image, logits: Tensor(zeros: [2, 0, 4])) }
    }
}

@Suite("CRF: in the segmentation pipeline and the evaluator")
struct DenseCRFPipelineTests {
    /// A segmenter trained on real giraffe/elephant points (the segmenter tests' fixture) and
    /// the real features of its three images.
    static func fixture() throws -> (segmenter: Segmenter, cases: [RealPointsFixture.ImageCase]) {
        (try SegmenterFixture.fitted.get().segmenter, try RealPointsFixture.cases.get())
    }

    /// The fixture's segmenter in a pipeline without rules or CRF (channels labelled 0, 25,
    /// 22), a real giraffe photo and the pipeline's logits for it.
    static func giraffe() throws -> (pipeline: SegmentationPipeline, image: Image, logits: Tensor) {
        let (segmenter, _) = try fixture()
        let extractor = try HypercolumnExtractor(weightsAt: SharedData.weights)
        let image = try CRFFixture.image("000000000025")
        let pipeline = SegmentationPipeline(extractor: extractor, segmenter: segmenter, channelLabels: [0, 25, 22],
                                            adjustment: .none)
        return (pipeline, image, try pipeline.logits(image))
    }

    @Test("segment(_:) with a CRF equals the CRF on the pipeline's logits; without, the plain argmax")
    func pipeline() throws {
        var (pipeline, image, logits) = try Self.giraffe()
        let plain = try pipeline.segment(image)
        #expect(plain == LabelUpsampler.labels(fromLogits: logits, height: image.height, width: image.width,
                                               labelIDs: [0, 25, 22]))
        pipeline.crf = DenseCRFParameters(iterations: 5)
        let refined = try pipeline.segment(image)
        let expected = try DenseCRF(parameters: DenseCRFParameters(iterations: 5))
            .labels(image: image, logits: logits, labelIDs: [0, 25, 22])
        #expect(refined == expected)
        #expect(refined != plain)
        #expect(Set(refined.labels).isSubset(of: [0, 25, 22]))
        pipeline.crf = DenseCRFParameters(iterations: -2)
        #expect(throws: DenseCRFError.self) { try pipeline.segment(image) }
    }

    /// What `segment` and the façade call: the label map must be `segment(_:)`'s and the
    /// probabilities the CRF's marginals — at every resolution and logit scale (the logit
    /// scale once went missing on this path).
    @Test("segmentation(_:) with a CRF: segment(_:)'s labels and the CRF's marginals, at half resolution too")
    func segmentation() throws {
        var (pipeline, image, logits) = try Self.giraffe()
        var parameters = DenseCRFParameters(iterations: 5)
        for (resolution, scale): (Float, Float) in [(1, 1), (0.5, 1), (0.5, 2)] {
            parameters.resolution = resolution
            parameters.logitScale = scale
            pipeline.crf = parameters
            let result = try pipeline.segmentation(image)
            #expect(result.labels == (try pipeline.segment(image)), "resolution \(resolution), logit scale \(scale)")
            #expect(result.probabilities == (try DenseCRF(parameters: parameters).marginals(image: image, logits: logits)))
            #expect(result.probabilities.shape == [3, image.height, image.width])
        }
    }

    @Test("the evaluator with a CRF scores the CRF's labels, also from cached features")
    func evaluator() throws {
        let (segmenter, cases) = try Self.fixture()
        let extractor = try HypercolumnExtractor(weightsAt: SharedData.weights)
        let ids = Set(cases.map(\.id))
        let samples = try Dataset.open(spec: "coco:" + CRFFixture.dataRoot).samples.filter { ids.contains($0.id) }
        #expect(samples.count == 3)
        let byPath = Dictionary(uniqueKeysWithValues: zip(samples.sorted { $0.id < $1.id }.map(\.imagePath),
                                                          cases.sorted { $0.id < $1.id }.map(\.compact)))
        let parameters = DenseCRFParameters(iterations: 3)
        let pipeline = SegmentationPipeline(extractor: extractor, segmenter: segmenter, adjustment: .none)
        let evaluator = SegmentationEvaluator(pipeline: pipeline, features: { byPath[$0]! }, crf: parameters)
        let scores = try evaluator.evaluate(samples)

        var matrix = ConfusionMatrix(classCount: 3)
        for sample in samples {
            let truth = try #require(try sample.groundTruth(classes: ["giraffe", "elephant"]))
            let image = try ImageDecoder.decodeRGB(contentsOf: sample.imagePath)
            let logits = try segmenter.logits(byPath[sample.imagePath]!)
            try matrix.add(groundTruth: truth, prediction: DenseCRF(parameters: parameters).labels(image: image, logits: logits))
        }
        #expect(scores == (try SegmentationScores(matrix: matrix, classNames: segmenter.classes)))
        // The pipeline's own CRF is the default; no CRF gives other scores.
        let viaPipeline = SegmentationEvaluator(pipeline: SegmentationPipeline(extractor: extractor, segmenter: segmenter, crf: parameters,
                                                                                     adjustment: .none),
                                                features: { byPath[$0]! })
        #expect(viaPipeline.crf == parameters)
        let plain = try SegmentationEvaluator(pipeline: pipeline, features: { byPath[$0]! }).evaluate(samples)
        #expect(plain != scores)
    }
}
