import CDivSegBLAS

/// Thin, typed entry points to the BLAS routines the numerics use (OpenBLAS underneath,
/// loaded on first use with a kernel chosen from the CPU's features: see ``BLASRuntime``).
///
/// All matrices are row-major. OpenBLAS runs its own thread pool for large products, so
/// callers do not wrap GEMMs in `Parallel`; its results then depend on its thread count in
/// the last bits. Products that must not (the segmenter's inference) use
/// ``gemmFixedBlocks(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
///
/// ```swift
/// var c = [Float](repeating: 0, count: 4)
/// BLAS.gemm(m: 2, n: 2, k: 2, a: [1, 2, 3, 4], lda: 2, b: [1, 0, 0, 1], ldb: 2, c: &c, ldc: 2)
/// // c == [1, 2, 3, 4]
/// ```
public enum BLAS {
    /// C = alpha · op(A) · op(B) + beta · C, with op(X) = X or Xᵀ.
    ///
    /// - Parameters: `m`, `n`, `k`: op(A) is m×k, op(B) is k×n, C is m×n; `lda`, `ldb`,
    ///   `ldc` are the row strides of the matrices as stored.
    @inlinable
    public static func gemm(transposeA: Bool = false, transposeB: Bool = false,
                            m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0,
                            c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        ds_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha,
                 a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Columns of C per block of ``gemmFixedBlocks(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
    public static let fixedBlockColumns = 256

    /// ``gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` whose result does not
    /// depend on how many threads run it: bit-identical with 1, 2 or 64 threads, so that
    /// shards on machines of any size predict exactly what one process predicts.
    ///
    /// OpenBLAS rounds differently with its thread count (0.3.21 here: with 2 threads instead
    /// of 1, ~3 % of the elements of a 512 × 5376 × 16 product differ in the last bits — the
    /// threaded driver hands its kernels other sub-blocks, summed in another order). This runs
    /// the product as blocks of ``fixedBlockColumns`` columns of C, a partition that depends
    /// only on `n`; each block is one single-threaded OpenBLAS call, and the blocks are spread
    /// over this process's threads (``Parallel``). Speed is about that of a threaded GEMM for
    /// the segmenter's products (docs/BENCHMARKS.md). OpenBLAS's thread count is one setting
    /// for the whole process, so it is set to 1 for the call inside a region that other
    /// threads' products wait for (see ``withThreadCount(_:_:)``): they never run with it.
    ///
    /// ```swift
    /// BLAS.gemmFixedBlocks(m: 512, n: 5376, k: 1152, a: w, lda: 4736, b: x, ldb: 5376, c: z, ldc: 5376)
    /// ```
    public static func gemmFixedBlocks(transposeA: Bool = false, transposeB: Bool = false,
                                       m: Int, n: Int, k: Int, alpha: Float = 1,
                                       a: UnsafePointer<Float>, lda: Int,
                                       b: UnsafePointer<Float>, ldb: Int,
                                       beta: Float = 0,
                                       c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        let width = fixedBlockColumns
        let blocks = (n + width - 1) / width
        withThreadCount(1) {
            Parallel.forEachChunk(of: 0..<blocks) { range in
                for block in range {
                    let first = block * width, columns = min(width, n - first)
                    // Column j of op(B) is column j of B, or row j of B when transposed.
                    let bBlock = transposeB ? b + first * ldb : b + first
                    // Worker threads of this region: the region's owner holds the thread count.
                    ds_sgemm_in_region(transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(columns), Int32(k),
                                       alpha, a, Int32(lda), bBlock, Int32(ldb), beta, c + first, Int32(ldc))
                }
            }
        }
    }

    /// Runs `body` with OpenBLAS using `threads` threads per product on this thread, then
    /// restores the count. The count is one setting for the whole process: while `body`
    /// runs, products on other threads wait (they never see the changed count), so `body`
    /// must not wait for other threads that run BLAS products (``Parallel`` loops of plain
    /// ``gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` would deadlock).
    /// Calls nest (up to 8 deep).
    ///
    /// ```swift
    /// let one = BLAS.withThreadCount(1) { BLAS.matmul(a, b) }
    /// ```
    public static func withThreadCount<Result>(_ threads: Int, _ body: () throws -> Result) rethrows -> Result {
        let entered = ds_blas_begin_threads(Int32(max(1, threads)))
        precondition(entered == 1, "BLAS.withThreadCount nested more than 8 deep")
        defer { ds_blas_end_threads() }
        return try body()
    }

    /// y = alpha · op(A) · x + beta · y for a row-major `rows × columns` matrix A, with
    /// op(A) = A or Aᵀ. A dedicated GEMV: OpenBLAS runs a one-column GEMM ~3× slower.
    @inlinable
    public static func gemv(transpose: Bool = false, rows: Int, columns: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
                            beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        guard rows > 0, columns > 0 else { return }
        ds_sgemv(transpose ? 1 : 0, Int32(rows), Int32(columns), alpha, a, Int32(lda), x, beta, y)
    }

    /// Matrix product of two row-major 2-D tensors: `[m, k] · [k, n] → [m, n]`.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false,
                              transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs 2-D tensors, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == kb, "matmul inner dimensions differ: \(a.shape) · \(b.shape)")
        return Tensor(shape: [m, n]) { out in
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    if k == 0 { out.initialize(repeating: 0); return }
                    gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                         a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                         c: out.baseAddress!, ldc: n)
                }
            }
        }
    }

    /// Number of threads OpenBLAS uses for one product.
    public static var threadCount: Int {
        get { Int(ds_blas_thread_count()) }
    }

    /// Sets the number of threads OpenBLAS uses (process-wide setting of the library).
    public static func setThreadCount(_ n: Int) { ds_blas_set_thread_count(Int32(max(1, n))) }
}
