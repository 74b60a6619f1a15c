import CDivSegKernels
import Dispatch

/// High-dimensional Gaussian filtering on the permutohedral lattice (Adams, Baek & Davis,
/// "Fast High-Dimensional Filtering Using the Permutohedral Lattice", 2010), following the
/// dense-CRF reference code of Krähenbühl & Koltun: every point is *splatted* onto the d+1
/// vertices of the lattice simplex that encloses it (barycentric weights), the vertex values are
/// *blurred* with a [1 2 1]/2 stencil along each of the d+1 lattice directions, and each point
/// *slices* its result back from its vertices. For `values` v and features f (already divided
/// by the kernel's standard deviations) the output approximates
///
///     out_i ≈ c · Σ_j exp(−|f_i − f_j|² / 2) · v_j      (the j = i term included)
///
/// in time linear in the number of points. The constant c and the kernel's exact shape are
/// those of the reference (its `alpha = 1/(1 + 2^−d)` normalisation); both differ from a true
/// Gaussian, so callers normally filter a vector of ones as well and divide (or scale
/// symmetrically, as the dense CRF does) — see ``scaled(splat:slice:)``.
///
/// The lattice is built once per feature set and then filters any number of value vectors:
/// `valueCount` values per point, stored point-major, so that all labels of a CRF are filtered
/// at once with contiguous, vectorised inner loops. Splatting reads the points in order (one
/// pass over the input) and scatters into vertex rows that stay in cache; in parallel each
/// thread splats its band of points into a private copy of the vertex rows, which are then
/// summed. Blur and slice write disjoint rows and need no such care.
///
/// ```swift
/// // 2-D positions divided by σ = 3 pixels, one value per point plus a row of ones.
/// var features = [Float]()
/// for y in 0..<h { for x in 0..<w { features += [Float(x) / 3, Float(y) / 3] } }
/// let lattice = try PermutohedralLattice(features: features, dimension: 2)
/// let blurred = lattice.filter(values, valueCount: 1)
/// let weights = lattice.filter([Float](repeating: 1, count: w * h), valueCount: 1)
/// let smoothed = zip(blurred, weights).map { $0 / $1 }   // a normalised Gaussian blur
/// ```
public struct PermutohedralLattice: Sendable {
    /// The largest feature dimension accepted (the dense CRF uses 2 and 5).
    public static let maximumDimension = 16

    /// Feature dimension d.
    public let dimension: Int
    /// Number of points (pixels).
    public let pointCount: Int
    /// Number of lattice vertices the points occupy.
    public let vertexCount: Int
    /// Whether filtering may use all cores via ``Parallel``; false keeps it on the calling
    /// thread. (Construction follows the `parallel` argument of the initialiser.)
    public var parallel: Bool

    /// `pointCount × (d+1)`: vertex row (1-based; row 0 is an all-zero row standing for
    /// "no neighbour") of each point's simplex corners.
    let sliceVertex: LatticeBuffer<Int32>
    /// Raw barycentric weights in point order (kept to rescale without rebuilding).
    let barycentric: LatticeBuffer<Float>
    /// Blur neighbours: for direction j and vertex row v (1-based), the two neighbour rows at
    /// `2 × (j × vertexCount + v − 1)` and the next index (0 when absent).
    let neighbours: LatticeBuffer<Int32>
    /// Splat weights in point order: barycentric weight × input scale.
    let splatWeight: LatticeBuffer<Float>
    /// Slice weights in point order: alpha × barycentric weight × output scale.
    let sliceWeight: LatticeBuffer<Float>

    /// Builds the lattice for `features`, point-major (`features[i * dimension + k]` is
    /// feature k of point i), already divided by the kernel's standard deviations.
    ///
    /// - Throws: ``PermutohedralLatticeError`` for an unsupported dimension, a feature array
    ///   that does not divide into points, or NaN, infinite or huge features.
    public init(features: [Float], dimension d: Int, parallel: Bool = true) throws(PermutohedralLatticeError) {
        guard (1...Self.maximumDimension).contains(d) else { throw .unsupportedDimension(d) }
        guard !features.isEmpty, features.count % d == 0 else {
            throw .featureCountMismatch(count: features.count, dimension: d)
        }
        let n = features.count / d
        guard n < Int(Int32.max) / (d + 1) else { throw .featureCountMismatch(count: features.count, dimension: d) }
        // Rounding to lattice coordinates is done in Float: keep elevated coordinates well
        // inside the 24-bit mantissa so that the remainder-0 point is found exactly.
        let limit = Float(1 << 21) / Float((d + 1) * (d + 1))
        let outOfRange = features.withUnsafeBufferPointer { f in
            // Branch-free scan first (NaN fails `<=`); find the culprit only if needed.
            var ok = true
            for v in f { ok = ok && abs(v) <= limit }
            return ok ? nil : f.firstIndex { !(abs($0) <= limit) }
        }
        if let index = outOfRange {
            let value = features[index]
            guard value.isFinite else { throw .nonFiniteFeature(point: index / d, feature: index % d) }
            throw .featureOutOfRange(point: index / d, feature: index % d, value: value, limit: limit)
        }
        let corners = d + 1
        self.dimension = d
        self.pointCount = n
        self.parallel = parallel

        // 1. Per point, in parallel: the enclosing simplex (remainder-0 vertex and the
        //    ordering of the coordinates) and the barycentric weights.
        let remainder0 = LatticeBuffer<Int32>(count: n * corners)
        let ranks = LatticeBuffer<UInt8>(count: n * corners)
        let bary = LatticeBuffer<Float>(count: n * corners)
        features.withUnsafeBufferPointer { f in
            let fp = f.baseAddress!
            Parallel.forEachChunk(of: 0..<n, parallel: parallel, minimumChunk: 4096) { range in
                Self.locate(points: range, features: fp, dimension: d, remainder0: remainder0.base,
                            rank: ranks.base, barycentric: bary.base)
            }
        }

        // 2. Give each distinct simplex corner a vertex index: bands of points fill tables of
        //    their own (in parallel), then the later bands' vertices are merged into the first
        //    band's table in band order. Indices follow first-seen order within that scheme,
        //    so the lattice is deterministic, and no result depends on the numbering anyway.
        let vertexOfSlot = LatticeBuffer<Int32>(count: n * corners)
        let bands = parallel ? max(1, min(Parallel.coreCount, n / 32_768)) : 1
        var tables = [LatticeKeyTable?](repeating: nil, count: bands)
        tables.withUnsafeMutableBufferPointer { buffer in
            let tablesOut = buffer
            let build = { (band: Int) in
                let points = (n * band / bands)..<(n * (band + 1) / bands)
                let table = LatticeKeyTable(dimension: d, expectedVertices: max(64, points.count / 8))
                Self.insert(points: points, dimension: d, remainder0: remainder0.base, rank: ranks.base,
                            table: table, vertexOfSlot: vertexOfSlot.base)
                tablesOut[band] = table
            }
            if bands == 1 {
                build(0)
            } else {
                // Each band writes its own slots and its own table.
                nonisolated(unsafe) let build = build
                DispatchQueue.concurrentPerform(iterations: bands) { band in build(band) }
            }
        }
        let table = tables[0]!
        for band in 1..<bands {
            let local = tables[band]!
            let global = (0..<local.count).map { table.findOrInsert(local.key($0)) + 1 }
            let slots = (corners * (n * band / bands))..<(corners * (n * (band + 1) / bands))
            global.withUnsafeBufferPointer { map in
                let out = vertexOfSlot.base, mapping = map.baseAddress!
                Parallel.forEachChunk(of: slots, parallel: parallel, minimumChunk: 16_384) { range in
                    for s in range { out[s] = mapping[Int(out[s]) - 1] }
                }
            }
        }
        let m = table.count
        self.vertexCount = m

        // 3. Blur neighbours of every vertex along each direction (read-only lookups).
        let neighbours = LatticeBuffer<Int32>(count: corners * m * 2)
        Parallel.forEachChunk(of: 0..<m, parallel: parallel, minimumChunk: 2048) { range in
            let n1 = UnsafeMutablePointer<Int32>.allocate(capacity: d)
            let n2 = UnsafeMutablePointer<Int32>.allocate(capacity: d)
            defer { n1.deallocate(); n2.deallocate() }
            let nb = neighbours.base
            for v in range {
                let key = table.key(v)
                for j in 0...d {
                    for k in 0..<d {
                        n1[k] = key[k] &- 1
                        n2[k] = key[k] &+ 1
                    }
                    // Along direction j coordinate j moves by d and the others by −1 (the
                    // (d+1)-th coordinate is implicit: a key's coordinates sum to zero).
                    if j < d {
                        n1[j] = key[j] &+ Int32(d)
                        n2[j] = key[j] &- Int32(d)
                    }
                    let slot = 2 * (j * m + v)
                    nb[slot] = table.find(n1) + 1
                    nb[slot + 1] = table.find(n2) + 1
                }
            }
        }
        self.neighbours = neighbours
        self.sliceVertex = vertexOfSlot
        self.barycentric = bary
        self.splatWeight = bary
        let alpha = Self.alpha(d)
        let slice = LatticeBuffer<Float>(count: n * corners)
        Parallel.forEachChunk(of: 0..<(n * corners), parallel: parallel, minimumChunk: 65_536) { range in
            for s in range { slice.base[s] = bary.base[s] * alpha }
        }
        self.sliceWeight = slice
    }

    private init(rescaling lattice: PermutohedralLattice, splatWeight: LatticeBuffer<Float>,
                 sliceWeight: LatticeBuffer<Float>) {
        dimension = lattice.dimension
        pointCount = lattice.pointCount
        vertexCount = lattice.vertexCount
        parallel = lattice.parallel
        sliceVertex = lattice.sliceVertex
        barycentric = lattice.barycentric
        neighbours = lattice.neighbours
        self.splatWeight = splatWeight
        self.sliceWeight = sliceWeight
    }

    /// The same lattice with each point's input multiplied by `splat[i]` before splatting and
    /// its output multiplied by `slice[i]` after slicing — `diag(slice) · K · diag(splat)` —
    /// folded into the splat and slice weights, so that normalised filtering (the dense CRF's
    /// symmetric `D^−½ K D^−½`, times a kernel weight) costs nothing extra per filtering.
    /// The scales replace any earlier ones; nil means 1.
    ///
    /// ```swift
    /// let degree = lattice.filter([Float](repeating: 1, count: n), valueCount: 1)
    /// let norm = degree.map { 1 / ($0 + 1e-20).squareRoot() }
    /// let normalised = try lattice.scaled(splat: norm, slice: norm)
    /// ```
    public func scaled(splat: [Float]? = nil, slice: [Float]? = nil) throws(PermutohedralLatticeError) -> PermutohedralLattice {
        for (name, scale) in [("splat", splat), ("slice", slice)] {
            guard let scale else { continue }
            guard scale.count == pointCount else {
                throw .invalidScale(what: name, detail: "\(scale.count) values for \(pointCount) points")
            }
            if let bad = scale.firstIndex(where: { !$0.isFinite }) {
                throw .invalidScale(what: name, detail: "value \(scale[bad]) at point \(bad) is not finite")
            }
        }
        let corners = dimension + 1, alpha = Self.alpha(dimension), count = pointCount * corners
        let splatWeight = LatticeBuffer<Float>(count: count), sliceWeight = LatticeBuffer<Float>(count: count)
        let bary = barycentric.base
        func fill(_ input: UnsafePointer<Float>?, _ output: UnsafePointer<Float>?) {
            Parallel.forEachChunk(of: 0..<pointCount, parallel: parallel, minimumChunk: 16_384) { range in
                for i in range {
                    let a = input?[i] ?? 1, b = (output?[i] ?? 1) * alpha
                    for s in (i * corners)..<((i + 1) * corners) {
                        splatWeight.base[s] = bary[s] * a
                        sliceWeight.base[s] = bary[s] * b
                    }
                }
            }
        }
        switch (splat, slice) {
        case let (a?, b?): a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in fill(a.baseAddress, b.baseAddress) } }
        case let (a?, nil): a.withUnsafeBufferPointer { fill($0.baseAddress, nil) }
        case let (nil, b?): b.withUnsafeBufferPointer { fill(nil, $0.baseAddress) }
        case (nil, nil): fill(nil, nil)
        }
        return PermutohedralLattice(rescaling: self, splatWeight: splatWeight, sliceWeight: sliceWeight)
    }

    /// The reference's constant 1/(1 + 2^−d) applied when slicing.
    private static func alpha(_ d: Int) -> Float {
        1 / (1 + Float(sign: .plus, exponent: -d, significand: 1))
    }

    /// Filters `values` (`pointCount × valueCount`, point-major) and returns the result in the
    /// same layout. Allocates its scratch memory; for repeated filtering keep a
    /// ``Workspace`` and use ``filterSum(_:input:valueCount:workspaces:consume:)`` or
    /// ``iterate(_:initial:valueCount:rounds:workspaces:update:)``.
    public func filter(_ values: [Float], valueCount: Int) -> [Float] {
        precondition(valueCount > 0 && values.count == pointCount * valueCount,
                     "filter needs pointCount × valueCount = \(pointCount) × \(valueCount) values, got \(values.count)")
        let workspace = Workspace(vertexCapacity: vertexCount, valueCount: valueCount)
        return [Float](unsafeUninitializedCapacity: values.count) { out, initialized in
            let o = out.baseAddress!
            values.withUnsafeBufferPointer { input in
                Self.filterSum([self], input: input.baseAddress!, valueCount: valueCount,
                               workspaces: [workspace]) { points, rows in
                    (o + points.lowerBound * valueCount).update(from: rows, count: points.count * valueCount)
                }
            }
            initialized = values.count
        }
    }

    /// Σ_k lattices[k] · input: filters `pointCount × valueCount` floats at `input` (point-
    /// major) with every lattice — all built over the same points — and hands the summed
    /// result to `consume` a block of a few hundred points at a time (`rows` holds the block's
    /// points consecutively, `valueCount` floats each, valid during the call only). `consume`
    /// runs while the block is in cache, concurrently for disjoint blocks when parallel.
    /// One pass over the input splats it into every lattice.
    ///
    /// Runs in parallel when any lattice's ``parallel`` is set.
    ///
    /// - Precondition: one workspace per lattice, each large enough for its lattice's
    ///   vertices and `valueCount`; equal `pointCount`s.
    public static func filterSum(_ lattices: [PermutohedralLattice], input: UnsafePointer<Float>,
                                 valueCount: Int, workspaces: [Workspace],
                                 consume: (_ points: Range<Int>, _ rows: UnsafePointer<Float>) -> Void) {
        iterate(lattices, initial: input, valueCount: valueCount, rounds: 1, workspaces: workspaces) { _, points, rows, _ in
            consume(points, rows)
        }
    }

    /// A fixed-point iteration x ← update(Σ_k K_k x), for `rounds` rounds, without ever
    /// storing x: round r filters its values (round 0: `initial`) with every lattice and
    /// hands each block of points' filtered sums to `update(r, points, filtered, next)`,
    /// which writes those points' next values into `next` (same block layout, `valueCount`
    /// floats per point); they are splatted for round r + 1 while still in cache. This is
    /// mean-field inference's shape: per round, one read of the unaries and no full-size
    /// intermediate buffer. `update` runs concurrently for disjoint blocks when parallel;
    /// in the last round `next` is not read.
    ///
    /// - Precondition: as for ``filterSum(_:input:valueCount:workspaces:consume:)``.
    public static func iterate(_ lattices: [PermutohedralLattice], initial: UnsafePointer<Float>,
                               valueCount: Int, rounds: Int, workspaces: [Workspace],
                               update: (_ round: Int, _ points: Range<Int>, _ filtered: UnsafePointer<Float>,
                                        _ next: UnsafeMutablePointer<Float>) -> Void) {
        precondition(!lattices.isEmpty && lattices.count == workspaces.count, "one workspace per lattice is needed")
        precondition(valueCount > 0 && rounds >= 0, "valueCount must be positive, rounds ≥ 0")
        let n = lattices[0].pointCount
        for (lattice, workspace) in zip(lattices, workspaces) {
            precondition(lattice.pointCount == n, "the lattices must share their points")
            precondition(workspace.vertexCapacity >= lattice.vertexCount && workspace.valueCount >= valueCount,
                         "workspace for \(workspace.vertexCapacity) vertices × \(workspace.valueCount) values is too "
                         + "small for \(lattice.vertexCount) × \(valueCount)")
        }
        guard rounds > 0 else { return }
        withExtendedLifetime(lattices) {
            Pass(lattices, workspaces, valueCount).run(initial: initial, rounds: rounds, update: update)
        }
    }

    /// One call of ``iterate(_:initial:valueCount:rounds:workspaces:update:)``: raw views of
    /// the lattices and buffers, so the hot loops see plain pointers and no reference counts.
    /// The arithmetic of splat, blur and slice is in CDivSegKernels (vectorised per
    /// instruction-set level, see ``SIMDKernels``); this drives it over bands and blocks.
    private struct Pass {
        typealias V = SIMD8<Float>
        let views: [View]
        let workspaces: [Workspace]
        let n: Int, vc: Int
        /// Vectors per vertex row (`vc` rounded up to whole vectors).
        let rowChunks: Int
        let parallel: Bool
        /// Bands of points splatted concurrently, each into its own vertex buffers.
        let bands: Int
        static var blockSize: Int { 256 }

        init(_ lattices: [PermutohedralLattice], _ workspaces: [Workspace], _ valueCount: Int) {
            views = lattices.map { View($0) }
            self.workspaces = workspaces
            n = lattices[0].pointCount
            vc = valueCount
            rowChunks = (vc + 7) / 8
            parallel = lattices.contains { $0.parallel }
            let partials = workspaces.map(\.partials.count).min()!
            bands = parallel ? max(1, min(1 + partials, n / 16_384)) : 1
        }

        func run(initial: UnsafePointer<Float>, rounds: Int,
                 update: (Int, Range<Int>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
            // Per lattice: the buffer band 0 splats into (the others use the partials).
            var target = workspaces.map(\.first)
            forEachBand { band, range in
                let buffers = splatBuffers(band: band, target: target)
                clear(buffers)
                splat(range, values: initial + range.lowerBound * vc, into: buffers)
            }
            for round in 0..<rounds {
                let last = round + 1 == rounds
                reduceBands(into: target)
                let (results, free) = blur(target)
                // Slice, update and splat the next round, block by block, each band into its
                // own buffers; `free` is the ping-pong buffer not holding the results.
                forEachBand { band, range in
                    let block = UnsafeMutablePointer<Float>.allocate(capacity: 2 * Self.blockSize * vc)
                    defer { block.deallocate() }
                    let next = block + Self.blockSize * vc
                    let buffers = last ? [] : splatBuffers(band: band, target: free)
                    clear(buffers)
                    var start = range.lowerBound
                    while start < range.upperBound {
                        let end = min(start + Self.blockSize, range.upperBound)
                        slice(start..<end, from: results, into: block)
                        update(round, start..<end, block, next)
                        if !last { splat(start..<end, values: next, into: buffers) }
                        start = end
                    }
                }
                target = free
            }
        }

        /// Runs `body(band, points)` for each band, concurrently when there are several.
        private func forEachBand(_ body: (Int, Range<Int>) -> Void) {
            let bands = self.bands, n = self.n
            if bands == 1 {
                body(0, 0..<n)
                return
            }
            // Bands touch disjoint points and buffers, so sharing the closure is safe.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: bands) { band in
                body(band, (n * band / bands)..<(n * (band + 1) / bands))
            }
        }

        private func splatBuffers(band: Int, target: [UnsafeMutablePointer<V>]) -> [UnsafeMutablePointer<V>] {
            band == 0 ? target : workspaces.map { $0.partials[band - 1] }
        }

        private func clear(_ buffers: [UnsafeMutablePointer<V>]) {
            for (view, rows) in zip(views, buffers) {
                (rows + rowChunks).update(repeating: V(), count: view.vertexCount * rowChunks)
            }
        }

        /// Splats the points of `points`, whose values are consecutive rows at `values`.
        private func splat(_ points: Range<Int>, values: UnsafePointer<Float>, into buffers: [UnsafeMutablePointer<V>]) {
            for k in 0..<views.count {
                let view = views[k], start = points.lowerBound * view.corners
                ds_lattice_splat(Self.floats(buffers[k]), 8 * rowChunks, values, vc, points.count,
                                 view.vertices + start, view.splatWeights + start, view.corners)
            }
        }

        private static func floats(_ rows: UnsafeMutablePointer<V>) -> UnsafeMutablePointer<Float> {
            UnsafeMutableRawPointer(rows).assumingMemoryBound(to: Float.self)
        }

        /// Adds the other bands' splats into band 0's buffers, all lattices in one parallel loop.
        private func reduceBands(into target: [UnsafeMutablePointer<V>]) {
            guard bands > 1 else { return }
            let rowChunks = self.rowChunks
            let sizes = views.map { $0.vertexCount * rowChunks }
            let partials = workspaces.map { Array($0.partials.prefix(bands - 1)) }
            forEachJoined(sizes, minimum: 4096 * 8) { k, range in
                // Row 0 is the shared zero row: skip it.
                let first = target[k] + rowChunks
                for partial in partials[k] {
                    let other = partial + rowChunks
                    for c in range { first[c] += other[c] }
                }
            }
        }

        /// Blurs each lattice's splatted values along its d+1 directions, ping-ponging between
        /// the workspace's two buffers; returns where the results are and the other buffer.
        /// Direction j of every lattice runs in one parallel loop, so that a round waits at
        /// max(d+1) barriers rather than Σ(d+1): they are what costs most on a busy machine.
        private func blur(_ target: [UnsafeMutablePointer<V>]) -> ([UnsafeMutablePointer<V>], [UnsafeMutablePointer<V>]) {
            let rowChunks = self.rowChunks
            var a = target
            var b = (0..<views.count).map { k in target[k] == workspaces[k].first ? workspaces[k].second : workspaces[k].first }
            for j in 0..<views.map(\.corners).max()! {
                let old = a, new = b, views = self.views
                let sizes = views.map { j < $0.corners ? $0.vertexCount : 0 }
                forEachJoined(sizes, minimum: 2048) { k, range in
                    let m = views[k].vertexCount
                    ds_lattice_blur(Self.floats(new[k]), Self.floats(old[k]), 8 * rowChunks,
                                    views[k].neighbours + 2 * (j * m + range.lowerBound),
                                    range.lowerBound, range.count)
                }
                for k in views.indices where j < views[k].corners { swap(&a[k], &b[k]) }
            }
            return (a, b)
        }

        /// Runs `body(k, range)` over the ranges `0..<sizes[k]` of all k as one parallel loop
        /// (chunks never straddle two ks).
        private func forEachJoined(_ sizes: [Int], minimum: Int, _ body: (Int, Range<Int>) -> Void) {
            let total = sizes.reduce(0, +)
            guard total > 0 else { return }
            var starts = [0]
            for size in sizes { starts.append(starts.last! + size) }
            Parallel.forEachChunk(of: 0..<total, parallel: parallel, minimumChunk: minimum) { range in
                for k in sizes.indices {
                    let lo = max(range.lowerBound, starts[k]), hi = min(range.upperBound, starts[k + 1])
                    if lo < hi { body(k, (lo - starts[k])..<(hi - starts[k])) }
                }
            }
        }

        /// The sum over lattices of the sliced values of `points`, into consecutive rows.
        private func slice(_ points: Range<Int>, from results: [UnsafeMutablePointer<V>], into block: UnsafeMutablePointer<Float>) {
            for k in 0..<views.count {
                let view = views[k], start = points.lowerBound * view.corners
                ds_lattice_slice(block, vc, points.count, Self.floats(results[k]), 8 * rowChunks,
                                 view.vertices + start, view.sliceWeights + start, view.corners, k > 0 ? 1 : 0)
            }
        }
    }

    /// Raw views of a lattice's arrays for the hot loops (the lattice keeps them alive).
    private struct View {
        let corners: Int
        let vertexCount: Int
        let vertices: UnsafePointer<Int32>
        let splatWeights: UnsafePointer<Float>
        let sliceWeights: UnsafePointer<Float>
        let neighbours: UnsafePointer<Int32>

        init(_ lattice: PermutohedralLattice) {
            corners = lattice.dimension + 1
            vertexCount = lattice.vertexCount
            vertices = UnsafePointer(lattice.sliceVertex.base)
            splatWeights = UnsafePointer(lattice.splatWeight.base)
            sliceWeights = UnsafePointer(lattice.sliceWeight.base)
            neighbours = UnsafePointer(lattice.neighbours.base)
        }
    }

    /// Scratch vertex values for ``filterSum(_:input:valueCount:workspaces:consume:)`` and
    /// ``iterate(_:initial:valueCount:rounds:workspaces:update:)``: buffers of
    /// `(vertexCapacity + 1) × valueCount` floats (rounded up to whole SIMD vectors) — two for
    /// the blur's ping-pong and one per further core for parallel splatting — allocated once
    /// and reused for every round, so that iterating allocates nothing but a cache-sized
    /// block per band. A workspace serves one filtering at a time.
    public final class Workspace {
        public let vertexCapacity: Int
        public let valueCount: Int
        let first: UnsafeMutablePointer<SIMD8<Float>>
        let second: UnsafeMutablePointer<SIMD8<Float>>
        let partials: [UnsafeMutablePointer<SIMD8<Float>>]

        public init(vertexCapacity: Int, valueCount: Int) {
            precondition(vertexCapacity >= 0 && valueCount > 0, "workspace sizes must be positive")
            self.vertexCapacity = vertexCapacity
            self.valueCount = valueCount
            let count = (vertexCapacity + 1) * ((valueCount + 7) / 8)
            // Row 0 stands for a missing neighbour and must stay zero: splat and blur write
            // rows 1... only.
            func buffer() -> UnsafeMutablePointer<SIMD8<Float>> {
                let b = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: count)
                b.initialize(repeating: SIMD8(), count: count)
                return b
            }
            first = buffer()
            second = buffer()
            partials = (1..<max(Parallel.coreCount, 1)).map { _ in buffer() }
        }

        deinit {
            first.deallocate()
            second.deallocate()
            for buffer in partials { buffer.deallocate() }
        }
    }

    /// Looks up (inserting when new) the d+1 simplex corners of each point of `points` in
    /// `table`, writing 1-based vertex rows into `vertexOfSlot`.
    private static func insert(points: Range<Int>, dimension d: Int, remainder0: UnsafePointer<Int32>,
                               rank: UnsafePointer<UInt8>, table: LatticeKeyTable,
                               vertexOfSlot out: UnsafeMutablePointer<Int32>) {
        let corners = d + 1
        let key = UnsafeMutablePointer<Int32>.allocate(capacity: d)
        let previous = UnsafeMutablePointer<Int32>.allocate(capacity: corners * d)
        let previousVertex = UnsafeMutablePointer<Int32>.allocate(capacity: corners)
        defer { key.deallocate(); previous.deallocate(); previousVertex.deallocate() }
        previousVertex.initialize(repeating: -1, count: corners)
        previous.initialize(repeating: 0, count: corners * d)
        for k in points {
            let remk = remainder0 + k * corners, rkk = rank + k * corners
            for r in 0...d {
                // Corner r of the simplex: the canonical simplex's row r, permuted by the rank
                // of each coordinate.
                let low = Int32(r), high = Int32(r - corners), bound = UInt8(d - r)
                let last = previous + r * d
                var differs: Int32 = 0
                for i in 0..<d {
                    let v = remk[i] &+ (rkk[i] <= bound ? low : high)
                    key[i] = v
                    differs |= last[i] ^ v
                }
                // Neighbouring pixels often share corners: skip the hash lookup.
                if differs != 0 || previousVertex[r] < 0 {
                    previousVertex[r] = table.findOrInsert(key)
                    last.update(from: key, count: d)
                }
                out[k * corners + r] = previousVertex[r] + 1
            }
        }
    }

    /// The enclosing simplex of each point (Adams et al. 2010, §3–4, as in the reference
    /// code): elevate onto the hyperplane H_d, round to the nearest remainder-0 point, rank the
    /// differences, and derive the barycentric weights.
    private static func locate(points: Range<Int>, features: UnsafePointer<Float>, dimension d: Int,
                               remainder0: UnsafeMutablePointer<Int32>, rank: UnsafeMutablePointer<UInt8>,
                               barycentric: UnsafeMutablePointer<Float>) {
        let corners = d + 1
        let scale = UnsafeMutablePointer<Float>.allocate(capacity: d)
        let elevated = UnsafeMutablePointer<Float>.allocate(capacity: corners)
        let rem = UnsafeMutablePointer<Int32>.allocate(capacity: corners)
        let rk = UnsafeMutablePointer<Int32>.allocate(capacity: corners)
        let bc = UnsafeMutablePointer<Float>.allocate(capacity: corners + 1)
        let difference = UnsafeMutablePointer<Float>.allocate(capacity: corners)
        defer {
            scale.deallocate(); elevated.deallocate(); rem.deallocate(); rk.deallocate(); bc.deallocate()
            difference.deallocate()
        }
        // The lattice's blur has standard deviation 1 in feature units with this scaling
        // (p. 6 of Adams et al. 2010); E's diagonal part is folded in.
        let inverseStd = (2.0 / 3.0).squareRoot() * Double(corners)
        for i in 0..<d { scale[i] = Float(1 / Double((i + 2) * (i + 1)).squareRoot() * inverseStd) }
        let down = 1 / Float(corners), up = Float(corners)
        for k in points {
            let f = features + k * d
            var sum: Float = 0
            var j = d
            while j > 0 {
                let cf = f[j - 1] * scale[j - 1]
                elevated[j] = sum - Float(j) * cf
                sum += cf
                j -= 1
            }
            elevated[0] = sum
            var coordinateSum: Int32 = 0
            for i in 0...d {
                // ceil/floor by truncation: without SSE4.1, `rounded(.up)` is a libm call.
                let v = down * elevated[i]
                let truncated = Float(Int32(v))
                let ceiling = truncated < v ? truncated + 1 : truncated
                let floor = truncated > v ? truncated - 1 : truncated
                let upper = ceiling * up, lower = floor * up
                let r = upper - elevated[i] < elevated[i] - lower ? upper : lower
                rem[i] = Int32(r)
                coordinateSum &+= rem[i]
                rk[i] = 0
                difference[i] = elevated[i] - r
            }
            // Branch-free ranking: the comparisons are unpredictable.
            for i in 0..<d {
                let di = difference[i]
                for j in (i + 1)...d {
                    let less: Int32 = di < difference[j] ? 1 : 0
                    rk[i] &+= less
                    rk[j] &+= 1 &- less
                }
            }
            // Bring the point back onto the plane when the rounded coordinates do not sum to 0
            // (each is a multiple of d+1, so one exact division gives the offset).
            coordinateSum /= Int32(corners)
            for i in 0...d {
                rk[i] += coordinateSum
                if rk[i] < 0 {
                    rk[i] += Int32(corners)
                    rem[i] += Int32(corners)
                } else if rk[i] > Int32(d) {
                    rk[i] -= Int32(corners)
                    rem[i] -= Int32(corners)
                }
            }
            for i in 0...(d + 1) { bc[i] = 0 }
            for i in 0...d {
                let v = (elevated[i] - Float(rem[i])) * down
                bc[d - Int(rk[i])] += v
                bc[d - Int(rk[i]) + 1] -= v
            }
            bc[0] += 1 + bc[d + 1]
            for i in 0...d {
                remainder0[k * corners + i] = rem[i]
                rank[k * corners + i] = UInt8(truncatingIfNeeded: rk[i])
                barycentric[k * corners + i] = bc[i]
            }
        }
    }
}

/// Memory owned by a lattice and immutable once built, with a stable address for the hot
/// loops (an array's storage address is only valid inside `withUnsafeBufferPointer`). For
/// trivial element types only.
final class LatticeBuffer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    let count: Int

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: max(count, 1))
    }

    deinit { base.deallocate() }
}

/// Open addressing with linear probing over lattice keys (the first d coordinates of a
/// vertex; the last is implied). Slots hold vertex indices into a dense key array, so the
/// table stays small and growing it only moves 32-bit indices. `find` is safe to call
/// concurrently once insertion is over.
private final class LatticeKeyTable: @unchecked Sendable {
    let d: Int
    private(set) var count = 0
    private var capacity: Int
    private var slots: UnsafeMutablePointer<Int32>
    private var keys: UnsafeMutablePointer<Int32>
    private var keyCapacity: Int

    init(dimension: Int, expectedVertices: Int) {
        d = dimension
        var c = 64
        while c < 2 * expectedVertices { c *= 2 }
        capacity = c
        slots = .allocate(capacity: c)
        slots.initialize(repeating: -1, count: c)
        keyCapacity = expectedVertices
        keys = .allocate(capacity: keyCapacity * d)
    }

    deinit {
        slots.deallocate()
        keys.deallocate()
    }

    func key(_ vertex: Int) -> UnsafePointer<Int32> { UnsafePointer(keys + vertex * d) }

    @inline(__always)
    private func hash(_ key: UnsafePointer<Int32>) -> Int {
        var h: UInt64 = 0
        for i in 0..<d { h = (h &+ UInt64(UInt32(bitPattern: key[i]))) &* 2_531_011 }
        // The reference's multiplicative hash leaves the low bits weak; mix before masking.
        h ^= h >> 31
        h &*= 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        return Int(truncatingIfNeeded: h) & (capacity - 1)
    }

    @inline(__always)
    private func matches(_ vertex: Int32, _ key: UnsafePointer<Int32>) -> Bool {
        let stored = keys + Int(vertex) * d
        var differs: Int32 = 0
        for i in 0..<d { differs |= stored[i] ^ key[i] }
        return differs == 0
    }

    /// The vertex index of `key`, or -1.
    func find(_ key: UnsafePointer<Int32>) -> Int32 {
        var s = hash(key)
        while true {
            let v = slots[s]
            if v < 0 || matches(v, key) { return v }
            s = (s + 1) & (capacity - 1)
        }
    }

    /// The vertex index of `key`, inserting it (with the next index) when new.
    func findOrInsert(_ key: UnsafePointer<Int32>) -> Int32 {
        if 2 * (count + 1) > capacity { grow() }
        var s = hash(key)
        while true {
            let v = slots[s]
            if v < 0 { break }
            if matches(v, key) { return v }
            s = (s + 1) & (capacity - 1)
        }
        if count == keyCapacity {
            let bigger = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * keyCapacity * d)
            bigger.moveInitialize(from: keys, count: count * d)
            keys.deallocate()
            keys = bigger
            keyCapacity *= 2
        }
        (keys + count * d).update(from: key, count: d)
        slots[s] = Int32(count)
        count += 1
        return Int32(count - 1)
    }

    private func grow() {
        slots.deallocate()
        capacity *= 2
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: -1, count: capacity)
        for v in 0..<count {
            var s = hash(keys + v * d)
            while slots[s] >= 0 { s = (s + 1) & (capacity - 1) }
            slots[s] = Int32(v)
        }
    }
}
