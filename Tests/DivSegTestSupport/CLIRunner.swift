import Foundation

/// Runs the built `divseg-registry` executable (it sits next to the test bundle) and other
/// child processes, capturing their output.
public enum CLIRunner {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public init(status: Int32, stdout: String, stderr: String) {
            self.status = status; self.stdout = stdout; self.stderr = stderr
        }
    }

    public static var executable: URL {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        // Inside an .xctest bundle directory on some platforms: walk up to the build folder.
        while dir.pathExtension == "xctest" || dir.lastPathComponent == "MacOS" || dir.lastPathComponent == "Contents" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("divseg-registry")
    }

    /// The test process's environment with the shared weights as `DIVSEG_WEIGHTS`, plus
    /// `overrides`: what every child command runs with.
    public static func environment(_ overrides: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["DIVSEG_WEIGHTS"] = SharedData.weights
        for (k, v) in overrides { env[k] = v }
        return env
    }

    /// Runs `divseg-registry` with `arguments` to completion.
    public static func run(_ arguments: [String], environment: [String: String] = [:],
                           currentDirectory: String? = nil) throws -> Result {
        try run(executable: executable, arguments: arguments, environment: environment,
                currentDirectory: currentDirectory)
    }

    /// Runs a shell command line (for `unshare`, `setpriv` wrappers and the like); the
    /// POSIX shell is the one fixed path, the tools it starts are found through `PATH`.
    public static func shell(_ command: String, environment: [String: String] = [:]) throws -> Result {
        try run(executable: URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", command], environment: environment)
    }

    /// Runs any executable to completion. Both pipes are drained at the same time: a child
    /// that fills one pipe (64 KiB on Linux) while the parent waits for the other to end
    /// would block forever.
    public static func run(executable: URL, arguments: [String], environment: [String: String] = [:],
                           currentDirectory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = Self.environment(environment)
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // A dedicated thread, not a dispatch queue: the read blocks for the child's whole
        // run, and parallel tests must not exhaust a shared pool with such waits.
        let errData = PipeDrain(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errBytes = errData.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errBytes, as: UTF8.self))
    }

    public static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-cli-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// Reads a pipe to its end on a thread of its own.
private final class PipeDrain: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()   // written by the reader thread before `done` is signalled

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
