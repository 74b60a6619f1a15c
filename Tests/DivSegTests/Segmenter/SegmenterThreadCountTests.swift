import DivSeg
import DivSegCore
import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

/// Issue #14: a sharded evaluation on machines with other core counts must predict what one
/// process predicts. The shipped segmenter's logits on real coco-mini val images are the
/// same bits whether OpenBLAS runs 1 or 2 threads per product (with plain OpenBLAS products
/// they were not: one pixel of the 230 val images changed label).
@Suite("Segmenter: logits independent of the BLAS thread count")
struct SegmenterThreadCountTests {
    static let images = ["000000000139", "000000000285", "000000000632"]

    static func bitsDiffer(_ a: Tensor, _ b: Tensor) -> Int {
        zip(a.scalars, b.scalars).filter { $0.bitPattern != $1.bitPattern }.count
    }

    @Test("compact and expanded hypercolumns: the same logits with 1 and 2 threads")
    func sameLogits() throws {
        let segmenter = try Segmenter(contentsOf: SharedData.shippedRegistry + "/segmenter.h5")
        let extractor = try HypercolumnExtractor(weightsAt: SharedData.weights)
        for (index, id) in Self.images.enumerated() {
            let image = try ImageDecoder.decodeRGB(contentsOf: SharedData.cocoMiniImage(id))
            let compact = extractor.extractCompact(from: image)
            let one = try BLAS.withThreadCount(1) { try segmenter.logits(compact) }
            let two = try BLAS.withThreadCount(2) { try segmenter.logits(compact) }
            #expect(one.shape == [segmenter.classes.count, FeatureGrid.height, FeatureGrid.width])
            #expect(Self.bitsDiffer(one, two) == 0, "\(id): compact logits differ between 1 and 2 threads")
            if index == 0 {
                let expanded = compact.expanded()
                let oneFull = try BLAS.withThreadCount(1) { try segmenter.logits(hypercolumns: expanded, global: compact.global) }
                let twoFull = try BLAS.withThreadCount(2) { try segmenter.logits(hypercolumns: expanded, global: compact.global) }
                #expect(Self.bitsDiffer(oneFull, twoFull) == 0, "\(id): logits differ between 1 and 2 threads")
            }
        }
    }
}
