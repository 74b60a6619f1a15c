/// A small, fast, seedable random number generator (SplitMix64, Steele et al. 2014).
///
/// Training must be reproducible — same inputs and seed, bit-identical weights — so every
/// random choice in the library (initialisation, shuffling, negative sampling) draws from an
/// explicitly seeded generator, never from the system's.
///
/// ```swift
/// var rng = SplitMix64(seed: 42)
/// let x = rng.nextFloat(in: -1...1)
/// var order = Array(0..<10); order.shuffle(using: &rng)
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform float in `range` from 24 random bits (exactly reproducible across platforms).
    public mutating func nextFloat(in range: ClosedRange<Float> = 0...1) -> Float {
        let unit = Float(next() >> 40) / Float(1 << 24)
        return range.lowerBound + unit * (range.upperBound - range.lowerBound)
    }

    /// `count` uniform floats in `range`.
    public mutating func floats(_ count: Int, in range: ClosedRange<Float> = 0...1) -> [Float] {
        (0..<count).map { _ in nextFloat(in: range) }
    }

    /// A standard normal sample (Box–Muller), for weight initialisation.
    public mutating func nextGaussian() -> Float {
        let u1 = max(Double(next() >> 11) / Double(1 << 53), 1e-300)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }
}

@inline(__always) private func _log(_ x: Double) -> Double { x.logValue }
@inline(__always) private func _cos(_ x: Double) -> Double { x.cosValue }

private extension Double {
    #if canImport(Glibc)
    var logValue: Double { Glibc.log(self) }
    var cosValue: Double { Glibc.cos(self) }
    #else
    var logValue: Double { Foundation.log(self) }
    var cosValue: Double { Foundation.cos(self) }
    #endif
}

#if canImport(Glibc)
import Glibc
#endif
