import DivSeg
import DivSegCore
import DivSegIO
import DivSegTestSupport
import Foundation

/// Real features of three coco-mini images (two giraffes, one elephant), computed once per
/// test process and shared by the sampling and segmenter tests, with score maps derived
/// from the ground-truth masks.
enum RealPointsFixture {
    struct ImageCase: Sendable {
        let id: String
        /// COCO category id in the mask (giraffe 25, elephant 22).
        let category: UInt8
        /// Segmenter label (1 giraffe, 2 elephant).
        let label: Int
        let features: Hypercolumns
        /// The same features per layer group at the groups' resolutions.
        let compact: CompactHypercolumns
        let similarity: FeatureSimilarity
        /// Share of each grid cell covered by the object (5376 values).
        let maskFraction: [Float]
        /// A real-valued score map: mask share blurred by a 3×3 box plus noise in [0, 0.2).
        let scores: [Float]
    }

    static let classes = ["background", "giraffe", "elephant"]
    static let images: [(id: String, category: UInt8, label: Int)] = [
        ("000000000025", 25, 1), ("000000000072", 25, 1), ("000000000263", 22, 2),
    ]

    static let cases: Result<[ImageCase], any Error> = Result {
        let extractor = try HypercolumnExtractor(weightsAt: SharedData.weights)
        let dataRoot = SharedData.cocoMini
        return try images.enumerated().map { index, image in
            let picture = try ImageDecoder.decodeRGB(contentsOf: "\(dataRoot)/images/\(image.id).jpg")
            let mask = try ImageDecoder.decodeLabels(contentsOf: "\(dataRoot)/masks/\(image.id).png")
            let maps = extractor.backbone.convolutionMaps(HypercolumnExtractor.networkInput(for: picture))
            let global = extractor.backbone.globalDescriptor(block5Conv3: maps[12])
            let features = Hypercolumns(features: HypercolumnExtractor.assemble(maps), global: global)
            let fraction = maskFraction(mask, category: image.category)
            var rng = SplitMix64(seed: UInt64(100 + index))
            let blurred = boxBlur(fraction)
            let scores = blurred.map { $0 + 0.2 * rng.nextFloat() }
            return ImageCase(id: image.id, category: image.category, label: image.label,
                             features: features, compact: CompactHypercolumns(maps: maps, global: global),
                             similarity: try FeatureSimilarity(hypercolumns: features.features),
                             maskFraction: fraction, scores: scores)
        }
    }

    /// Share of the pixels of each 64×84 grid cell (cells tile the whole image) whose mask
    /// value is `category`.
    static func maskFraction(_ mask: LabelMap, category: UInt8) -> [Float] {
        let (gh, gw) = (FeatureGrid.height, FeatureGrid.width)
        var inside = [Int](repeating: 0, count: gh * gw)
        var total = [Int](repeating: 0, count: gh * gw)
        for y in 0..<mask.height {
            let r = min(gh - 1, y * gh / mask.height)
            for x in 0..<mask.width {
                let c = min(gw - 1, x * gw / mask.width)
                total[r * gw + c] += 1
                if mask.labels[y * mask.width + x] == category { inside[r * gw + c] += 1 }
            }
        }
        return zip(inside, total).map { $1 > 0 ? Float($0) / Float($1) : 0 }
    }

    static func boxBlur(_ map: [Float]) -> [Float] {
        let (gh, gw) = (FeatureGrid.height, FeatureGrid.width)
        var out = [Float](repeating: 0, count: map.count)
        for r in 0..<gh {
            for c in 0..<gw {
                var sum: Float = 0, n: Float = 0
                for dr in -1...1 {
                    for dc in -1...1 {
                        let (rr, cc) = (r + dr, c + dc)
                        if rr >= 0 && rr < gh && cc >= 0 && cc < gw { sum += map[rr * gw + cc]; n += 1 }
                    }
                }
                out[r * gw + c] = sum / n
            }
        }
        return out
    }

    /// `count` seeded-random locations inside the object (share ≥ 0.9) labelled with the
    /// image's label, and `count` outside it (share 0) labelled background.
    static func maskPoints(_ image: ImageCase, count: Int, seed: UInt64) -> [LabeledPoint] {
        var rng = SplitMix64(seed: seed)
        func choose(_ candidates: [Int]) -> [Int] {
            var pool = candidates
            for i in stride(from: pool.count - 1, to: 0, by: -1) {
                pool.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            return Array(pool.prefix(count))
        }
        let inside = image.maskFraction.indices.filter { image.maskFraction[$0] >= 0.9 }
        let outside = image.maskFraction.indices.filter { image.maskFraction[$0] == 0 }
        return choose(inside).map { LabeledPoint(location: $0, label: image.label) }
            + choose(outside).map { LabeledPoint(location: $0, label: 0) }
    }

    static func median(_ values: [Float]) -> Float {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    static func gridDistance(_ a: Int, _ b: Int) -> Float {
        let w = FeatureGrid.width
        let (dr, dc) = (Float(a / w - b / w), Float(a % w - b % w))
        return (dr * dr + dc * dc).squareRoot()
    }

    static func meanPairwiseDistance(_ picks: [Int]) -> Float {
        var sum: Float = 0, pairs: Float = 0
        for i in 0..<picks.count {
            for j in (i + 1)..<picks.count { sum += gridDistance(picks[i], picks[j]); pairs += 1 }
        }
        return pairs > 0 ? sum / pairs : 0
    }
}
