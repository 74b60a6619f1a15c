#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// A one-line progress bar with rate and ETA on standard error — only when standard error is
/// a terminal, so pipes and logs stay clean.
///
/// ```swift
/// var progress = ProgressReporter(total: images.count, label: "features")
/// for image in images { process(image); progress.advance() }
/// progress.finish()
/// ```
public struct ProgressReporter: Sendable {
    public let total: Int
    public let label: String
    public private(set) var completed = 0
    /// Whether anything is drawn (standard error is a terminal, unless forced).
    public let isEnabled: Bool
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0

    public init(total: Int, label: String, enabled: Bool? = nil) {
        self.total = total
        self.label = label
        self.isEnabled = enabled ?? (isatty(STDERR_FILENO) == 1)
    }

    /// Seconds since creation.
    public var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Estimated seconds left, from the mean rate so far (nil before the first step).
    public var secondsRemaining: Double? {
        guard completed > 0 else { return nil }
        return elapsed / Double(completed) * Double(max(0, total - completed))
    }

    /// Marks `steps` more items done and redraws at most ten times a second.
    public mutating func advance(by steps: Int = 1) {
        completed += steps
        guard isEnabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        if now - lastDraw > 100_000_000 || completed >= total {
            lastDraw = now
            draw()
        }
    }

    /// Sets the number of items done (for callers that report absolute progress).
    public mutating func update(to done: Int) {
        advance(by: max(0, min(total, done) - completed))
    }

    /// Ends the line (the bar stays visible with the total time).
    public func finish() {
        guard isEnabled else { return }
        draw()
        ProgressReporter.writeToStandardError("\n")
    }

    /// The text of the bar, e.g. `features [#####-----] 5/10  2.1/s  ETA 0:03`.
    public func line() -> String {
        let width = 24
        let fraction = total > 0 ? min(1, Double(completed) / Double(total)) : 1
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let rate = elapsed > 0 ? Double(completed) / elapsed : 0
        let eta = secondsRemaining.map { ProgressReporter.clock($0) } ?? "?"
        let rateText = rate >= 1 ? "\(Int(rate * 10) / 10)/s" : (rate > 0 ? "\(Int(1 / rate * 10) / 10)s/it" : "")
        return "\(label) [\(bar)] \(completed)/\(total)  \(rateText)  "
            + (completed >= total ? "done in \(ProgressReporter.clock(elapsed))" : "ETA \(eta)")
    }

    private func draw() {
        ProgressReporter.writeToStandardError("\r\u{1B}[K" + line())
    }

    /// Unbuffered write to file descriptor 2 (the C `stderr` global is not concurrency-safe).
    public static func writeToStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }

    /// A duration as a clock reading, `m:ss` or `h:mm:ss` (rounded to the second):
    /// `clock(75)` is "1:15", `clock(3725)` is "1:02:05".
    public static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60)
        let mm = m < 10 && h > 0 ? "0\(m)" : "\(m)"
        let ss = sec < 10 ? "0\(sec)" : "\(sec)"
        return h > 0 ? "\(h):\(mm):\(ss)" : "\(mm):\(ss)"
    }
}
