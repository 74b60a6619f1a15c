import DivSegCore
import Dispatch

/// Segmenter training within a memory cap (issue #14): rows streamed from a
/// ``SegmenterRowSource`` in shuffled blocks.
extension SegmenterTrainer {
    /// Bytes kept aside from a memory cap for everything but the row buffer: the network and
    /// its optimizer moments, the batch workspace, two blocks in flight, and the process
    /// itself (libraries, BLAS buffers, ≈200 MB).
    public static func memoryReserve(inputs: Int, hidden: Int, classes: Int, largestBlock: Int) -> Int {
        let parameters = hidden * inputs + hidden + classes * hidden + classes
        return 200 << 20 + 4 * parameters * 4 + 2 * largestBlock * (inputs * 4 + 4)
    }

    /// Trains on the rows of `source` holding at most about `maxMemory` bytes.
    ///
    /// When every row fits in the cap (after ``memoryReserve(inputs:hidden:classes:largestBlock:)``)
    /// the rows are read into one ``SegmenterTrainingSet`` and trained exactly as
    /// ``train(on:classes:progress:)`` does: the same weights, bit for bit. Otherwise rows
    /// are streamed: one pass for the normalisation statistics (per-dimension sums in Double,
    /// block by block), then per epoch the blocks in a shuffled order (seeded by ``seed``),
    /// loaded into a buffer as large as the cap allows, the buffer's rows shuffled and trained
    /// in mini-batches. Shuffling is then within buffers, not over all rows, so the weights
    /// differ from an in-memory run (same statistics, same initialisation, same rule).
    ///
    /// - Throws: ``SegmenterError`` (settings, labels, an empty source, a cap too small for one
    ///   block), or the source's errors.
    ///
    /// ```swift
    /// let (segmenter, report) = try SegmenterTrainer().train(
    ///     streaming: source, maxMemory: try MemorySize(parsing: "4G"), classes: ["background", "giraffe"])
    /// ```
    public func train(streaming source: some SegmenterRowSource, maxMemory: MemorySize, classes: [String],
                      progress: ((Progress) -> Void)? = nil) throws -> (segmenter: Segmenter, report: Report) {
        try validate()
        try Segmenter.validate(classes: classes)
        let d = source.dimension, n = source.rowCount, rowBytes = d * 4 + 4
        guard n > 0 else { throw SegmenterError.emptyTrainingSet }
        let reserve = Self.memoryReserve(inputs: d, hidden: hiddenUnits, classes: classes.count,
                                         largestBlock: source.largestBlock)
        let budget = maxMemory.bytes - reserve
        if n * rowBytes <= budget {
            var features: [Float] = [], labels: [Int32] = []
            features.reserveCapacity(n * d)
            labels.reserveCapacity(n)
            for index in 0..<source.blockCount {
                let block = try source.block(index)
                try Self.check(block, rows: source.rowCount(ofBlock: index), dimension: d, index: index)
                features += block.features
                labels += block.labels
            }
            let set = try SegmenterTrainingSet(features: features, labels: labels, featureChannels: source.featureChannels,
                                               globalCount: source.globalCount)
            return try train(on: set, classes: classes, progress: progress)
        }
        let minimum = reserve + source.largestBlock * rowBytes
        guard budget >= source.largestBlock * rowBytes else {
            throw SegmenterError.invalidSetting(SettingViolation(
                owner: "SegmenterTrainer", name: "maxMemory", value: "\(maxMemory)",
                requirement: "at least \(MemorySize(bytes: minimum)) for these \(d)-value rows and \(hiddenUnits) hidden units"))
        }
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let (h, c) = (hiddenUnits, classes.count)

        // Pass 1: statistics and label counts, a block at a time (in Double, as in memory).
        var sums = [Double](repeating: 0, count: d), squares = [Double](repeating: 0, count: d)
        var counts = [Int](repeating: 0, count: c)
        for index in 0..<source.blockCount {
            let block = try source.block(index)
            let rows = source.rowCount(ofBlock: index)
            try Self.check(block, rows: rows, dimension: d, index: index)
            for label in block.labels {
                guard label >= 0 && Int(label) < c else { throw SegmenterError.labelOutOfRange(label: Int(label), classCount: c) }
                counts[Int(label)] += 1
            }
            block.features.withUnsafeBufferPointer { x in
                sums.withUnsafeMutableBufferPointer { s in
                    squares.withUnsafeMutableBufferPointer { q in
                        Parallel.forEachChunk(of: 0..<d, minimumChunk: 256) { columns in
                            for r in 0..<rows {
                                let row = x.baseAddress! + r * d
                                for j in columns {
                                    let v = Double(row[j])
                                    s[j] += v
                                    q[j] += v * v
                                }
                            }
                        }
                    }
                }
            }
        }
        var mean = [Float](repeating: 0, count: d), std = [Float](repeating: 0, count: d)
        for j in 0..<d {
            let m = sums[j] / Double(n)
            let sd = max(0, squares[j] / Double(n) - m * m).squareRoot()
            mean[j] = Float(m)
            let scale = max(abs(m), (squares[j] / Double(n)).squareRoot())
            std[j] = sd > 1e-6 * scale && sd > 1e-12 ? Float(sd) : 0
        }
        let scale = std.map { $0 > 0 ? 1 / $0 : 0 }

        var rng = SplitMix64(seed: seed)
        var network = Network(inputs: d, hidden: h, classes: c, secondMoments: optimizer == .adam, rng: &rng)
        var classWeight = [Float](repeating: 1, count: c)
        if classBalanced {
            let present = counts.filter { $0 > 0 }.count
            for (label, count) in counts.enumerated() where count > 0 {
                classWeight[label] = Float(Double(n) / Double(present * count))
            }
        }

        let b = min(batchSize, n)
        let bufferRows = budget / rowBytes
        var buffer = [Float](repeating: 0, count: bufferRows * d)
        var bufferLabels = [Int32](repeating: 0, count: bufferRows)
        var workspace = Workspace(batch: b, inputs: d, hidden: h, classes: c)
        var epochLosses: [Double] = []
        var step = 0, rowsDone = 0, batchesPerEpoch = 0

        for epoch in 0..<epochs {
            var blockOrder = Array(0..<source.blockCount)
            Self.shuffle(&blockOrder, using: &rng)
            var position = 0, lossSum = 0.0, batches = 0
            while position < blockOrder.count {
                var filled = 0
                while position < blockOrder.count, filled + source.rowCount(ofBlock: blockOrder[position]) <= bufferRows {
                    let index = blockOrder[position]
                    let block = try source.block(index)
                    try Self.check(block, rows: source.rowCount(ofBlock: index), dimension: d, index: index)
                    buffer.withUnsafeMutableBufferPointer { out in
                        block.features.withUnsafeBufferPointer { x in
                            (out.baseAddress! + filled * d).update(from: x.baseAddress!, count: x.count)
                        }
                    }
                    for (r, label) in block.labels.enumerated() { bufferLabels[filled + r] = label }
                    filled += block.labels.count
                    position += 1
                }
                var order = Array(0..<filled)
                Self.shuffle(&order, using: &rng)
                var lo = 0
                while lo < filled {
                    let hi = min(filled, lo + b)
                    step += 1
                    let loss = buffer.withUnsafeBufferPointer { x in
                        bufferLabels.withUnsafeBufferPointer { labels in
                            order.withUnsafeBufferPointer { order in
                                workspace.gather(rows: UnsafeBufferPointer(rebasing: order[lo..<hi]),
                                                 from: x.baseAddress!, labels: labels, mean: mean, scale: scale)
                            }
                        }
                        return network.trainStep(&workspace, rows: hi - lo, classWeight: classWeight,
                                                 rule: UpdateRule(self, step: step))
                    }
                    guard loss.isFinite else { throw SegmenterError.diverged(epoch: epoch, batch: batches) }
                    lossSum += loss
                    batches += 1
                    rowsDone += hi - lo
                    progress?(Progress(epoch: epoch, batch: batches - 1, batchesPerEpoch: max(batchesPerEpoch, batches),
                                       fraction: Double(rowsDone) / Double(n * epochs),
                                       loss: lossSum / Double(batches), seconds: elapsed()))
                    lo = hi
                }
            }
            batchesPerEpoch = max(batchesPerEpoch, batches)
            epochLosses.append(lossSum / Double(max(1, batches)))
        }

        let parameters = SegmenterParameters(
            inputCount: d, hiddenUnits: h, classCount: c,
            hiddenWeights: network.w1, hiddenBias: network.b1,
            outputWeights: network.w2, outputBias: network.b2,
            inputMean: mean, inputStd: std)
        if let array = parameters.firstNonFiniteArray { throw SegmenterError.nonFiniteWeights(array: array) }
        let segmenter = try Segmenter(classes: classes, parameters: parameters, featureChannels: source.featureChannels)
        let flops = Double(n * epochs) * (4 * Double(d * h) + 6 * Double(h * c))
        return (segmenter, Report(epochLosses: epochLosses, pointCount: n, batchesPerEpoch: batchesPerEpoch,
                                  seconds: elapsed(), flops: flops))
    }

    private static func check(_ block: (features: [Float], labels: [Int32]), rows: Int, dimension: Int,
                              index: Int) throws(SegmenterError) {
        guard block.labels.count == rows, block.features.count == rows * dimension else {
            throw .dimensionMismatch(what: "Block \(index) of the training rows",
                                     got: "\(block.labels.count) labels and \(block.features.count) values",
                                     expected: "\(rows) rows × \(dimension) values")
        }
    }
}
