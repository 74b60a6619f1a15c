import DivSegIO
import Testing

/// Reads the real VGG-16 weights in the Keras HDF5 layout by following its attributes,
/// the way the backbone loader does.
@Suite("HDF5: Keras VGG-16 weights file")
struct HDF5KerasWeightsTests {
    let file: HDF5File

    init() throws {
        file = try HDF5File.open(HDF5Fixtures.weightsPath)
    }

    @Test("layer_names: fixed-length, null-padded strings read without padding or truncation")
    func layerNames() throws {
        let names = try file.stringArrayAttribute("layer_names")
        #expect(names.count == 19)
        #expect(names.first == "input_1")
        #expect(names.last == "block5_pool")
        // 12-character names fill their fixed-length slot completely: no terminator to find.
        #expect(names.contains("block1_conv1"))
        #expect(names.filter { $0.contains("_conv") } == HDF5Fixtures.convLayers)
        #expect(names.filter { $0.hasSuffix("_pool") } == (1...5).map { "block\($0)_pool" })
    }

    @Test("weight_names of every layer; empty for input and pooling layers")
    func weightNames() throws {
        for layer in try file.stringArrayAttribute("layer_names") {
            let names = try file.stringArrayAttribute("weight_names", of: layer)
            if layer.contains("_conv") {
                #expect(names == ["\(layer)/kernel:0", "\(layer)/bias:0"])
            } else {
                #expect(names.isEmpty, "\(layer)")
            }
        }
    }

    @Test("known values at given indices")
    func knownValues() throws {
        let kernel1 = try file.readFloats("block1_conv1/block1_conv1/kernel:0")
        #expect(kernel1.shape == [3, 3, 3, 64])
        #expect(HDF5Fixtures.element(kernel1.values, kernel1.shape, [0, 0, 0, 0]) == 0.42947057)

        let bias1 = try file.readFloats("block1_conv1/block1_conv1/bias:0")
        #expect(bias1.shape == [64])
        #expect(bias1.values[25] == 0.7446502)

        let kernel2 = try file.readFloats("block1_conv2/block1_conv2/kernel:0")
        #expect(kernel2.shape == [3, 3, 64, 64])
        #expect(HDF5Fixtures.element(kernel2.values, kernel2.shape, [2, 2, 63, 63]) == 0.016082443)

        let bias52 = try file.readFloats("/block5_conv2/block5_conv2/bias:0")
        #expect(bias52.shape == [512])
        #expect(bias52.values[510] == 0.23517226)
    }

    @Test("following layer_names and weight_names reaches all 14,714,688 parameters")
    func followAttributes() throws {
        var parameters = 0
        var channels = 3
        for layer in try file.stringArrayAttribute("layer_names") {
            for weight in try file.stringArrayAttribute("weight_names", of: layer) {
                let path = layer + "/" + weight
                let (values, shape) = try file.readFloats(path)
                #expect(try file.shape(of: path) == shape)
                #expect(values.count == shape.reduce(1, *))
                #expect(values.allSatisfy { $0.isFinite })
                if weight.hasSuffix("kernel:0") {
                    #expect(shape.count == 4 && shape[0] == 3 && shape[1] == 3 && shape[2] == channels)
                    channels = shape[3]
                } else {
                    #expect(shape == [channels])
                }
                parameters += values.count
            }
        }
        #expect(parameters == 14_714_688)
        #expect(channels == 512)
    }

    @Test("scalar variable-length string attributes")
    func scalarStrings() throws {
        #expect(try file.stringAttribute("keras_version") == "2.1.5")
        #expect(try file.stringAttribute("backend") == "tensorflow")
        #expect(try file.stringArrayAttribute("backend") == ["tensorflow"])
        #expect(file.hasAttribute("layer_names"))
        #expect(!file.hasAttribute("no_such_attribute"))
        #expect(!file.hasAttribute("weight_names", of: "no_such_group"))
    }

    @Test("groups, children and existence")
    func structure() throws {
        let layers = try file.stringArrayAttribute("layer_names")
        #expect(try file.childNames() == layers.sorted())
        #expect(try file.childNames(of: "block1_conv1") == ["block1_conv1"])
        #expect(try file.childNames(of: "block1_conv1/block1_conv1") == ["bias:0", "kernel:0"])
        #expect(try file.childNames(of: "block1_pool").isEmpty)
        #expect(file.contains("/"))
        #expect(file.contains("block1_conv1"))
        #expect(file.contains("block1_conv1/block1_conv1/kernel:0"))
        #expect(file.contains("/block1_conv1//block1_conv1/kernel:0/"))
        #expect(!file.contains("block1_conv1/kernel:0"))
        #expect(!file.contains("no/such/path"))
        #expect(!file.contains("block1_conv1/block1_conv1/kernel:0/below-a-dataset"))
    }
}
