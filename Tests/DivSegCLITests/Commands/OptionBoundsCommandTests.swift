import Foundation
import DivSegTestSupport
import Testing

/// Issue #10, cases 10, 11, 12 (lock timeout), 13 and the messages about numbers: every
/// numeric option of every command is bounded; a value outside its bound (negative, NaN,
/// infinite, absurdly large) is refused before anything runs — exit status 64, a message
/// naming the option, the value and the bound — never a trap, a hang or a run for ever.
@Suite("divseg-registry numeric options")
struct OptionBoundsCommandTests {
    /// A command line, the option it gets wrong and what the message must say.
    struct Case: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var option: String
        var expected: [String]
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let image = SharedData.root + "/data/coco-mini/images/000000000025.jpg"
    static let coco = "coco:" + SharedData.root + "/data/coco-mini"
    static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-bounds-\(UUID())").path
    static let registry = ["--registry", scratch + "/classes"]
    static let train = ["train", "giraffe", "--dataset", "tags:" + scratch + "/tags.csv", "--out", scratch + "/bundle"]
    static let segment = ["segment", image, "--out", scratch + "/out"] + registry
    static let evaluate = ["evaluate", "--dataset", coco, "--split", "val"] + registry

    static let cases: [Case] = [
        // 10: evaluate --limit=-1 trapped.
        Case(arguments: evaluate + ["--limit=-1"], option: "--limit", expected: ["-1", "1 or more"]),
        Case(arguments: evaluate + ["--limit", "-1"], option: "--limit", expected: ["-1", "1 or more"]),
        Case(arguments: evaluate + ["--limit", "0"], option: "--limit", expected: ["1 or more"]),
        // 11: --hidden 100000000 failed to allocate 1.7 TB.
        Case(arguments: train + ["--localizer", "mlp", "--hidden", "100000000"], option: "--hidden",
             expected: ["100000000", "estimated", "TB", "physical memory", "at most"]),
        Case(arguments: train + ["--hidden", "-3"], option: "--hidden", expected: ["at least 1"]),
        // 12: a NaN, infinite or negative lock timeout waited for ever.
        Case(arguments: ["retrain", "--lock-timeout=nan"] + registry, option: "--lock-timeout", expected: ["nan", "0.0...86400.0"]),
        Case(arguments: ["remove", "giraffe", "--lock-timeout", "inf"] + registry, option: "--lock-timeout",
             expected: ["inf", "0.0...86400.0"]),
        Case(arguments: ["add", scratch + "/bundle", "--lock-timeout", "-1"] + registry, option: "--lock-timeout",
             expected: ["-1", "0.0...86400.0"]),
        // 13: values that ran for ever.
        Case(arguments: ["retrain", "--epochs", "1000000000"] + registry, option: "--epochs", expected: ["1...100"]),
        Case(arguments: segment + ["--crf", "--crf-iterations", "1000000000"], option: "--crf-iterations", expected: ["0...100"]),
        Case(arguments: ["retrain", "--points", "1000000000"] + registry, option: "--points", expected: ["0...500"]),
        // "Missing value" before: a negative number is read, then refused with its bound.
        Case(arguments: ["retrain", "--points", "-5"] + registry, option: "--points", expected: ["-5", "0...500"]),
        Case(arguments: ["retrain", "--dense-threshold", "nan"] + registry, option: "--dense-threshold", expected: ["0.0...10.0"]),
        Case(arguments: ["retrain", "--dense-stride", "0"] + registry, option: "--dense-stride", expected: ["1...64"]),
        Case(arguments: ["retrain", "--epochs", "0"] + registry, option: "--epochs", expected: ["1...100"]),
        // Issue #11: the background rule, the confidence margin and the CRF's logit scale.
        Case(arguments: ["retrain", "--background", "sometimes"] + registry, option: "--background",
             expected: ["threshold", "none"]),
        Case(arguments: ["retrain", "--dense-margin", "-0.1"] + registry, option: "--dense-margin", expected: ["0.0...10.0"]),
        Case(arguments: ["add", scratch + "/bundle", "--dense-margin", "nan"] + registry, option: "--dense-margin",
             expected: ["0.0...10.0"]),
        Case(arguments: evaluate + ["--crf-logit-scale", "0"], option: "--crf-logit-scale", expected: ["0.01...100.0"]),
        Case(arguments: segment + ["--crf", "--crf-logit-scale", "inf"], option: "--crf-logit-scale", expected: ["0.01...100.0"]),
        Case(arguments: segment + ["--crf-resolution", "0"], option: "--crf-resolution", expected: ["0.1...1.0"]),
        Case(arguments: evaluate + ["--no-crf", "--crf-resolution", "2"], option: "--crf-resolution", expected: ["0.1...1.0"]),
        // The CRF options are checked whether or not --crf is given.
        Case(arguments: segment + ["--crf-srgb", "0"], option: "--crf-srgb", expected: ["0.01...10000.0"]),
        Case(arguments: evaluate + ["--crf-bilateral-weight", "-1"], option: "--crf-bilateral-weight", expected: ["0.0...1000.0"]),
        Case(arguments: evaluate + ["--crf", "--crf-bilateral-weight", "nan"], option: "--crf-bilateral-weight",
             expected: ["0.0...1000.0"]),
        // Issue #11, lever 8: the prediction rules.
        Case(arguments: segment + ["--background-bias", "nan"], option: "--background-bias", expected: ["-50.0...50.0"]),
        Case(arguments: evaluate + ["--background-bias", "-1e9"], option: "--background-bias", expected: ["-50.0...50.0"]),
        Case(arguments: evaluate + ["--min-class-area", "2"], option: "--min-class-area", expected: ["0.0...1.0", "fraction"]),
        Case(arguments: segment + ["--min-class-area=-0.1"], option: "--min-class-area", expected: ["0.0...1.0"]),
        Case(arguments: segment + ["--no-adjust", "--background-bias", "-1"], option: "--no-adjust",
             expected: ["--background-bias"]),
        Case(arguments: segment + ["--tags", " , "], option: "--tags", expected: ["names no class"]),
        // Lever 9: the localizers' maps.
        Case(arguments: segment + ["--localizer-weight", "nan"], option: "--localizer-weight", expected: ["0.0...1000.0"]),
        Case(arguments: evaluate + ["--localizer-weight=-1"], option: "--localizer-weight", expected: ["0.0...1000.0"]),
        Case(arguments: evaluate + ["--no-adjust", "--localizer-weight", "4"], option: "--no-adjust",
             expected: ["--localizer-weight"]),
        Case(arguments: segment + ["--tags", "giraffe", "--tags-from", "tags:x.csv"], option: "--tags-from",
             expected: ["pass one of them"]),
        // Learning rates and negative ratios.
        Case(arguments: train + ["--learning-rate", "nan"], option: "--learning-rate", expected: ["1e-08...1.0"]),
        Case(arguments: train + ["--learning-rate", "0"], option: "--learning-rate", expected: ["1e-08...1.0"]),
        Case(arguments: train + ["--learning-rate", "-0.1"], option: "--learning-rate", expected: ["1e-08...1.0"]),
        Case(arguments: train + ["--learning-rate", "inf"], option: "--learning-rate", expected: ["1e-08...1.0"]),
        Case(arguments: train + ["--negatives-per-positive", "-1"], option: "--negatives-per-positive",
             expected: ["0.01 or more"]),
        Case(arguments: train + ["--negatives-per-positive", "nan"], option: "--negatives-per-positive",
             expected: ["0.01 or more"]),
        // The other commands' numbers.
        Case(arguments: ["experiment", "--dataset", coco, "--epochs", "1000000000"] + registry, option: "--epochs",
             expected: ["1...100"]),
        Case(arguments: ["experiment", "--dataset", coco, "--limit", "-2"] + registry, option: "--limit", expected: ["1 or more"]),
        Case(arguments: ["baseline-cam", "--dataset", coco, "--epochs", "1000000000"], option: "--epochs",
             expected: ["1...100000"]),
        Case(arguments: ["baseline-cam", "--dataset", coco, "--learning-rate", "-1"], option: "--learning-rate",
             expected: ["1e-07...1.0"]),
        Case(arguments: ["diagnose", "--dataset", coco, "--split", "val", "--points", "1000000000"] + registry,
             option: "--points", expected: ["0...500"]),
        Case(arguments: ["diagnose", "--dataset", coco, "--split", "val", "--oracle-epochs", "0"] + registry,
             option: "--oracle-epochs", expected: ["1...100"]),
    ]

    @Test("an out-of-range value is refused before anything runs, with the option and its bound", arguments: cases)
    func refused(_ example: Case) throws {
        let result = try CLIRunner.run(example.arguments)
        #expect(result.status == 64, "exit \(result.status): \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Missing value"), "\(result.stderr)")
        #expect(result.stderr.contains(example.option), "\(result.stderr)")
        for fragment in example.expected {
            #expect(result.stderr.contains(fragment), "'\(fragment)' missing from: \(result.stderr)")
        }
        // Nothing was created: the refusal comes before any work.
        #expect(!FileManager.default.fileExists(atPath: Self.scratch + "/classes"))
        #expect(!FileManager.default.fileExists(atPath: Self.scratch + "/bundle"))
        #expect(!FileManager.default.fileExists(atPath: Self.scratch + "/out"))
    }

    @Test("help texts state each numeric option's bound",
          arguments: [("retrain", ["1...100", "0...500", "0.0...10.0", "1...64", "0.0...86400.0"]),
                      ("add", ["1...100", "0...500", "0.0...86400.0"]),
                      ("segment", ["0...100", "0.0...1000.0", "0.01...10000.0", "0.01...100.0", "-50.0...50.0", "0.0...1.0"]),
                      ("evaluate", ["1 or more", "0...100"]),
                      ("train", ["1e-08...1.0", "0.01 or more", "physical memory", "18446744073709551615"]),
                      ("baseline-cam", ["1...100000", "1e-07...1.0"]),
                      ("diagnose", ["0...500", "1...100"]),
                      ("experiment", ["1 or more", "1...100"])])
    func helpStatesBounds(command: String, bounds: [String]) throws {
        let result = try CLIRunner.run([command, "--help"])
        #expect(result.status == 0)
        // Help wraps lines; compare with the whitespace collapsed.
        let help = result.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for bound in bounds { #expect(help.contains(bound), "'\(bound)' missing from \(command) --help") }
    }

    @Test("values at the bounds are accepted (refusals come from elsewhere, not the bound)")
    func boundaryValuesAccepted() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // An empty registry: every value below is valid, so the command gets past parsing
        // and stops at the registry having no classes.
        let result = try CLIRunner.run(["retrain", "--epochs", "100", "--points", "0", "--dense-threshold", "10",
                                        "--dense-stride", "64", "--lock-timeout", "0", "--dense-margin", "10",
                                        "--background", "none", "--registry", dir.path + "/classes",
                                        "--cache", dir.path + "/cache"])
        #expect(result.status != 64, "\(result.stderr)")
        #expect(!result.stderr.contains("Error: --"), "\(result.stderr)")
    }
}
