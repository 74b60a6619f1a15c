#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The files a command is about to write, checked all together before anything is written:
/// no output may be one of the inputs, no two outputs may be the same file, and every output
/// must be a place where a regular file may go (``RegularFile/checkOutput(_:)``).
///
/// Paths are compared after resolving `.`/`..` and symbolic links, and existing files also
/// by device and inode, so `coll/self.png` and `./coll/../coll/self.png`, or a hard link,
/// count as the same file.
///
/// ```swift
/// try OutputPlan.check([(input: "a/x.png", output: "out/x.png"),
///                       (input: "b/x.png", output: "out/x.png")])   // throws .sameOutput
/// ```
public enum OutputPlan {
    /// Checks every `(input, output)` pair against all inputs and all other outputs.
    /// `otherInputs` are read too (weights, a registry's files) and must not be overwritten.
    public static func check(_ plan: [(input: String, output: String)], otherInputs: [String] = []) throws {
        var inputKeys: [FileKey: String] = [:]
        for input in plan.map(\.input) + otherInputs where inputKeys[FileKey(input)] == nil {
            inputKeys[FileKey(input)] = input
        }
        var outputs: [FileKey: (output: String, input: String)] = [:]
        for (input, output) in plan {
            let key = FileKey(output)
            if let source = inputKeys[key] {
                throw OutputClashError.overwritesInput(output: output, input: source, producedFrom: input)
            }
            if let earlier = outputs[key] {
                throw OutputClashError.sameOutput(output: output, first: earlier.input, second: input)
            }
            outputs[key] = (output, input)
            try RegularFile.checkOutput(output)
        }
    }

    /// `path` made absolute, with `.`/`..` removed and the symbolic links of its deepest
    /// existing ancestor (and of itself, when it exists) resolved.
    public static func resolvedPath(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path
            : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        var existing = (absolute as NSString).standardizingPath
        var rest: [String] = []
        var info = stat()
        while lstat(existing, &info) != 0, existing != "/" {
            rest.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        let real = realpath(existing, nil).map { pointer -> String in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? existing
        return rest.reduce(real) { ($0 as NSString).appendingPathComponent($1) }
    }

    /// Identity of a file: device and inode when it exists, else its resolved path.
    private enum FileKey: Hashable {
        case inode(UInt64, UInt64)
        case path(String)

        init(_ path: String) {
            let resolved = OutputPlan.resolvedPath(path)
            var info = stat()
            if stat(resolved, &info) == 0 {
                self = .inode(UInt64(info.st_dev), UInt64(info.st_ino))
            } else {
                self = .path(resolved)
            }
        }
    }
}

/// Two files of one command that would be the same file. Nothing has been written.
public enum OutputClashError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The output for `producedFrom` is the input file `input`.
    case overwritesInput(output: String, input: String, producedFrom: String)
    /// The outputs for `first` and `second` are the same file.
    case sameOutput(output: String, first: String, second: String)

    public var description: String {
        switch self {
        case .overwritesInput(let output, let input, let producedFrom):
            let source = producedFrom == input ? "" : " (the output for '\(producedFrom)')"
            return "'\(output)'\(source) is the input file '\(input)' itself: writing it would destroy "
                + "the input. Nothing was written; choose another --out."
        case .sameOutput(let output, let first, let second):
            return "'\(first)' and '\(second)' would both be written to '\(output)', one overwriting "
                + "the other. Nothing was written; process them into separate --out folders or rename one."
        }
    }

    public var errorDescription: String? { description }
}
