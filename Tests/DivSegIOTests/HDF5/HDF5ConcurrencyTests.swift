import DivSegIO
import Foundation
import Testing

/// Serial HDF5 is not thread-safe; HDF5File serialises all calls so threads may share it.
@Suite("HDF5: concurrent use")
struct HDF5ConcurrencyTests {
    /// Results gathered from threads (guarded by its lock).
    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var sums: [String: Double] = [:]
        private var errors: [String] = []
        func record(_ key: String, _ sum: Double) { lock.withLock { sums[key] = sum } }
        func fail(_ error: Error) { lock.withLock { errors.append("\(error)") } }
        var snapshot: (sums: [String: Double], errors: [String]) { lock.withLock { (sums, errors) } }
    }

    static func weightPaths() throws -> [String] {
        let file = try HDF5File.open(HDF5Fixtures.weightsPath)
        return try file.stringArrayAttribute("layer_names").flatMap { layer in
            try file.stringArrayAttribute("weight_names", of: layer).map { layer + "/" + $0 }
        }
    }

    /// Runs `body(i)` on `count` real threads at once and waits for all.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            let thread = Thread {
                body(i)
                group.leave()
            }
            thread.start()
        }
        group.wait()
    }

    @Test("two threads, each with its own handle, read all weights at once")
    func separateHandles() throws {
        let paths = try Self.weightPaths()
        let serial = try HDF5File.open(HDF5Fixtures.weightsPath)
        let expected = try Dictionary(uniqueKeysWithValues: paths.map { path in
            (path, try serial.readFloats(path).values.reduce(0.0) { $0 + Double($1) })
        })
        serial.close()

        let results = Results()
        Self.onThreads(2) { thread in
            do {
                let file = try HDF5File.open(HDF5Fixtures.weightsPath)
                for path in thread == 0 ? paths : paths.reversed() {
                    let sum = try file.readFloats(path).values.reduce(0.0) { $0 + Double($1) }
                    results.record("\(thread):\(path)", sum)
                }
                file.close()
            } catch {
                results.fail(error)
            }
        }
        let (sums, errors) = results.snapshot
        #expect(errors.isEmpty)
        for path in paths {
            #expect(sums["0:\(path)"] == expected[path])
            #expect(sums["1:\(path)"] == expected[path])
        }
    }

    @Test("threads share one handle; others write their own files meanwhile")
    func sharedHandleAndWriters() throws {
        try HDF5TemporaryDirectory.with { dir in
            let paths = try Self.weightPaths()
            let shared = try HDF5File.open(HDF5Fixtures.weightsPath)
            let results = Results()
            let directory = dir.path
            Self.onThreads(4) { thread in
                do {
                    if thread < 2 {
                        for path in paths where path.hasPrefix(thread == 0 ? "block1" : "block2") {
                            let (values, _) = try shared.readFloats(path)
                            _ = try shared.stringArrayAttribute("layer_names")
                            results.record("\(thread):\(path)", Double(values.count))
                        }
                    } else {
                        let out = directory + "/writer\(thread).h5"
                        try HDF5File.writeAtomically(to: out) { file in
                            for k in 0..<20 {
                                try file.writeFloats("d/\(k)", HDF5Fixtures.values(1000, seed: UInt64(k)),
                                                     shape: [10, 100], compressed: k % 2 == 0)
                                try file.setStringArrayAttribute("names", (0...k).map(String.init), of: "d/\(k)")
                            }
                        }
                        let back = try HDF5File.open(out)
                        results.record("writer\(thread)", Double(try back.childNames(of: "d").count))
                    }
                } catch {
                    results.fail(error)
                }
            }
            let (sums, errors) = results.snapshot
            #expect(errors.isEmpty)
            #expect(sums["writer2"] == 20 && sums["writer3"] == 20)
            #expect(sums["0:block1_conv1/block1_conv1/kernel:0"] == 1728)
            #expect(sums["1:block2_conv1/block2_conv1/bias:0"] == 128)
            #expect(try dir.contents() == ["writer2.h5", "writer3.h5"])
        }
    }

    @Test("closing a handle while another thread reads it gives closed or data, never a crash")
    func closeWhileReading() throws {
        let file = try HDF5File.open(HDF5Fixtures.weightsPath)
        let results = Results()
        // The close waits for a first read, so it lands inside the reading loop, which only
        // ends when it sees the handle closed: the overlap is certain, whatever the speed.
        let reading = DispatchSemaphore(value: 0)
        Self.onThreads(2) { thread in
            if thread == 0 {
                var reads = 0
                while true {
                    do {
                        _ = try file.readFloats("block1_conv1/block1_conv1/kernel:0")
                        reads += 1
                        if reads == 1 { reading.signal() }
                    } catch HDF5Error.closed {
                        results.record("closed after reads", Double(reads))
                        if reads == 0 { reading.signal() }
                        return
                    } catch {
                        results.fail(error)
                        if reads == 0 { reading.signal() }
                        return
                    }
                }
            } else {
                reading.wait()
                file.close()
            }
        }
        let (sums, errors) = results.snapshot
        #expect(errors.isEmpty)
        #expect((sums["closed after reads"] ?? 0) >= 1, "the reader read, then saw the handle closed")
    }
}
