import Dispatch

/// Data-parallel loops over an index range, sized for this machine's cores.
///
/// The numerics split work into a few contiguous chunks per core rather than one task per
/// index, so that scheduling overhead stays negligible next to the work.
///
/// ```swift
/// Parallel.forEachChunk(of: 0..<channels) { range in
///     for c in range { /* work on channel c */ }
/// }
/// ```
public enum Parallel {
    /// Cores available to this process.
    public static var coreCount: Int { max(1, ProcessInfoCores.active) }

    /// Calls `body` on disjoint sub-ranges covering `range`, concurrently; returns when all
    /// have finished. Ranges shorter than `minimumChunk` are not split.
    public static func forEachChunk(of range: Range<Int>, minimumChunk: Int = 1,
                                    _ body: (Range<Int>) -> Void) {
        let n = range.count
        guard n > 0 else { return }
        let chunks = min(coreCount * 4, max(1, n / max(1, minimumChunk)))
        if chunks <= 1 || coreCount == 1 {
            body(range)
            return
        }
        // The chunks are disjoint, so sharing the caller's (non-Sendable) closure is safe.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: chunks) { i in
            let lo = range.lowerBound + n * i / chunks
            let hi = range.lowerBound + n * (i + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// ``forEachChunk(of:minimumChunk:_:)`` when `parallel`, else `body` once on the whole
    /// range on this thread: for callers that are already inside a parallel loop (or were
    /// asked for one thread) and must not split again.
    @inline(__always)
    public static func forEachChunk(of range: Range<Int>, parallel: Bool, minimumChunk: Int = 1,
                                    _ body: (Range<Int>) -> Void) {
        if parallel {
            forEachChunk(of: range, minimumChunk: minimumChunk, body)
        } else if !range.isEmpty {
            body(range)
        }
    }
}

/// Reads the number of active processors once; `ProcessInfo` lives in Foundation, which the
/// numerics layer does not otherwise need.
enum ProcessInfoCores {
    static let active: Int = {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 2
        #endif
    }()
}

#if canImport(Glibc)
import Glibc
#endif
