#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import DivSegCore

/// While installed, SIGINT (Ctrl-C) and SIGTERM cancel ``token`` instead of killing the
/// process, so that a long loop that checks the token (``SegmentationEvaluator/cancellation``)
/// can stop between two items and report what it has. A second signal ends the process at
/// once with the usual status (130 or 143). ``uninstall()`` restores the default actions.
///
/// ```swift
/// let interrupts = InterruptHandler(note: "stopping after the current image")
/// defer { interrupts.uninstall() }
/// evaluator.cancellation = interrupts.token
/// ```
final class InterruptHandler {
    let token = CancellationToken()
    private var sources: [(signal: Int32, source: any DispatchSourceSignal)] = []

    /// - Parameter note: printed on standard error when the first signal arrives.
    init(note: String) {
        for (number, reason) in [(SIGINT, CancellationToken.Reason.interrupt), (SIGTERM, .terminate)] {
            // Ignored as a signal, seen as a dispatch event (the source reads it through its own queue).
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            let token = token
            source.setEventHandler {
                if token.cancel(reason: reason) {
                    printError("\n\(reason == .interrupt ? "interrupt" : "terminate") received: \(note) "
                               + "(send it again to stop at once)")
                } else {
                    _exit(reason.exitStatus)
                }
            }
            source.resume()
            sources.append((number, source))
        }
    }

    /// Restores the default actions of SIGINT and SIGTERM.
    func uninstall() {
        for (number, source) in sources {
            source.cancel()
            signal(number, SIG_DFL)
        }
        sources = []
    }
}
