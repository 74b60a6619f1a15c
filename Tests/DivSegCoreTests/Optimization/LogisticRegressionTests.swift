import DivSegCore
import Testing

@Suite("LogisticRegression: Adam-fitted independent sigmoids")
struct LogisticRegressionTests {
    /// Two Gaussian blobs in 8 dimensions, 100 rows; output 0 separates them, output 1 is
    /// the sign of the first coordinate.
    static func data() -> (x: [Float], y: [Float]) {
        var rng = SplitMix64(seed: 11)
        var x: [Float] = [], y: [Float] = []
        for i in 0..<100 {
            let blob: Float = i % 2 == 0 ? 1 : -1
            let row = (0..<8).map { _ in rng.nextGaussian() + blob }
            x += row
            y += [blob > 0 ? 1 : 0, row[0] > 1 ? 1 : 0]
        }
        return (x, y)
    }

    @Test("the loss falls and the outputs are learned")
    func fits() throws {
        let (x, y) = Self.data()
        let model = try LogisticRegression(epochs: 200, batchSize: 16, learningRate: 1e-2, weightDecay: 0, seed: 1)
            .fit(x: x, y: y, rows: 100, features: 8, outputs: 2)
        #expect(model.epochLosses.count == 200)
        #expect(model.epochLosses.last! < 0.5 * model.epochLosses.first!)
        let z = model.logits(x: x, rows: 100)
        let blobsRight = (0..<100).filter { (z[$0 * 2] >= 0) == (y[$0 * 2] == 1) }.count
        let signRight = (0..<100).filter { (z[$0 * 2 + 1] >= 0) == (y[$0 * 2 + 1] == 1) }.count
        #expect(blobsRight >= 95, "blob accuracy \(blobsRight) %")
        #expect(signRight >= 90, "threshold accuracy \(signRight) %")
    }

    @Test("the same seed gives identical weights; another seed another batch order")
    func deterministic() throws {
        let (x, y) = Self.data()
        func fit(_ seed: UInt64) throws -> LogisticRegression.Model {
            try LogisticRegression(epochs: 5, batchSize: 16, seed: seed).fit(x: x, y: y, rows: 100, features: 8, outputs: 2)
        }
        #expect(try fit(3) == fit(3))
        #expect(try fit(3).weights != fit(4).weights)
    }

    @Test("a non-finite input is reported as divergence")
    func diverges() {
        var (x, y) = Self.data()
        x[5] = .nan
        #expect(throws: LogisticRegression.Diverged.self) {
            _ = try LogisticRegression(epochs: 3).fit(x: x, y: y, rows: 100, features: 8, outputs: 2)
        }
    }

    @Test("columns are scaled to unit RMS; an all-zero column keeps scale 1")
    func unitRMS() {
        var x: [Float] = [3, 0, 100,
                          4, 0, -100]
        let scale = LogisticRegression.scaleToUnitRMS(&x, rows: 2, features: 3)
        #expect(abs(scale[0] - 1 / (12.5 as Float).squareRoot()) < 1e-6 && scale[1] == 1 && abs(scale[2] - 0.01) < 1e-7)
        for j in 0..<3 where j != 1 {
            let rms = ((x[j] * x[j] + x[3 + j] * x[3 + j]) / 2).squareRoot()
            #expect(abs(rms - 1) < 1e-5)
        }
    }
}
