/// A dense float32 array with a shape, stored row-major (the last index varies fastest).
///
/// Feature maps use channel-major layout `[channels, height, width]`, the layout the
/// hypercolumn files use too. `Tensor` is a value type: copies share storage until written.
///
/// ```swift
/// var t = Tensor(zeros: [2, 3, 4])
/// t[1, 2, 3] = 5
/// let flat = t.reshaped([2, 12])
/// ```
public struct Tensor: Sendable, Equatable {
    /// Extent of each dimension.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    public var scalars: [Float]

    /// Wraps `scalars` with `shape`; the counts must agree.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) elements, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor whose elements are produced by `body`, which receives uninitialised storage
    /// of `shape.reduce(1, *)` floats and must write every element. Avoids a zero fill in hot
    /// paths.
    public init(shape: [Int], unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.scalars = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try body(buffer)
            initialized = count
        }
    }

    /// Number of elements.
    public var count: Int { scalars.count }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The same elements viewed with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Row-major offset of a multi-index.
    @inlinable
    public func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) does not match rank \(shape.count)")
        var offset = 0
        for (i, extent) in zip(index, shape) {
            precondition(i >= 0 && i < extent, "index \(index) out of bounds for shape \(shape)")
            offset = offset * extent + i
        }
        return offset
    }

    /// Element access by multi-index (checked; for tests and tooling, not hot loops).
    public subscript(_ index: Int...) -> Float {
        get { scalars[offset(index)] }
        set { scalars[offset(index)] = newValue }
    }

    /// The `[height, width]` plane of channel `c` of a `[channels, height, width]` tensor.
    public func channel(_ c: Int) -> ArraySlice<Float> {
        precondition(rank == 3, "channel(_:) needs a [C, H, W] tensor, got shape \(shape)")
        let plane = shape[1] * shape[2]
        return scalars[(c * plane)..<((c + 1) * plane)]
    }
}
