#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// A one-line progress bar with rate and ETA on standard error when standard error is a
/// terminal. Elsewhere (pipes, logs) nothing, or with `lines: true` one plain line per tenth
/// of the work (`evaluate 26/256 (10 %)  2.1s/it  ETA 8:03`), for long commands whose silence
/// in a log would look like a hang.
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
    /// Whether progress is written as plain lines (standard error is not a terminal and
    /// `lines` was asked for).
    public let writesLines: Bool
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0
    private var lastTenth = 0

    public init(total: Int, label: String, enabled: Bool? = nil, lines: Bool = false) {
        self.total = total
        self.label = label
        let terminal = isatty(STDERR_FILENO) == 1
        self.writesLines = lines && enabled == nil && !terminal
        self.isEnabled = enabled ?? (terminal || writesLines)
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
        if writesLines {
            // Counted in items, not time: one line each time a new tenth is reached.
            let tenth = total > 0 ? min(10, completed * 10 / total) : 10
            if tenth > lastTenth {
                lastTenth = tenth
                ProgressReporter.writeToStandardError(plainLine() + "\n")
            }
            return
        }
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
        guard isEnabled, !writesLines else { return }
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

    /// The line written in line mode, e.g. `evaluate 26/256 (10 %)  2.1s/it  ETA 8:03`.
    public func plainLine() -> String {
        let percent = total > 0 ? completed * 100 / total : 100
        let rate = elapsed > 0 ? Double(completed) / elapsed : 0
        let rateText = rate >= 1 ? "\(Int(rate * 10) / 10)/s" : (rate > 0 ? "\(Int(1 / rate * 10) / 10)s/it" : "")
        return "\(label) \(completed)/\(total) (\(percent) %)  \(rateText)  "
            + (completed >= total ? "done in \(ProgressReporter.clock(elapsed))"
               : "ETA \(secondsRemaining.map { ProgressReporter.clock($0) } ?? "?")")
    }

    /// The one-line estimate a long phase gives once its first items are done, from the rate
    /// measured so far, e.g. `sampling: 3 of 315 images in 0:06 (2.1 s each) → about 10:55
    /// for the other 312 (estimate from the rate so far)`; with no `unit` (a fraction of the
    /// work) `segmenter: 5 % in 0:12 → about 3:48 left (estimate from the rate so far)`. Nil
    /// when nothing is done yet or nothing is left.
    ///
    /// ```swift
    /// ProgressReporter.estimateLine(label: "features", done: 3, total: 258, elapsed: 2.4, unit: "image")
    /// ```
    public static func estimateLine(label: String, done: Int, total: Int, elapsed: Double, unit: String?) -> String? {
        guard done > 0, total > done, elapsed.isFinite, elapsed >= 0 else { return nil }
        let left = total - done
        let remaining = elapsed / Double(done) * Double(left)
        let tail = "(estimate from the rate so far)"
        guard let unit else {
            return "\(label): \(done * 100 / total) % in \(clock(elapsed)) → about \(clock(remaining)) left \(tail)"
        }
        let each = elapsed / Double(done)
        let rate = each >= 0.1 ? "\((each * 10).rounded() / 10) s each" : "\(Int((1 / max(each, 1e-9)).rounded()))/s"
        return "\(label): \(done) of \(total) \(unit)s in \(clock(elapsed)) (\(rate)) → about \(clock(remaining)) "
            + "for the other \(left) \(tail)"
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
