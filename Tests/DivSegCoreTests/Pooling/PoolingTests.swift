import DivSegCore
import Testing

@Suite("Pooling")
struct PoolingTests {
    @Test("2×2 max pooling drops the odd trailing column")
    func maxPool() {
        // One channel, 2×5: windows [1,2;6,7]→7, [3,4;8,9]→9; column 5 is dropped.
        let x = Tensor(shape: [1, 2, 5], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        let y = Pooling.max(x, factor: 2)
        #expect(y.shape == [1, 1, 2])
        #expect(y.scalars == [7, 9])
    }

    @Test("4×4 average pooling averages each window, per channel")
    func averagePool() {
        let values = (0..<(2 * 8 * 4)).map(Float.init)
        let x = Tensor(shape: [2, 8, 4], scalars: values)
        let y = Pooling.average(x, factor: 4)
        #expect(y.shape == [2, 2, 1])
        for c in 0..<2 {
            for oy in 0..<2 {
                var sum: Float = 0
                for dy in 0..<4 { for dx in 0..<4 { sum += values[(c * 8 + oy * 4 + dy) * 4 + dx] } }
                #expect(y[c, oy, 0] == sum / 16)
            }
        }
    }

    @Test("negative inputs survive max pooling")
    func negatives() {
        let x = Tensor(shape: [1, 2, 2], scalars: [-4, -3, -2, -5])
        #expect(Pooling.max(x).scalars == [-2])
    }
}
