/// The filter taps of bilinear resampling with half-pixel centres: for every output
/// position, the first input index and normalised weights (two taps when enlarging; a triangle
/// widened by the scale factor when shrinking with antialiasing). Shared by ``Resampler`` and
/// by code that fuses resampling with other work, so both agree bit for bit.
public struct ResamplingTaps: Sendable {
    /// First input index of each output position.
    public var first: [Int]
    /// Number of taps of each output position.
    public var count: [Int]
    /// Normalised weights, `stride` slots per output position.
    public var weights: [Float]
    /// Slots per output position in `weights`.
    public var stride: Int

    /// The filter for resizing `inputSize` samples to `outputSize` (see ``Resampler``).
    public init(inputSize: Int, outputSize: Int, antialias: Bool) {
        let scale = Double(inputSize) / Double(outputSize)
        let support = antialias ? Swift.max(1, scale) : 1.0
        let filterScale = antialias ? Swift.max(1, scale) : 1.0
        stride = Int((support * 2).rounded(.up)) + 2
        first = [Int](repeating: 0, count: outputSize)
        count = [Int](repeating: 0, count: outputSize)
        weights = [Float](repeating: 0, count: outputSize * stride)
        for i in 0..<outputSize {
            // Pixel centres sit at index + 0.5 in continuous coordinates.
            let centre = (Double(i) + 0.5) * scale
            let lo = Swift.max(0, Int((centre - support).rounded(.down)))
            let hi = Swift.min(inputSize - 1, Int((centre + support).rounded(.up)))
            var taps: [Double] = []
            var start = -1
            for j in lo...hi {
                let distance = abs(Double(j) + 0.5 - centre) / filterScale
                let weight = Swift.max(0, 1 - distance)
                if weight > 0 {
                    if start < 0 { start = j }
                    taps.append(weight)
                } else if start >= 0 {
                    break
                }
            }
            if start < 0 {
                // Only when every tap lies exactly on a filter edge: take the nearest pixel.
                start = Swift.min(inputSize - 1, Swift.max(0, Int(centre)))
                taps = [1]
            }
            let total = taps.reduce(0, +)
            first[i] = start
            count[i] = taps.count
            precondition(taps.count <= stride, "resampler filter wider than expected")
            for (t, weight) in taps.enumerated() { weights[i * stride + t] = Float(weight / total) }
        }
    }
    }
