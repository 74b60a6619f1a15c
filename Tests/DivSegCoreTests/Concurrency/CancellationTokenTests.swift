import DivSegCore
import Dispatch
import Synchronization
import Testing

@Suite("CancellationToken")
struct CancellationTokenTests {
    @Test("starts uncancelled; the first cancel wins and sets the reason; later ones report false")
    func firstCancelWins() {
        let token = CancellationToken()
        #expect(!token.isCancelled && token.reason == nil)
        #expect(token.cancel(reason: .interrupt))
        #expect(token.isCancelled && token.reason == .interrupt)
        #expect(!token.cancel(reason: .terminate))
        #expect(token.reason == .interrupt, "a second signal must not change why the work stopped")
    }

    @Test("exit statuses follow the shell convention: 130 for SIGINT, 143 for SIGTERM")
    func exitStatuses() {
        #expect(CancellationToken.Reason.interrupt.exitStatus == 130)
        #expect(CancellationToken.Reason.terminate.exitStatus == 143)
        #expect(CancellationToken.Reason.requested.exitStatus == 1)
        let token = CancellationToken()
        token.cancel()
        #expect(token.reason == .requested)
    }

    @Test("cancelled from many threads at once: exactly one call wins, every thread then sees it")
    func concurrentCancel() {
        let token = CancellationToken()
        let won = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            if token.cancel(reason: i % 2 == 0 ? .interrupt : .terminate) { won.add(1, ordering: .relaxed) }
            #expect(token.isCancelled)
        }
        #expect(won.load(ordering: .relaxed) == 1)
        #expect(token.reason != nil && token.reason != .requested)
    }

    @Test("a loop checking the token stops at its next check after a cancel from another thread")
    func loopStops() {
        let token = CancellationToken()
        let started = DispatchSemaphore(value: 0), cancelled = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            started.wait()
            token.cancel(reason: .interrupt)
            cancelled.signal()
        }
        var done = 0
        for item in 0..<1000 {
            if token.isCancelled { break }
            done += 1
            // The cancel happens while item 0 is "in progress": the loop ends before item 1.
            if item == 0 { started.signal(); cancelled.wait() }
        }
        #expect(done == 1)
    }
}
