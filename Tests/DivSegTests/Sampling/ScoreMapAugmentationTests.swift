import DivSeg
import Testing

@Suite("Score-map augmentation: flipped maps for training labels")
struct ScoreMapAugmentationTests {
    @Test("a mirrored map reverses every row; mirroring twice gives the map back")
    func mirror() {
        let map: [Float] = [1, 2, 3, 4, 5, 6]
        #expect(ScoreMapAugmentation.mirrored(map, width: 3) == [3, 2, 1, 6, 5, 4])
        #expect(ScoreMapAugmentation.mirrored(map, width: 2) == [2, 1, 4, 3, 6, 5])
        let grid = (0..<FeatureGrid.locations).map { Float($0 % 97) }
        #expect(ScoreMapAugmentation.mirrored(ScoreMapAugmentation.mirrored(grid)) == grid)
        #expect(ScoreMapAugmentation.mirrored(grid)[0] == grid[FeatureGrid.width - 1])
    }

    @Test("with flip the map is the mean of the image's and the mirror image's (mirrored back); without, the image's own")
    func combined() {
        let scores: [Float] = [1, 0, 0, 1]
        let flipped: [Float] = [0, 1, 1, 0]    // the same object, seen in the mirror image
        #expect(ScoreMapAugmentation().combined(scores, flipped: flipped, width: 2) == scores)
        #expect(ScoreMapAugmentation(flip: true).combined(scores, flipped: flipped, width: 2) == [1, 0, 0, 1])
        #expect(ScoreMapAugmentation(flip: true).combined(scores, flipped: [0, 0, 0, 0], width: 2) == [0.5, 0, 0, 0.5])
        #expect(ScoreMapAugmentation().keyText.isEmpty && !ScoreMapAugmentation(flip: true).keyText.isEmpty)
    }
}
