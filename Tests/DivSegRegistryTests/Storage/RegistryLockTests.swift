import DivSegRegistry
import Foundation
import Testing

@Suite("Registry lock")
struct RegistryLockTests {
    @Test("a second lock times out with a message naming the holder; it gets the lock once released")
    func contention() throws {
        let dir = try RegistryFixture.temporaryDirectory("lock")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let holder = try RegistryLock.acquire(registry: dir, timeout: 0, purpose: "test holder")
        let start = Date()
        #expect {
            try RegistryLock.acquire(registry: dir, timeout: 0.3)
        } throws: { error in
            guard case RegistryError.locked(let d, let who, let waited) = error else { return false }
            return d == dir && who?.contains("test holder") == true && who?.contains("pid \(getpid())") == true
                && waited >= 0.3 && "\(error)".contains("--lock-timeout")
        }
        #expect(Date().timeIntervalSince(start) >= 0.3)

        // Another thread (a real one: lock waits block) waits for it and gets it when the
        // holder lets go.
        final class Outcome: @unchecked Sendable {
            let lock = NSLock()
            var waited: Double?
            var error: (any Error)?
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let begin = Date()
            do {
                let lock = try RegistryLock.acquire(registry: dir, timeout: 60, purpose: "waiter")
                lock.release()
                outcome.lock.withLock { outcome.waited = Date().timeIntervalSince(begin) }
            } catch {
                outcome.lock.withLock { outcome.error = error }
            }
            done.signal()
        }
        usleep(300_000)
        holder.release()
        done.wait()
        #expect(outcome.error == nil)
        #expect((outcome.waited ?? 0) >= 0.2)
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
