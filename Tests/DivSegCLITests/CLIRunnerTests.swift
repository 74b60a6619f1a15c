import DivSegTestSupport
import Testing

@Suite("CLIRunner")
struct CLIRunnerTests {
    /// More than a pipe buffer (64 KiB on Linux) on both streams, in both orders: a runner
    /// that drains one pipe to its end before the other leaves the child blocked on a full
    /// pipe and never returns (the time limit turns that hang into a failure).
    @Test("a child writing megabytes to stderr and stdout finishes, with all its output",
          .timeLimit(.minutes(1)), arguments: [true, false])
    func largeOutputOnBothPipes(stderrFirst: Bool) throws {
        let bytes = 1_500_000
        let toStderr = "yes e | head -c \(bytes) >&2", toStdout = "yes o | head -c \(bytes)"
        let result = try CLIRunner.shell(stderrFirst ? "\(toStderr); \(toStdout)" : "\(toStdout); \(toStderr)")
        #expect(result.status == 0)
        #expect(result.stdout.utf8.count == bytes && result.stderr.utf8.count == bytes)
        #expect(result.stdout.utf8.allSatisfy { $0 == UInt8(ascii: "o") || $0 == UInt8(ascii: "\n") })
        #expect(result.stderr.utf8.allSatisfy { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "\n") })
    }

    @Test("the exit status and both streams are those of the child")
    func statusAndStreams() throws {
        let result = try CLIRunner.shell("echo out; echo err >&2; exit 3")
        #expect(result.status == 3 && result.stdout == "out\n" && result.stderr == "err\n")
    }
}
