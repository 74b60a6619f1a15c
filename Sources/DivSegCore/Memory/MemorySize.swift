/// A number of bytes written with a unit, as on command lines (`--max-memory 4G`): a
/// number, optionally with a decimal part, then `K`, `M`, `G` or `T` (binary multiples:
/// 1K = 1024 bytes; `KB`/`KiB`, `GB`/`GiB`… mean the same), or no unit for bytes.
///
/// ```swift
/// let cap = try MemorySize(parsing: "4G")     // cap.bytes == 4 << 30
/// print(cap)                                   // "4.0 GiB"
/// ```
public struct MemorySize: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var bytes: Int

    public init(bytes: Int) { self.bytes = bytes }

    /// Why a text is not a size.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var text: String
        public var description: String {
            "'\(text)' is not a memory size: write a number with a unit, e.g. 4G, 512M, 1.5G (K, M, G, T are "
                + "powers of 1024; no unit = bytes)"
        }
    }

    /// Parses `text` (case-insensitive, spaces around ignored).
    ///
    /// - Throws: ``ParseError`` for anything else, a negative or non-finite number, or more
    ///   than `Int.max` bytes.
    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingCharacters(in: " \t").uppercased()
        var number = Substring(trimmed)
        var unit = ""
        while let last = number.last, last.isLetter { unit = String(last) + unit; number = number.dropLast() }
        let multipliers: [String: Double] = ["": 1, "B": 1, "K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        let shortUnit = unit.hasSuffix("IB") ? String(unit.dropLast(2)) : (unit.count == 2 && unit.hasSuffix("B") ? String(unit.dropLast()) : unit)
        guard let multiplier = multipliers[shortUnit], !number.isEmpty,
              number.allSatisfy({ $0.isNumber || $0 == "." || $0 == " " }), let value = Double(number.trimmingCharacters(in: " ")),
              value.isFinite, value >= 0, value * multiplier < Double(Int.max) else {
            throw ParseError(text: text)
        }
        bytes = Int((value * multiplier).rounded())
    }

    public static func < (a: MemorySize, b: MemorySize) -> Bool { a.bytes < b.bytes }

    /// In the largest binary unit that keeps a number ≥ 1, one decimal.
    public var description: String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), index = 0
        while value >= 1024 && index < units.count - 1 { value /= 1024; index += 1 }
        if index == 0 { return "\(bytes) bytes" }
        return "\((value * 10).rounded() / 10) \(units[index])"
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}
