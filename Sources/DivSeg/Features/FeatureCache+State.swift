import DivSegCore
import DivSegIO
import Foundation

/// Compact per-image state entries (``ImageState``) beside the full entries.
///
/// A state entry `<directory>/<first two hex digits>/<sha256>.state.h5` (`…-hflip.state.h5`
/// mirrored) holds the datasets `block5_conv3` (`[512, 16, 21]`, stored like the groups of a
/// full entry: `encoding = "float16-pairs"` or `"float32"`) and `global`, with the full
/// entry's attributes and `format = "divseg-image-state-1"`: ≈0.35 MB per image, against
/// ≈17.5 MB for a full entry. CAM-style localizer training and dense labels read only this.
///
/// Values are those a full entry gives (block5_conv3 is rounded as the whole block5 group
/// would be), so a localizer trained from states equals one trained from full entries, and
/// an existing full entry is migrated into a state entry by reading only its block5 group.
/// Full entries are written only by ``features(for:extractor:flipped:)``; sampling
/// (``samplingFeatures(for:extractor:flipped:)``) recomputes the backbone when none exists.
extension FeatureCache {
    /// The `format` attribute of state entries.
    public static let stateFormatName = "divseg-image-state-1"

    /// The state entry of an image (whether or not it exists).
    public func statePath(for imagePath: String, flipped: Bool = false) throws -> String {
        statePath(digest: try imageDigest(imagePath), flipped: flipped)
    }

    func statePath(digest: String, flipped: Bool) -> String {
        "\(directory)/\(digest.prefix(2))/\(digest)\(flipped ? "-hflip" : "").state.h5"
    }

    /// The compact state of an image: read from its state entry; else taken from a full
    /// entry (reading only block5) and stored as a state entry; else computed with
    /// `extractor` and stored as a state entry only (no 17.5 MB full entry).
    ///
    /// ```swift
    /// let state = try cache.state(for: "images/giraffe.jpg", extractor: extractor)
    /// ```
    public func state(for imagePath: String, extractor: HypercolumnExtractor, flipped: Bool = false) throws -> ImageState {
        try stateLookup(imagePath, extractor: extractor, flipped: flipped).state
    }

    /// Like ``state(for:extractor:flipped:)``, and says whether a state entry was hit
    /// (`.hit`), made from a full entry or the backbone (`.computed`), or replaced (`.recomputed`).
    public func stateLookup(_ imagePath: String, extractor: HypercolumnExtractor,
                            flipped: Bool = false) throws -> (state: ImageState, outcome: Outcome) {
        let found = try stateLookup(imagePath, digest: try imageDigest(imagePath), flipped: flipped) { extractor }
        return (found.state, found.outcome)
    }

    /// Like ``state(for:extractor:flipped:)``, with a backbone that is loaded only when the
    /// image has neither a state entry nor a full entry, and with the image's SHA-256 (the
    /// cache key, computed once here) for callers that record it — e.g. a bundle's corpus.
    ///
    /// ```swift
    /// let backbone = LazyHypercolumnExtractor(weightsAt: weights)
    /// let (state, sha256) = try cache.stateAndDigest(for: "images/giraffe.jpg", extractor: backbone)
    /// ```
    public func stateAndDigest(for imagePath: String, extractor: LazyHypercolumnExtractor,
                               flipped: Bool = false) throws -> (state: ImageState, imageSHA256: String) {
        let digest = try imageDigest(imagePath)
        let found = try stateLookup(imagePath, digest: digest, flipped: flipped) { try extractor.extractor() }
        return (found.state, digest)
    }

    /// The state lookup of an image whose digest is known; `extractor` is called only when
    /// the backbone must run.
    func stateLookup(_ imagePath: String, digest: String, flipped: Bool,
                     extractor: () throws -> HypercolumnExtractor) throws -> (state: ImageState, outcome: Outcome) {
        let path = statePath(digest: digest, flipped: flipped)
        let found = readState(path, digest: digest, flipped: flipped)
        if case .valid(let state) = found { return (state, .hit) }
        let outcome = found.missOutcome(entry: path, imagePath: imagePath, log: log)
        let state: ImageState
        if let fromFull = stateFromFullEntry(digest: digest, flipped: flipped) {
            state = fromFull
        } else {
            state = Self.stateOfRounded(try computeRounded(imagePath, extractor: try extractor(), flipped: flipped))
        }
        try writeState(state, to: path, digest: digest, flipped: flipped, source: imagePath)
        return (state, outcome)
    }

    /// The cached state of an image (from its state entry, or else a full entry), or nil;
    /// nothing is computed or written.
    public func cachedState(for imagePath: String, flipped: Bool = false) throws -> ImageState? {
        let digest = try imageDigest(imagePath)
        if case .valid(let state) = readState(statePath(digest: digest, flipped: flipped), digest: digest, flipped: flipped) {
            return state
        }
        return stateFromFullEntry(digest: digest, flipped: flipped)
    }

    /// The full compact hypercolumns for sampling rows at chosen points: from a full entry
    /// when one exists (caches written before state entries), else recomputed with the
    /// backbone and rounded exactly as a full entry would be — without storing it (the rows
    /// that are kept go to the sample store). The state entry is written when missing.
    public func samplingFeatures(for imagePath: String, extractor: HypercolumnExtractor,
                                 flipped: Bool = false) throws -> CompactHypercolumns {
        if let features = try cachedFeatures(for: imagePath, flipped: flipped) { return features }
        let digest = try imageDigest(imagePath)
        let features = try computeRounded(imagePath, extractor: extractor, flipped: flipped)
        let path = statePath(digest: digest, flipped: flipped)
        if case .valid = readState(path, digest: digest, flipped: flipped) {} else {
            try writeState(Self.stateOfRounded(features), to: path, digest: digest, flipped: flipped, source: imagePath)
        }
        return features
    }

    /// Makes sure every image has a valid state entry (see ``state(for:extractor:flipped:)``).
    @discardableResult
    public func precomputeStates(_ imagePaths: [String], extractor: HypercolumnExtractor, flipped: Bool = false,
                                 progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Summary {
        var summary = Summary()
        for (index, path) in imagePaths.enumerated() {
            summary.count(try stateLookup(path, extractor: extractor, flipped: flipped).outcome)
            progress?(index + 1, imagePaths.count)
        }
        return summary
    }

    // MARK: - Internals

    typealias StateReadResult = EntryRead<ImageState>

    /// Computes an image's groups and rounds them as a full entry stores them.
    func computeRounded(_ imagePath: String, extractor: HypercolumnExtractor, flipped: Bool) throws -> CompactHypercolumns {
        var image: Image
        do {
            image = try ImageDecoder.decodeRGB(contentsOf: imagePath)
        } catch {
            throw CacheError.unreadableImage(path: imagePath, reason: error.description)
        }
        if flipped { image = Self.mirrored(image) }
        let features = extractor.extractCompact(from: image)
        let groups = [features.grid, features.block4, features.block5].map { Self.encode($0, storage: storage).rounded }
        return CompactHypercolumns(grid: groups[0], block4: groups[1], block5: groups[2], global: features.global)
    }

    /// The state of features already rounded like a full entry.
    static func stateOfRounded(_ features: CompactHypercolumns) -> ImageState { features.state }

    /// block5_conv3 and global of a valid full entry (only block5 is converted), or nil.
    func stateFromFullEntry(digest: String, flipped: Bool) -> ImageState? {
        let entry = entryPath(digest: digest, flipped: flipped)
        guard case .valid = read(entry, digest: digest, flipped: flipped, headerOnly: true) else { return nil }
        do {
            let file = try HDF5File.open(entry)
            defer { file.close() }
            let block5 = try Self.readGroup(file, "block5", shape: CompactHypercolumns.block5Shape)
            let global = try file.readFloats("global").values
            guard !global.isEmpty, FiniteCheck.firstNonFinite(block5.scalars) == nil,
                  FiniteCheck.firstNonFinite(global) == nil else { return nil }
            return CompactHypercolumns.state(block5: block5, global: global)
        } catch {
            return nil
        }
    }

    func readState(_ path: String, digest: String, flipped: Bool) -> StateReadResult {
        guard FileManager.default.fileExists(atPath: path) else { return .missing }
        do {
            let file = try HDF5File.open(path)
            defer { file.close() }
            if let reason = try headerProblem(file, format: Self.stateFormatName, digest: digest, flipped: flipped) {
                return .invalid(reason: reason)
            }
            let shape = ImageState.block5Conv3Shape
            guard file.contains("block5_conv3"), file.hasAttribute("encoding", of: "block5_conv3") else {
                return .invalid(reason: "has no 'block5_conv3' dataset with an 'encoding' attribute")
            }
            let encoding = try file.stringAttribute("encoding", of: "block5_conv3")
            guard let stored = Self.storedShape(shape, encoding: encoding) else {
                return .invalid(reason: "has 'block5_conv3' in the unknown encoding '\(encoding)'")
            }
            let found = try file.shape(of: "block5_conv3")
            guard found == stored else { return .invalid(reason: "has 'block5_conv3' of shape \(found), not \(stored)") }
            guard file.contains("global") else { return .invalid(reason: "has no 'global' dataset") }
            let conv = try Self.readGroup(file, "block5_conv3", shape: shape)
            let global = try file.readFloats("global").values
            guard FiniteCheck.firstNonFinite(conv.scalars) == nil else {
                return .invalid(reason: "holds a NaN or infinite value in 'block5_conv3'")
            }
            guard !global.isEmpty else { return .invalid(reason: "has an empty 'global' dataset") }
            if FiniteCheck.firstNonFinite(global) != nil { return .invalid(reason: "holds a NaN or infinite value in 'global'") }
            return .valid(ImageState(block5Conv3: conv, global: global))
        } catch let error as HDF5Error {
            return .invalid(reason: "is unreadable (\(error.description))")
        } catch {
            return .invalid(reason: "is unreadable (\(error))")
        }
    }

    /// Writes a state entry atomically. The values are already rounded as stored: exact in
    /// float16 when the block5 group was stored that way (then packed losslessly), else float32.
    func writeState(_ state: ImageState, to path: String, digest: String, flipped: Bool, source: String) throws {
        let group = Self.encode(state.block5Conv3, storage: storage)
        // Only a lossless packing may be used: the values must come back bit for bit.
        let exact = group.rounded.scalars == state.block5Conv3.scalars
        let stored = exact ? group
            : EncodedGroup(stored: state.block5Conv3.scalars, shape: state.block5Conv3.shape,
                           encoding: Self.plainFloat32, rounded: state.block5Conv3)
        try writeEntry(path, format: Self.stateFormatName, groups: [("block5_conv3", stored)], global: state.global,
                       digest: digest, flipped: flipped, source: source)
    }
}

extension CompactHypercolumns {
    /// The state from a block5 group `[1536, 16, 21]` and the global descriptor.
    static func state(block5: Tensor, global: [Float]) -> ImageState {
        let plane = block5.shape[1] * block5.shape[2], range = block5Conv3Channels
        return ImageState(block5Conv3: Tensor(shape: [range.count, block5.shape[1], block5.shape[2]],
                                              scalars: Array(block5.scalars[(range.lowerBound * plane)..<(range.upperBound * plane)])),
                          global: global)
    }
}
