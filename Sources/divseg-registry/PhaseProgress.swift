import DivSegCore
import DivSegRegistry

/// One progress line or bar per phase of a long job (a new reporter whenever the phase's
/// label changes), for library calls that report `(label, done, total)`. On a terminal a bar;
/// elsewhere a line per tenth of each phase on standard error. A phase that still has a while
/// to go after its first items gets one estimate line from the rate measured so far, and
/// ``announce(_:)`` says what a phase will do before it starts.
final class PhaseProgress {
    private var current: (label: String, unit: String?, reporter: ProgressReporter, estimated: Bool)?
    /// Items of a phase measured before its estimate (with a unit; else 5 % of the phase).
    static let estimateAfterItems = 3
    /// Below this many seconds left an estimate line would only be noise.
    static let estimateFromSeconds = 10.0

    /// Shows `done` of `total` for the phase called `label`; `unit` names an item ("image",
    /// "epoch") in the estimate line, nil when `done` counts a fraction of the work.
    func update(label: String, done: Int, total: Int, unit: String? = nil) {
        if current?.label != label {
            finish()
            current = (label, unit, ProgressReporter(total: total, label: label, lines: true), false)
        }
        current?.reporter.update(to: done)
        estimateOnce()
        if done >= total { finish() }
    }

    /// A retraining's phases: what will happen, then sampling, then the segmenter.
    func update(_ phase: SegmenterRetrainer.Phase) {
        switch phase {
        case .plan(let plan): plan.lines.forEach(announce)
        case .sampling(let done, let total): update(label: "sampling", done: done, total: total, unit: "image")
        case .training(let fraction): update(label: "segmenter", done: Int(fraction * 1000), total: 1000)
        }
    }

    /// A line about what comes next, on standard error (between phases: any bar is ended first).
    func announce(_ line: String) {
        finish()
        printError(line)
    }

    func finish() {
        current?.reporter.finish()
        current = nil
    }

    private func estimateOnce() {
        guard var phase = current, !phase.estimated, phase.reporter.isEnabled else { return }
        let done = phase.reporter.completed, total = phase.reporter.total
        let enough = phase.unit == nil ? done * 20 >= total : done >= min(Self.estimateAfterItems, total)
        guard enough else { return }
        phase.estimated = true
        current = phase
        guard let remaining = phase.reporter.secondsRemaining, remaining >= Self.estimateFromSeconds,
              let line = ProgressReporter.estimateLine(label: phase.label, done: done, total: total,
                                                       elapsed: phase.reporter.elapsed, unit: phase.unit)
        else { return }
        // On a terminal the bar is redrawn below the line at its next update.
        ProgressReporter.writeToStandardError((phase.reporter.writesLines ? "" : "\r\u{1B}[K") + line + "\n")
    }
}
