import DivSegRegistry
import DivSegTestSupport
import Foundation
import Testing

@Suite("Registry lock")
struct RegistryLockTests {
    @Test("a second lock times out with a message naming the holder; it gets the lock once released")
    func contention() throws {
        let dir = try RegistryFixture.temporaryDirectory("lock")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let holder = try RegistryLock.acquire(registry: dir, timeout: 0, purpose: "test holder")
        for timeout in [0, 0.1] {
            #expect {
                try RegistryLock.acquire(registry: dir, timeout: timeout)
            } throws: { error in
                guard case RegistryError.locked(let d, let who, let waited) = error else { return false }
                // `waited` is the lock's own measure of its wait: it gives up no earlier than asked.
                return d == dir && who?.contains("test holder") == true && who?.contains("pid \(getpid())") == true
                    && waited >= timeout && "\(error)".contains("--lock-timeout")
            }
        }

        // Another thread (a real one: lock waits block) waits for it and gets it when the
        // holder lets go. The order of events, not their timing, is what is checked.
        let events = EventLog()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do {
                let lock = try RegistryLock.acquire(registry: dir, timeout: 600, purpose: "waiter")
                events.append("waiter got the lock")
                lock.release()
            } catch {
                events.append("waiter failed: \(error)")
            }
            done.signal()
        }
        // The waiter has reached the lock once a second descriptor of the lock file is open
        // (ours is the first): RegistryLock opens it right before it starts waiting.
        let lockFile = dir + "/" + RegistryLock.mutationLockName
        let reached = OpenFiles.waitUntil({ OpenFiles.count(of: lockFile) >= 2 }, unless: { !events.entries.isEmpty })
        #expect(reached)
        events.append("holder releases")
        holder.release()
        done.wait()
        #expect(events.entries == ["holder releases", "waiter got the lock"])
        #expect(try String(contentsOfFile: lockFile, encoding: .utf8).contains("waiter"), "the new holder is recorded")
    }

    /// Issue #10 (case 12): `--lock-timeout=nan` with the lock held waited for ever. The CLI
    /// bounds its option; the library refuses such a wait itself, before it opens anything,
    /// whether or not the lock is free.
    @Test("a NaN, infinite or negative lock timeout is a typed error, with the lock free or held",
          arguments: [Double.nan, -Double.nan, .infinity, -.infinity, -1, -0.001, 86_400.5, .greatestFiniteMagnitude])
    func invalidTimeout(_ timeout: Double) throws {
        let dir = try RegistryFixture.temporaryDirectory("lock")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func refused(_ error: any Error) -> Bool {
            guard case RegistryError.invalidLockTimeout(let seconds) = error else { return false }
            return (seconds.isNaN && timeout.isNaN || seconds == timeout) && "\(error)".contains("seconds")
        }
        #expect(performing: { try RegistryLock.acquire(registry: dir, timeout: timeout) }, throws: refused)
        #expect(!FileManager.default.fileExists(atPath: dir + "/" + RegistryLock.mutationLockName),
                "nothing is created for a refused timeout")
        let holder = try RegistryLock.acquire(registry: dir, timeout: 0, purpose: "holder")
        defer { holder.release() }
        #expect(performing: { try RegistryLock.acquire(registry: dir, timeout: timeout) }, throws: refused)
        // The bounds themselves are accepted (0 = do not wait).
        #expect(RegistryLock.timeoutRange.contains(0) && RegistryLock.timeoutRange.contains(86_400))
        #expect(RegistryEditor.lockTimeoutRange == RegistryLock.timeoutRange)
    }

    @Test("a registry path that is missing or a file is a clear error")
    func unusableFolder() throws {
        #expect(throws: RegistryError.notFound("/nonexistent/registry")) {
            try RegistryLock.acquire(registry: "/nonexistent/registry", timeout: 0)
        }
        let dir = try RegistryFixture.temporaryDirectory("lock")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/plain-file"
        try Data().write(to: URL(fileURLWithPath: file))
        #expect {
            try RegistryLock.acquire(registry: file, timeout: 0)
        } throws: { error in
            guard case RegistryError.readOnly(let d, let reason) = error else { return false }
            return d == file && reason.contains("file")
        }
    }
}

/// Events appended from several threads, in the order they happened.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []

    func append(_ event: String) { lock.withLock { list.append(event) } }
    var entries: [String] { lock.withLock { list } }
}
