// swift-tools-version:6.0
import PackageDescription
import Foundation

// libFuzzer targets for divseg's parsers of untrusted input (issue #10). A separate package so
// that the normal `swift build` of the main package never sees them. Build and run them with
// `scripts/fuzz.sh` (it passes `-sanitize=fuzzer,address` and `-parse-as-library`).
//
// The main package is a path dependency; its identity is the folder's name (`divseg`, `main`,
// a worktree's name…), worked out here so any checkout builds.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let divseg = root.lastPathComponent.lowercased()

let package = Package(
    name: "divseg-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"]),
        .executableTarget(name: "FuzzImageDecoder", dependencies: [
            "FuzzSupport",
            .product(name: "DivSegIO", package: divseg),
        ]),
        .executableTarget(name: "FuzzModelFiles", dependencies: [
            "FuzzSupport",
            .product(name: "DivSeg", package: divseg), .product(name: "DivSegIO", package: divseg),
        ]),
        .executableTarget(name: "FuzzRegistryFiles", dependencies: [
            "FuzzSupport",
            .product(name: "DivSegRegistry", package: divseg), .product(name: "DivSeg", package: divseg),
        ]),
        .executableTarget(name: "FuzzDatasets", dependencies: [
            "FuzzSupport",
            .product(name: "DivSeg", package: divseg),
        ]),
    ]
)
