import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension CLIRunner {
    /// Runs `divseg-registry` with `arguments` to completion, calling `onStandardErrorLine`
    /// with each complete line of its standard error as it arrives and the child's process
    /// id — e.g. to send it a signal once a progress line shows that work has started
    /// (waiting for the line, never for a time).
    ///
    /// ```swift
    /// let result = try CLIRunner.run(["evaluate", …]) { line, pid in
    ///     if line.hasPrefix("evaluate ") { kill(pid, SIGINT) }
    /// }
    /// ```
    public static func run(_ arguments: [String], environment: [String: String] = [:],
                           onStandardErrorLine: @escaping @Sendable (_ line: String, _ pid: Int32) -> Void) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = Self.environment(environment)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let pid = process.processIdentifier
        let errors = LineWatcher(err.fileHandleForReading) { onStandardErrorLine($0, pid) }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errBytes = errors.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errBytes, as: UTF8.self))
    }
}

/// Reads a pipe to its end on a thread of its own, handing each complete line on as it comes.
private final class LineWatcher: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()   // written by the reader thread before `done` is signalled

    init(_ handle: FileHandle, onLine: @escaping @Sendable (String) -> Void) {
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                data.append(chunk)
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    onLine(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending = Data(pending[pending.index(after: newline)...])
                }
            }
            if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
