import DivSegTestSupport
import Foundation

/// Paths into the read-only shared data and small helpers the HDF5 tests share.
enum HDF5Fixtures {
    static var weightsPath: String { SharedData.weights }

    static func referencePath(_ image: String = "000000000025") -> String {
        SharedData.referenceDir + "/\(image)_256x336.h5"
    }

    static var pngPath: String { SharedData.referenceDir + "/000000000025_256x336.png" }

    /// The 13 convolutional layers of VGG-16, in network order.
    static let convLayers = [
        "block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2",
        "block3_conv1", "block3_conv2", "block3_conv3",
        "block4_conv1", "block4_conv2", "block4_conv3",
        "block5_conv1", "block5_conv2", "block5_conv3",
    ]

    /// Element of a row-major array at a multi-dimensional index.
    static func element(_ values: [Float], _ shape: [Int], _ index: [Int]) -> Float {
        precondition(index.count == shape.count)
        var flat = 0
        for (i, d) in zip(index, shape) { flat = flat * d + i }
        return values[flat]
    }

    /// Deterministic test values with a wide dynamic range and both signs.
    static func values(_ count: Int, seed: UInt64 = 1) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            let unit = Float(state >> 40) / Float(1 << 24)          // [0, 1)
            let exponent = Float(Int(state & 15)) - 8               // 2^-8 ... 2^7
            return (unit * 2 - 1) * Float(pow(2.0, Double(exponent)))
        }
    }

    static func fileSize(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.size] as? NSNumber)?.intValue ?? -1
    }

    /// Copies the first `bytes` bytes of `source` to `destination` (a truncated download).
    static func copyPrefix(of source: String, bytes: Int, to destination: String) throws {
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: source))
        defer { try? input.close() }
        let data = try input.read(upToCount: bytes) ?? Data()
        try data.write(to: URL(fileURLWithPath: destination))
    }
}
