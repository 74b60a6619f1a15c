import DivSegIO

/// COCO's run-length encoding of binary masks, compressed as pycocotools writes it
/// (`maskApi.c`, `rleToString`): runs over the pixels in column-major order, starting with
/// a run of zeros (possibly empty), each run stored as its difference from the run two
/// before (from the fourth on) in 5-bit groups of a variable-length code, each group + 48 as
/// one ASCII character. `pycocotools.mask.decode({"size": [h, w], "counts": counts})` gives
/// the mask back.
///
/// ```swift
/// let mask = result.mask(label: 25)                      // 1 = giraffe
/// let rle = COCORunLength.encode(mask)                   // size [h, w], counts "…"
/// ```
public enum COCORunLength {
    /// The uncompressed runs of `mask` (non-zero = 1) in column-major order, zeros first.
    public static func runs(_ mask: LabelMap) -> [Int] {
        var runs: [Int] = []
        var current: UInt8 = 0
        var length = 0
        for x in 0..<mask.width {
            for y in 0..<mask.height {
                let bit: UInt8 = mask.labels[y * mask.width + x] != 0 ? 1 : 0
                if bit != current {
                    runs.append(length)
                    length = 0
                    current = bit
                }
                length += 1
            }
        }
        runs.append(length)
        return runs
    }

    /// The compressed counts string of `runs` (pycocotools' `rleToString`).
    public static func compress(_ runs: [Int]) -> String {
        var bytes: [UInt8] = []
        for (i, run) in runs.enumerated() {
            var x = run
            if i > 2 { x -= runs[i - 2] }
            var more = true
            while more {
                var c = x & 0x1f
                x >>= 5            // arithmetic shift: negative differences end at -1
                more = (c & 0x10) != 0 ? x != -1 : x != 0
                if more { c |= 0x20 }
                bytes.append(UInt8(c + 48))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `{"size": [height, width], "counts": compressed}` as COCO results use it.
    public static func encode(_ mask: LabelMap) -> (size: [Int], counts: String) {
        ([mask.height, mask.width], compress(runs(mask)))
    }
}
