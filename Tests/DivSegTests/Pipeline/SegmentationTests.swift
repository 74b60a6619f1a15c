import DivSeg
import DivSegCore
import DivSegIO
import Testing

@Suite("Segmentation: areas, confidences, masks, probability maps")
struct SegmentationTests {
    /// 2 × 2 image, channels → labels [0, 7, 3]; pixels labelled 7, 7, 0, 3.
    static func example() -> Segmentation {
        let labels = LabelMap(width: 2, height: 2, labels: [7, 7, 0, 3])
        let p: [Float] = [0.1, 0.3, 0.5, 0.2,     // channel 0 (background)
                          0.8, 0.6, 0.3, 0.2,     // channel 1 (label 7)
                          0.1, 0.1, 0.2, 0.6]     // channel 2 (label 3)
        return Segmentation(labels: labels, probabilities: Tensor(shape: [3, 2, 2], scalars: p), channelLabels: [0, 7, 3])
    }

    @Test("areas: largest first, each label's mean probability over its pixels")
    func areas() {
        let areas = Self.example().areas()
        #expect(areas.map(\.label) == [7, 0, 3])
        #expect(areas.map(\.pixels) == [2, 1, 1])
        #expect(areas[0].fraction == 0.5)
        #expect(abs(areas[0].meanConfidence - 0.7) < 1e-6)
        #expect(abs(areas[1].meanConfidence - 0.5) < 1e-6)
        #expect(abs(areas[2].meanConfidence - 0.6) < 1e-6)
    }

    @Test("a binary mask and a probability map per label")
    func masks() {
        let result = Self.example()
        #expect(result.mask(label: 7).labels == [1, 1, 0, 0])
        #expect(result.mask(label: 9).labels == [0, 0, 0, 0])
        #expect(result.probabilityMap(label: 3) == [0.1, 0.1, 0.2, 0.6])
        #expect(result.probabilityMap(label: 9) == nil)
    }
}
