import DivSeg
import DivSegCore
import DivSegIO
import DivSegTestSupport
import Testing

/// Agreement rule of the reference README: 1e-3 relative, or 1e-3 absolute below 1.
func agrees(_ a: Float, _ b: Float) -> Bool {
    abs(a - b) <= 1e-3 * max(1, abs(b))
}

func worstDisagreement(_ got: [Float], _ expected: [Float]) -> (index: Int, got: Float, expected: Float)? {
    var worst: (Int, Float, Float)?
    var worstExcess: Float = 0
    for (i, (g, e)) in zip(got, expected).enumerated() where !agrees(g, e) {
        let excess = abs(g - e) / max(1, abs(e))
        if excess > worstExcess { worstExcess = excess; worst = (i, g, e) }
    }
    return worst
}

@Suite("Hypercolumns against the reference implementation", .serialized)
struct HypercolumnExtractorTests {
    static let extractor = Result { try HypercolumnExtractor(weightsAt: SharedData.weights) }
    static let extractors = Dictionary(uniqueKeysWithValues: ConvolutionEngine.allCases.map { engine in
        (engine, Result { try HypercolumnExtractor(backbone: VGG16(contentsOf: SharedData.weights, engine: engine)) })
    })

    @Test("layer means, hypercolumn means and sampled vectors match, with either convolution engine",
          arguments: ConvolutionEngine.allCases, SharedData.referenceIDs)
    func matchesReference(engine: ConvolutionEngine, id: String) throws {
        let extractor = try Self.extractors[engine]!.get()
        // The engine asked for is the one that runs (no silent fallback).
        #expect(extractor.backbone.engine == engine)
        let image = try ImageDecoder.decodeRGB(contentsOf: "\(SharedData.referenceDir)/\(id)_256x336.png")
        #expect(image.width == 336 && image.height == 256)
        let reference = try HDF5File.open("\(SharedData.referenceDir)/\(id)_256x336.h5")
        defer { reference.close() }

        let input = HypercolumnExtractor.networkInput(for: image)
        let maps = extractor.backbone.convolutionMaps(input)
        let layerMeans = maps.flatMap { map -> [Float] in
            let plane = map.shape[1] * map.shape[2]
            return (0..<map.shape[0]).map { c in
                map.channel(c).reduce(0, +) / Float(plane)
            }
        }
        let expectedLayerMeans = try reference.readFloats("layer_channel_means").values
        #expect(layerMeans.count == 4224)
        #expect(worstDisagreement(layerMeans, expectedLayerMeans) == nil)

        let features = HypercolumnExtractor.assemble(maps)
        #expect(features.shape == [4224, 64, 84])
        let means = (0..<4224).map { c in features.channel(c).reduce(0, +) / Float(64 * 84) }
        let expectedMeans = try reference.readFloats("hypercolumn_channel_means").values
        #expect(worstDisagreement(means, expectedMeans) == nil)

        let locations = try reference.readFloats("sample_locations").values.map { Int($0) }
        let samples = try reference.readFloats("hypercolumn_samples")
        #expect(samples.shape == [8, 4224])
        for s in 0..<8 {
            let (row, col) = (locations[2 * s], locations[2 * s + 1])
            let vector = (0..<4224).map { features[$0, row, col] }
            let expected = Array(samples.values[(s * 4224)..<((s + 1) * 4224)])
            let worst = worstDisagreement(vector, expected)
            #expect(worst == nil, "sample \(s) at (\(row), \(col)): channel \(worst?.index ?? -1)")
        }

        let global = extractor.backbone.globalDescriptor(block5Conv3: maps[12])
        let expectedGlobal = try reference.readFloats("conv5_3_max").values
        #expect(worstDisagreement(global, expectedGlobal) == nil)
    }

    @Test("the compact form expands to exactly the full hypercolumn")
    func compactExpandsExactly() throws {
        let extractor = try Self.extractor.get()
        let image = try ImageDecoder.decodeRGB(contentsOf: "\(SharedData.referenceDir)/000000000136_256x336.png")
        let maps = extractor.backbone.convolutionMaps(HypercolumnExtractor.networkInput(for: image))
        let compact = CompactHypercolumns(maps: maps, global: [])
        #expect(compact.expanded() == HypercolumnExtractor.assemble(maps))
        #expect(compact.grid.count + compact.block4.count + compact.block5.count < FeatureGrid.channels * FeatureGrid.locations / 2)
    }
}
