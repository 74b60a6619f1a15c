/// On-disk element type of a dataset written by ``HDF5File/writeFloats(_:_:shape:storage:compressed:)``.
///
/// Reading is unaffected: HDF5 converts either to `Float` on the way in.
///
/// ```swift
/// // Sample stores are large and tolerate ~3 significant digits: halve them.
/// try file.writeFloats("features", values, shape: [n, 4224], storage: .float16)
/// ```
public enum HDF5Storage: String, Sendable, CaseIterable {
    /// IEEE binary32 (little endian), exactly the values given.
    case float32
    /// IEEE binary16 (little endian): half the bytes, about 3 significant decimal digits,
    /// largest finite value 65504 (magnitudes from 65520 on become infinity), rounded to
    /// nearest. Stored as the custom HDF5 float type h5py uses, so numpy reads it as
    /// `float16`.
    case float16
}
