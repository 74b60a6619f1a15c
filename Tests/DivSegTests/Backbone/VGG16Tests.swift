import DivSeg
import DivSegCore
import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

@Suite("VGG16 loading")
struct VGG16LoadingTests {
    @Test("the real weights load with the documented known values")
    func knownValues() throws {
        let keras = try KerasWeights(contentsOf: SharedData.weights)
        #expect(keras.layerNames.first == "input_1")
        let c11 = try #require(keras.layers["block1_conv1"])
        #expect(c11[0].shape == [3, 3, 3, 64])
        #expect(c11[0].values[0] == 0.42947057)
        #expect(c11[1].values[25] == 0.7446502)
        let c12 = try #require(keras.layers["block1_conv2"])
        // kernel[2, 2, 63, 63] in a [3, 3, 64, 64] array
        #expect(c12[0].values[((2 * 3 + 2) * 64 + 63) * 64 + 63] == 0.016082443)
        #expect(keras.layers["block5_conv2"]?[1].values[510] == 0.23517226)

        let vgg = try VGG16(contentsOf: SharedData.weights)
        #expect(vgg.layers.map(\.outChannels) == VGG16.channels)
        #expect(vgg.head == nil)
        #expect(vgg.layers[0].bias[25] == 0.7446502)
    }

    @Test("files that are not VGG-16 weights are refused with the file named")
    func refusals() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-vgg-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        let plain = dir.appendingPathComponent("plain.h5").path
        try HDF5File.writeAtomically(to: plain) { try $0.writeFloats("x", [1, 2], shape: [2]) }
        #expect(throws: BackboneError.notKerasWeights(path: plain)) { try VGG16(contentsOf: plain) }

        let partial = dir.appendingPathComponent("partial.h5").path
        try HDF5File.writeAtomically(to: partial) { f in
            try f.writeFloats("block1_conv1/block1_conv1/kernel:0", [Float](repeating: 0, count: 3 * 3 * 3 * 8), shape: [3, 3, 3, 8])
            try f.writeFloats("block1_conv1/block1_conv1/bias:0", [Float](repeating: 0, count: 8), shape: [8])
            try f.setStringArrayAttribute("layer_names", ["block1_conv1"])
            try f.setStringArrayAttribute("weight_names", ["block1_conv1/kernel:0", "block1_conv1/bias:0"], of: "block1_conv1")
        }
        do {
            _ = try VGG16(contentsOf: partial)
            Issue.record("a file with an 8-channel block1_conv1 was accepted")
        } catch let error as BackboneError {
            guard case .incompatible(let path, let detail) = error else { Issue.record("\(error)"); return }
            #expect(path == partial)
            #expect(detail.contains("block1_conv1"))
            #expect(error.description.contains(partial))
        }

        let image = dir.appendingPathComponent("not.h5").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: image))
        #expect(throws: HDF5Error.notHDF5(path: image)) { try VGG16(contentsOf: image) }
    }
}
