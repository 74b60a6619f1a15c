#if canImport(Glibc)
import CMalloc
#endif

/// Process-wide allocator settings for executables that process many images.
///
/// Every image allocates ~200 MB of short-lived feature maps. glibc serves blocks over
/// 32 MB with fresh `mmap`s and returns them on free, so each image pays ~50 000 page faults
/// and the kernel zeroes every page again (≈ 20 ms of a 0.3 s forward pass). Serving all
/// blocks from the heap and keeping freed memory lets later images reuse the same pages.
///
/// Call once at the start of `main` (a library must not change its host's allocator).
public enum AllocatorTuning {
    /// Serves large blocks from the heap and keeps freed memory for reuse. Returns whether
    /// the settings were accepted (always false on non-glibc systems).
    @discardableResult
    public static func reuseFreedMemory() -> Bool {
        #if canImport(Glibc)
        let noMmap = mallopt(M_MMAP_MAX, 0) == 1
        let noTrim = mallopt(M_TRIM_THRESHOLD, Int32.max) == 1
        return noMmap && noTrim
        #else
        return false
        #endif
    }
}
