import DivSegCore
import Testing

@Suite("ConvolutionStack (oneDNN) against Conv3x3 and max pooling")
struct ConvolutionStackTests {
    /// Deterministic values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float(rng.next() >> 40) / Float(1 << 23) - 1 }
    }

    @Test("layer outputs match the im2col layers, on odd sizes and with pooling between layers",
          arguments: [(7, 9), (16, 21), (33, 10)])
    func matchesConv3x3(height: Int, width: Int) throws {
        let channels = [(3, 16), (16, 17), (17, 32)]
        let layers = channels.enumerated().map { i, io in
            Conv3x3(kernelOIHW: Self.values(io.1 * io.0 * 9, seed: UInt64(10 + i)),
                    bias: Self.values(io.1, seed: UInt64(20 + i)),
                    inChannels: io.0, outChannels: io.1, algorithm: .im2col)
        }
        let stack = try ConvolutionStack(layers: layers, poolBefore: [1])
        let input = Tensor(shape: [3, height, width], scalars: Self.values(3 * height * width, seed: 1))
        let maps = try stack.forward(input)
        #expect(maps.count == 3)

        var x = input
        for (i, layer) in layers.enumerated() {
            if i == 1 { x = Pooling.max(x, factor: 2) }
            // Absolute bound per value: a float32 sum of n = inChannels·9 + 1 terms (products
            // |w|·|x| with |w| ≤ 1, and the bias) is off by at most n·ε·Σ|terms| in any summation
            // order, Σ|terms| ≤ n·max|x|; the engines differ only in order, so twice that.
            let n = Float(layer.inChannels * 9 + 1)
            let bound = 2 * n * Float.ulpOfOne * n * max(1, x.scalars.map(abs).max() ?? 1)
            let expected = layer(x, relu: true)
            #expect(maps[i].shape == expected.shape)
            let worst = zip(maps[i].scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= bound, "layer \(i): worst |difference| \(worst), bound \(bound)")
            #expect(maps[i].scalars.contains { $0 == 0 } && maps[i].scalars.contains { $0 > 0 },
                    "ReLU must clip some outputs and keep others")
            x = expected
        }
    }

    @Test("runs on several threads at once give identical maps")
    func concurrentRuns() async throws {
        let layer = Conv3x3(kernelOIHW: Self.values(8 * 3 * 9, seed: 3), bias: Self.values(8, seed: 4),
                            inChannels: 3, outChannels: 8)
        let stack = try ConvolutionStack(layers: [layer], poolBefore: [])
        let input = Tensor(shape: [3, 20, 24], scalars: Self.values(3 * 20 * 24, seed: 5))
        let reference = try stack.forward(input)[0].scalars
        try await withThrowingTaskGroup(of: [Float].self) { group in
            for _ in 0..<4 { group.addTask { try stack.forward(input)[0].scalars } }
            for try await result in group { #expect(result == reference) }
        }
    }
}
