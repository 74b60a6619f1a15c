import DivSegCore
import DivSegIO
import Foundation

/// The working memory of one dense-CRF inference: the input probabilities and the current
/// marginals, pixel-major with each pixel's labels padded to whole SIMD vectors (so that the
/// lattices filter all labels at once with contiguous inner loops), and the two kernels'
/// lattices with the symmetric normalisation and kernel weight folded into their splat and
/// slice weights. Allocated once per image; the iterations allocate almost nothing (a
/// cache-sized block per thread) and never hold a full-size message buffer.
final class MeanFieldState {
    let width: Int
    let height: Int
    let pixelCount: Int
    let labelCount: Int
    /// Floats per pixel: `labelCount` rounded up to a multiple of 8; the extra lanes are 0.
    let stride: Int
    let parallel: Bool
    /// Input probabilities normalised per pixel. Unaries are U = −log p, but the update
    /// Q ∝ exp(−U + m) = p · exp(m) needs no logarithm (see `normalise`).
    let probabilities: UnsafeMutablePointer<Float>
    let marginals: UnsafeMutablePointer<Float>
    /// w_k · D_k^−½ K_k D_k^−½ per kernel with a non-zero weight.
    let kernels: [PermutohedralLattice]
    let workspaces: [PermutohedralLattice.Workspace]

    /// - Parameter probabilities: `[labelCount, height, width]`, label-major.
    init(image: Image, probabilities input: UnsafeBufferPointer<Float>, labelCount: Int,
         parameters: DenseCRFParameters, parallel: Bool) throws(DenseCRFError) {
        let width = image.width, n = image.width * image.height
        let s = (labelCount + 7) / 8 * 8, labels = labelCount
        let probabilities = Self.allocate(n * s)

        // Label-major in, pixel-major out, normalised; a bad pixel leaves NaN or 0 in `sums`.
        var sums = [Float](repeating: 0, count: n)
        let src = input.baseAddress!
        sums.withUnsafeMutableBufferPointer { sumBuffer in
            let sump = sumBuffer.baseAddress!
            Parallel.forEachChunk(of: 0..<n, parallel: parallel, minimumChunk: 4096) { range in
                for i in range {
                    let row = probabilities + i * s
                    var total: Float = 0
                    var valid = true
                    for l in 0..<labels {
                        let v = src[l * n + i]
                        valid = valid && v >= 0 && v < .infinity
                        row[l] = v
                        total += v
                    }
                    for l in labels..<s { row[l] = 0 }
                    if valid && total > 0 && total < .infinity {
                        let inverse = 1 / total
                        for l in 0..<labels { row[l] *= inverse }
                    }
                    sump[i] = valid ? total : .nan
                }
            }
        }
        if let bad = sums.firstIndex(where: { !($0 > 0 && $0 < .infinity) }) {
            let values = (0..<labels).map { src[$0 * n + bad] }
            let detail = sums[bad].isNaN
                ? "a value is negative, NaN or infinite (\(values.prefix(8)))"
                : (sums[bad] == 0 ? "all are zero" : "their sum overflows")
            UnsafeMutableRawPointer(probabilities).deallocate()
            throw .invalidProbabilities(x: bad % width, y: bad / width, detail: detail)
        }

        var specs: [(spatial: Float, color: Float?, weight: Float)] = []
        if parameters.gaussianWeight > 0 { specs.append((parameters.gaussianSXY, nil, parameters.gaussianWeight)) }
        if parameters.bilateralWeight > 0 {
            specs.append((parameters.bilateralSXY, parameters.bilateralSRGB, parameters.bilateralWeight))
        }
        // One kernel after the other: each build is parallel inside (measured no faster when
        // the two are built side by side).
        var kernels: [PermutohedralLattice] = []
        for spec in specs {
            do {
                kernels.append(try Self.kernel(image: image, spatial: spec.spatial, color: spec.color,
                                               weight: spec.weight, parallel: parallel))
            } catch {
                UnsafeMutableRawPointer(probabilities).deallocate()
                throw .lattice(error)
            }
        }
        self.width = width
        self.height = image.height
        self.pixelCount = n
        self.labelCount = labelCount
        self.stride = s
        self.parallel = parallel
        self.probabilities = probabilities
        self.marginals = Self.allocate(n * s)
        self.kernels = kernels
        workspaces = kernels.map { PermutohedralLattice.Workspace(vertexCapacity: $0.vertexCount, valueCount: s) }
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Float>.size, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }

    deinit {
        UnsafeMutableRawPointer(probabilities).deallocate()
        UnsafeMutableRawPointer(marginals).deallocate()
    }

    /// One kernel's lattice: features are positions (and colours) divided by the standard
    /// deviations, as in the reference's `DenseCRF2D`; the degree D = K·1 comes from the same
    /// lattice, so its approximation error cancels to first order in D^−½ K D^−½.
    private static func kernel(image: Image, spatial: Float, color: Float?, weight: Float,
                               parallel: Bool) throws(PermutohedralLatticeError) -> PermutohedralLattice {
        let w = image.width, h = image.height, n = w * h
        let d = color == nil ? 2 : 5
        var features = [Float](repeating: 0, count: n * d)
        let inverseSpatial = 1 / spatial, inverseColor = 1 / (color ?? 1)
        let channels = image.channels
        image.pixels.withUnsafeBufferPointer { pixels in
            features.withUnsafeMutableBufferPointer { f in
                Parallel.forEachChunk(of: 0..<h, parallel: parallel, minimumChunk: 32) { rows in
                  for y in rows {
                    for x in 0..<w {
                        let i = y * w + x
                        let row = f.baseAddress! + i * d
                        row[0] = Float(x) * inverseSpatial
                        row[1] = Float(y) * inverseSpatial
                        if d == 5 {
                            let p = pixels.baseAddress! + i * channels
                            // Gray (+ alpha) images count as equal R, G and B.
                            let rgb = channels >= 3 ? (p[0], p[1], p[2]) : (p[0], p[0], p[0])
                            row[2] = Float(rgb.0) * inverseColor
                            row[3] = Float(rgb.1) * inverseColor
                            row[4] = Float(rgb.2) * inverseColor
                        }
                    }
                  }
                }
            }
        }
        let lattice = try PermutohedralLattice(features: features, dimension: d, parallel: parallel)
        let degree = lattice.filter([Float](repeating: 1, count: n), valueCount: 1)
        // The reference's NORMALIZE_SYMMETRIC, including its 1e-20 guard.
        let norm = degree.map { 1 / ($0 + 1e-20).squareRoot() }
        return try lattice.scaled(splat: norm, slice: norm.map { $0 * weight })
    }

    /// `iterations` parallel mean-field updates from Q₀ = p (Krähenbühl & Koltun 2011,
    /// algorithm 1, with Potts compatibility): Q_i(l) ∝ exp(−U_i(l) + Σ_k w_k (K̃_k Q)_i(l)).
    /// The Potts penalty of label l is the kernel mass on *other* labels,
    /// Σ_k w_k (K̃_k (1 − Q))_i(l); its label-independent part cancels in the normalisation,
    /// leaving the sign above. As in the reference, K̃ keeps each pixel's own term.
    ///
    /// The lattices hand each block of pixels' messages straight to the normalisation and
    /// splat the new Q for the next iteration while it is in cache, so Q is written out only
    /// after the last iteration (or after each one for an observer).
    func run(iterations: Int, observer: ((Int, Tensor) -> Void)?) {
        let s = stride, q = marginals
        if kernels.isEmpty || iterations == 0 {
            q.update(from: probabilities, count: pixelCount * s)
            if let observer {
                for iteration in 0...iterations { observer(iteration, marginalsTensor()) }
            }
            return
        }
        guard let observer else {
            PermutohedralLattice.iterate(kernels, initial: probabilities, valueCount: s, rounds: iterations,
                                         workspaces: workspaces) { round, range, messages, next in
                normalise(range, messages: messages, into: next)
                if round + 1 == iterations { (q + range.lowerBound * s).update(from: next, count: range.count * s) }
            }
            return
        }
        // With an observer: one round at a time, storing Q after each.
        q.update(from: probabilities, count: pixelCount * s)
        observer(0, marginalsTensor())
        for iteration in 0..<iterations {
            // Q is fully splatted before the first block is updated, so blocks may overwrite it.
            PermutohedralLattice.iterate(kernels, initial: q, valueCount: s, rounds: 1,
                                         workspaces: workspaces) { _, range, messages, next in
                normalise(range, messages: messages, into: next)
                (q + range.lowerBound * s).update(from: next, count: range.count * s)
            }
            observer(iteration + 1, marginalsTensor())
        }
    }

    /// The new Q of the pixels of `range`, p_i · exp(m_i − max m_i) normalised, into
    /// consecutive rows at `out`; their messages are consecutive rows at `messages`.
    /// Messages are ≥ 0 and the padding lanes hold 0, as the kernel requires.
    private func normalise(_ range: Range<Int>, messages: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        VectorMath.normalisedExponentialProducts(probabilities: probabilities + range.lowerBound * stride,
                                                 messages: messages, into: out, rows: range.count,
                                                 stride: stride, labels: labelCount)
    }

    /// Loads `[labelCount, height, width]` marginals into Q (for ``energy()``).
    func loadMarginals(_ input: UnsafePointer<Float>) {
        let n = pixelCount, s = stride, labels = labelCount, q = marginals
        Parallel.forEachChunk(of: 0..<n, parallel: parallel, minimumChunk: 4096) { range in
            for i in range {
                for l in 0..<labels { q[i * s + l] = input[l * n + i] }
                for l in labels..<s { q[i * s + l] = 0 }
            }
        }
    }

    /// Writes Q as `[labelCount, height, width]`.
    func storeMarginals(_ output: UnsafeMutablePointer<Float>) {
        let n = pixelCount, s = stride, labels = labelCount, q = marginals
        Parallel.forEachChunk(of: 0..<n, parallel: parallel, minimumChunk: 4096) { range in
            for i in range {
                for l in 0..<labels { output[l * n + i] = q[i * s + l] }
            }
        }
    }

    /// Q as a `[labelCount, height, width]` tensor.
    func marginalsTensor() -> Tensor {
        Tensor(shape: [labelCount, height, width]) { storeMarginals($0.baseAddress!) }
    }

    /// The label id of each pixel's most probable label (ties: the lowest label).
    func argmax(labelIDs: [UInt8]) -> [UInt8] {
        let s = stride, labels = labelCount, q = marginals
        return [UInt8](unsafeUninitializedCapacity: pixelCount) { out, initialized in
            labelIDs.withUnsafeBufferPointer { ids in
                let o = out.baseAddress!, idp = ids.baseAddress!
                Parallel.forEachChunk(of: 0..<pixelCount, parallel: parallel, minimumChunk: 4096) { range in
                    for i in range {
                        let row = q + i * s
                        var best = row[0], arg = 0
                        for l in 1..<max(labels, 1) where row[l] > best {
                            best = row[l]
                            arg = l
                        }
                        o[i] = idp[arg]
                    }
                }
            }
            initialized = pixelCount
        }
    }

    /// The mean-field free energy of the current Q (up to the log-partition constant):
    ///
    ///     F(Q) = Σ_i Σ_l Q_i(l) (U_i(l) + log Q_i(l)) + ½ Σ_k w_k Σ_i,j K̃_k(i, j) (1 − Q_i·Q_j)
    ///
    /// — the expected Potts energy minus the entropy, with the same filtered kernels (own
    /// pixel included) as `run`, whose fixed points are F’s stationary points.
    func energy() -> Double {
        var messages = [Float](repeating: 0, count: pixelCount * stride)
        var degree = [Float](repeating: 0, count: pixelCount)
        if !kernels.isEmpty {
            let s = stride
            messages.withUnsafeMutableBufferPointer { buffer in
                let out = buffer.baseAddress!
                PermutohedralLattice.filterSum(kernels, input: marginals, valueCount: s,
                                               workspaces: workspaces) { range, rows in
                    (out + range.lowerBound * s).update(from: rows, count: range.count * s)
                }
            }
            for kernel in kernels {
                let d = kernel.filter([Float](repeating: 1, count: pixelCount), valueCount: 1)
                for i in 0..<pixelCount { degree[i] += d[i] }
            }
        }
        var unary = 0.0, entropy = 0.0, pairwise = 0.0
        for i in 0..<pixelCount {
            let p = probabilities + i * stride, q = marginals + i * stride
            var agreement = 0.0
            for l in 0..<labelCount where q[l] > 0 {
                let ql = Double(q[l])
                unary -= ql * Double(log(p[l]))
                entropy += ql * Double(log(q[l]))
                agreement += ql * Double(messages[i * stride + l])
            }
            pairwise += 0.5 * (Double(degree[i]) - agreement)
        }
        return unary + entropy + pairwise
    }
}
