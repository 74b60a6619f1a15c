import DivSeg
import DivSegCore
import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

func pseudoRandom(_ n: Int, seed: UInt64, range: ClosedRange<Float>) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return rng.floats(n, in: range)
}

/// A full-Keras-layout VGG-16 file (conv layers + flatten + fc1 + fc2 + predictions), with the
/// real conv weights and small synthetic dense layers (the real fc1 alone is 400 MB).
func writeFullKerasFile(to path: String, hidden: Int, output: Int) throws -> (fc1: [Float], fc2: [Float], b1: [Float], b2: [Float]) {
    let notop = try KerasWeights(contentsOf: SharedData.weights)
    let fc1 = pseudoRandom(25088 * hidden, seed: 21, range: -0.01...0.01)
    let b1 = pseudoRandom(hidden, seed: 22, range: 0...0.1)
    let fc2 = pseudoRandom(hidden * output, seed: 23, range: -0.5...0.5)
    let b2 = pseudoRandom(output, seed: 24, range: 0...0.1)
    try HDF5File.writeAtomically(to: path) { f in
        var names: [String] = []
        for layer in notop.layerNames {
            names.append(layer)
            let arrays = notop.layers[layer] ?? []
            let weightNames = arrays.isEmpty ? [] : ["\(layer)/kernel:0", "\(layer)/bias:0"]
            for (name, array) in zip(weightNames, arrays) {
                try f.writeFloats("\(layer)/\(name)", array.values, shape: array.shape)
            }
            if !arrays.isEmpty { try f.setStringArrayAttribute("weight_names", weightNames, of: layer) }
        }
        try f.writeFloats("fc1/fc1/kernel:0", fc1, shape: [25088, hidden])
        try f.writeFloats("fc1/fc1/bias:0", b1, shape: [hidden])
        try f.setStringArrayAttribute("weight_names", ["fc1/kernel:0", "fc1/bias:0"], of: "fc1")
        try f.writeFloats("fc2/fc2/kernel:0", fc2, shape: [hidden, output])
        try f.writeFloats("fc2/fc2/bias:0", b2, shape: [output])
        try f.setStringArrayAttribute("weight_names", ["fc2/kernel:0", "fc2/bias:0"], of: "fc2")
        try f.writeFloats("predictions/predictions/kernel:0", [Float](repeating: 0, count: output * 3), shape: [output, 3])
        try f.writeFloats("predictions/predictions/bias:0", [0, 0, 0], shape: [3])
        try f.setStringArrayAttribute("weight_names", ["predictions/kernel:0", "predictions/bias:0"], of: "predictions")
        try f.setStringArrayAttribute("layer_names", names + ["flatten", "fc1", "fc2", "predictions"])
    }
    return (fc1, fc2, b1, b2)
}

@Suite("VGG16 with fc6/fc7")
struct FullyConnectedHeadTests {
    @Test("a full Keras file yields pooled fc7 as the global descriptor")
    func pooledFC7() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-fc-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("vgg16_full.h5").path
        let (hidden, output) = (16, 8)
        let (fc1, fc2, b1, b2) = try writeFullKerasFile(to: path, hidden: hidden, output: output)

        let vgg = try VGG16(contentsOf: path)
        let head = try #require(vgg.head)
        #expect(head.window == 7 && head.hiddenUnits == hidden && head.outputUnits == output)

        let image = try ImageDecoder.decodeRGB(contentsOf: "\(SharedData.referenceDir)/000000000025_256x336.png")
        let maps = vgg.convolutionMaps(HypercolumnExtractor.networkInput(for: image))
        let global = vgg.globalDescriptor(block5Conv3: maps[12])
        #expect(global.count == output)

        // Naive reference: pool5 is 8×10, fc6 slides over 2×4 windows in Keras flatten order.
        let pool5 = Pooling.max(maps[12], factor: 2)
        #expect(pool5.shape == [512, 8, 10])
        var expected = [Double](repeating: 0, count: output)
        for py in 0..<2 {
            for px in 0..<4 {
                var h6 = (0..<hidden).map { Double(b1[$0]) }
                for ky in 0..<7 { for kx in 0..<7 { for c in 0..<512 {
                    let x = Double(pool5[c, py + ky, px + kx])
                    if x == 0 { continue }
                    let row = ((ky * 7 + kx) * 512 + c) * hidden
                    for u in 0..<hidden { h6[u] += x * Double(fc1[row + u]) }
                } } }
                h6 = h6.map { max($0, 0) }
                for o in 0..<output {
                    var v = Double(b2[o])
                    for u in 0..<hidden { v += h6[u] * Double(fc2[u * output + o]) }
                    expected[o] += max(v, 0) / 8
                }
            }
        }
        #expect(expected.contains { $0 > 0 }, "degenerate test: every fc7 unit is zero")
        for o in 0..<output {
            #expect(abs(Double(global[o]) - expected[o]) <= 1e-3 * max(1, abs(expected[o])), "fc7 unit \(o)")
        }

        // The extractor reports the same descriptor.
        let features = HypercolumnExtractor(backbone: vgg).extract(from: image)
        #expect(features.global == global)
    }
}
