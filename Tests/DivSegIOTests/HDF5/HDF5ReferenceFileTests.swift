import DivSegIO
import Testing

/// The hypercolumn reference files: plain float and int datasets at the root.
@Suite("HDF5: VGG-16 hypercolumn reference files")
struct HDF5ReferenceFileTests {
    @Test("dataset shapes", arguments: ["000000000025", "000000000061", "000000000136"])
    func shapes(image: String) throws {
        let file = try HDF5File.open(HDF5Fixtures.referencePath(image))
        defer { file.close() }
        #expect(try file.shape(of: "layer_channel_means") == [4224])
        #expect(try file.shape(of: "hypercolumn_channel_means") == [4224])
        #expect(try file.shape(of: "hypercolumn_samples") == [8, 4224])
        #expect(try file.shape(of: "sample_locations") == [8, 2])
        #expect(try file.shape(of: "conv5_3_max") == [512])

        let means = try file.readFloats("layer_channel_means")
        #expect(means.shape == [4224] && means.values.count == 4224)
        // Post-ReLU activations: means are non-negative.
        #expect(means.values.allSatisfy { $0.isFinite && $0 >= 0 })

        let samples = try file.readFloats("hypercolumn_samples")
        #expect(samples.shape == [8, 4224] && samples.values.count == 8 * 4224)
    }

    @Test("integer dataset converted to Float; fixed-length string attribute")
    func conversions() throws {
        let file = try HDF5File.open(HDF5Fixtures.referencePath())
        let locations = try file.readFloats("sample_locations")
        #expect(locations.shape == [8, 2])
        for i in 0..<8 {
            let row = locations.values[2 * i], column = locations.values[2 * i + 1]
            #expect(row == row.rounded() && (0..<64).contains(Int(row)))
            #expect(column == column.rounded() && (0..<84).contains(Int(column)))
        }
        #expect(Array(locations.values.suffix(2)) == [14, 68])
        #expect(try file.stringArrayAttribute("layers") == HDF5Fixtures.convLayers)
    }
}
