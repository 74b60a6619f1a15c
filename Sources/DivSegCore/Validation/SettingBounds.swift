import Foundation

/// How a setting's allowed range reads in help texts and error messages, so that the
/// library's bound and what the command line says about it come from one place.
///
/// ```swift
/// (1...100).boundText                    // "1...100"
/// (1...Int.max).boundText                // "1 or more"
/// (Float(1e-7)...1).boundText            // "1e-07...1.0"
/// ```
extension ClosedRange where Bound: FixedWidthInteger {
    /// `"lower...upper"`, or `"lower or more"` when the range is open-ended.
    public var boundText: String {
        upperBound == .max ? "\(lowerBound) or more" : "\(lowerBound)...\(upperBound)"
    }

    /// What a value must be, for messages: `"in 1...100"` or `"1 or more"`.
    public var requirementText: String { upperBound == .max ? boundText : "in " + boundText }
}

extension ClosedRange where Bound: BinaryFloatingPoint {
    /// `"lower...upper"`, or `"lower or more"` when the range reaches infinity. NaN is never
    /// inside a range, so `contains` refuses it.
    public var boundText: String {
        upperBound == .infinity ? "\(lowerBound) or more" : "\(lowerBound)...\(upperBound)"
    }

    /// What a value must be, for messages: `"in 0.0...10.0"` or `"0.01 or more"`.
    public var requirementText: String { upperBound == .infinity ? boundText : "in " + boundText }
}

/// Memory figures for refusing a setting before it allocates more than the machine has.
public enum MemoryBudget {
    /// Physical memory of this machine, in bytes.
    public static var physicalBytes: Double { Double(ProcessInfo.processInfo.physicalMemory) }

    /// `bytes` as a short human-readable size ("1.7 TB", "512.0 MB").
    public static func text(_ bytes: Double) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
        var value = bytes, unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(Int(value)) bytes" : String(format: "%.1f", value) + " " + units[unit]
    }
}

/// Finiteness checks for arrays read from files or produced by training: one NaN or
/// infinity poisons every result computed from it, silently.
public enum FiniteCheck {
    /// The index of the first NaN or infinite value, or nil when all are finite. The
    /// common all-finite case is a tight loop over a sum-of-products that NaN/Inf survive
    /// (x·0 is NaN for infinite x), searched element by element only when that trips.
    public static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
        var probe: Float = 0
        for v in values { probe += v * 0 }
        guard !probe.isFinite else { return nil }
        return values.firstIndex { !$0.isFinite }
    }

    /// As above, for an array.
    public static func firstNonFinite(_ values: [Float]) -> Int? {
        values.withUnsafeBufferPointer { firstNonFinite($0) }
    }
}
