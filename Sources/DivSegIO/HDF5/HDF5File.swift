import CDivSegShims
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open HDF5 file: float datasets and string attributes, which is all that model weights
/// (Keras layout), reference vectors and sample stores need.
///
/// Object paths are relative to the root group ("block1_conv1/block1_conv1/kernel:0"; a
/// leading "/" is allowed). Arrays are row-major (C order), as HDF5 stores them.
///
/// Thread safety: HDF5 as usually built is not thread-safe, so every call into it, from
/// any ``HDF5File`` in the process, is serialised through one lock. Instances can be shared
/// between threads; concurrent reads are safe but do not run in parallel.
///
/// ```swift
/// let weights = try HDF5File.open("vgg16_imagenet_notop.h5")
/// for layer in try weights.stringArrayAttribute("layer_names") {
///     for name in try weights.stringArrayAttribute("weight_names", of: layer) {
///         let (values, shape) = try weights.readFloats(layer + "/" + name)
///         print(name, shape, values.count)
///     }
/// }
/// ```
public final class HDF5File: @unchecked Sendable {
    /// The path the file was opened or created with.
    public let path: String
    /// Whether writes are allowed (files from ``create(_:)``).
    public let isWritable: Bool

    // Guarded by the global HDF5 lock (ds_h5_lock); -1 once closed.
    private var fileID: Int64

    private init(path: String, fileID: Int64, isWritable: Bool) {
        self.path = path
        self.fileID = fileID
        self.isWritable = isWritable
    }

    deinit { close() }

    // MARK: Opening and closing

    /// Opens an existing HDF5 file read-only.
    ///
    /// The HDF5 signature is checked first, so a PNG or an empty file is reported as
    /// ``HDF5Error/notHDF5(path:)`` rather than as an obscure library failure; a truncated
    /// file is ``HDF5Error/corrupt(path:detail:)`` with HDF5's own explanation.
    ///
    /// ```swift
    /// let file = try HDF5File.open("/data/reference.h5")
    /// defer { file.close() }
    /// ```
    public static func open(_ path: String) throws -> HDF5File {
        // HDF5 opens the file itself, so check the path just before: a FIFO would block it,
        // a device would be read without end.
        do throws(FileAccessError) { try RegularFile.checkReadable(path) } catch {
            switch error {
            case .notFound: throw HDF5Error.fileNotFound(path: path)
            case .notRegular(_, let kind): throw HDF5Error.notRegularFile(path: path, kind: kind)
            default: throw HDF5Error.openFailed(path: path, detail: error.reason)
            }
        }
        var err: Int32 = 0
        switch ds_h5_has_signature(path, &err) {
        case 1:
            break
        case 0:
            throw HDF5Error.notHDF5(path: path)
        default:
            if err == ENOENT || err == ENOTDIR { throw HDF5Error.fileNotFound(path: path) }
            throw HDF5Error.openFailed(path: path, detail: systemMessage(err))
        }
        var id: Int64 = -1
        let (status, message) = callShim { ds_h5_open(path, 0, &id, $0, $1) }
        switch status {
        case DS_H5_OK:
            return HDF5File(path: path, fileID: id, isWritable: false)
        case DS_H5_IO:
            throw HDF5Error.openFailed(path: path, detail: message)
        default:
            throw HDF5Error.corrupt(path: path, detail: message)
        }
    }

    /// Creates an HDF5 file for writing, replacing any file at `path`.
    ///
    /// A reader can see the file half-written; to replace a file other code may read, use
    /// ``writeAtomically(to:_:)`` instead.
    ///
    /// ```swift
    /// let out = try HDF5File.create("/tmp/features.h5")
    /// try out.writeFloats("means", means, shape: [4224])
    /// out.close()
    /// ```
    public static func create(_ path: String) throws -> HDF5File {
        // Truncating a device or FIFO in place is never what a caller means.
        do throws(FileAccessError) { try RegularFile.checkOutput(path) } catch {
            throw HDF5Error.writeFailed(path: path, detail: error.reason)
        }
        var id: Int64 = -1
        let (status, message) = callShim { ds_h5_create(path, &id, $0, $1) }
        guard status == DS_H5_OK else { throw HDF5Error.writeFailed(path: path, detail: message) }
        return HDF5File(path: path, fileID: id, isWritable: true)
    }

    /// Writes a whole file so that `path` holds either the old file or the complete new one,
    /// never a partial one, even if the process dies midway.
    ///
    /// `body` fills a temporary file ``RegularFile/temporarySibling(of:)`` in the same directory,
    /// which is then closed, flushed to disk and renamed over `path`. If anything throws,
    /// the temporary file is removed and `path` is untouched (a killed process can leave
    /// the temporary file behind, never a damaged `path`). Inside `body`, errors and
    /// `file.path` name the temporary file.
    ///
    /// ```swift
    /// try HDF5File.writeAtomically(to: bundle + "/weights.h5") { file in
    ///     try file.writeFloats("localizer/w", w, shape: [4224, 1])
    ///     try file.setStringAttribute("format", "divseg-localizer-1")
    /// }
    /// ```
    public static func writeAtomically(to path: String, _ body: (HDF5File) throws -> Void) throws {
        // The rename would replace whatever is at `path`: a device node (`--out /dev/full`)
        // or a directory must be refused, not replaced.
        do throws(FileAccessError) { try RegularFile.checkOutput(path) } catch {
            throw HDF5Error.writeFailed(path: path, detail: error.reason)
        }
        let tmp = RegularFile.temporarySibling(of: path)
        let file: HDF5File
        do {
            file = try create(tmp)
        } catch HDF5Error.writeFailed(_, let detail) {
            throw HDF5Error.writeFailed(path: path, detail: detail)
        }
        do {
            try body(file)
            try file.closeReportingErrors()
            do throws(FileAccessError) {
                try RegularFile.sync(tmp)
                try RegularFile.replace(path, with: tmp)
            } catch {
                throw HDF5Error.writeFailed(path: path, detail: error.reason)
            }
        } catch {
            file.close()
            unlink(tmp)
            throw error
        }
    }

    /// Closes the file. Safe to call more than once; later calls on this instance throw
    /// ``HDF5Error/closed(path:)``. Dropping the last reference closes it too.
    public func close() {
        try? closeReportingErrors()
    }

    // Reports a failed final flush, which matters when the file was written.
    private func closeReportingErrors() throws {
        ds_h5_lock()
        defer { ds_h5_unlock() }
        guard fileID >= 0 else { return }
        let id = fileID
        fileID = -1
        let (status, message) = Self.callShim { ds_h5_close(id, $0, $1) }
        if status != DS_H5_OK { throw HDF5Error.writeFailed(path: path, detail: message) }
    }

    // MARK: Structure

    /// Whether a group or dataset exists at `objectPath` ("/" always does). Never throws:
    /// a closed file contains nothing.
    ///
    /// ```swift
    /// if file.contains("block1_conv1/block1_conv1/kernel:0") { ... }
    /// ```
    public func contains(_ objectPath: String) -> Bool {
        ds_h5_lock()
        defer { ds_h5_unlock() }
        guard fileID >= 0 else { return false }
        return ds_h5_exists(fileID, objectPath) == 1
    }

    /// The names of the links (groups, datasets) directly in `group`, sorted by name.
    ///
    /// ```swift
    /// try file.childNames()                 // ["block1_conv1", "block1_conv2", ...]
    /// try file.childNames(of: "block1_conv1/block1_conv1")   // ["bias:0", "kernel:0"]
    /// ```
    public func childNames(of group: String = "/") throws -> [String] {
        try withOpenFile { id in
            var buffer: UnsafeMutablePointer<CChar>?
            var bytes = 0, count = 0
            let (status, message) = Self.callShim {
                ds_h5_child_names(id, group, &buffer, &bytes, &count, $0, $1)
            }
            try check(status, message, object: group, writing: false)
            return Self.unpackStrings(buffer, count: count)
        }
    }

    /// The shape of a dataset ([] for a scalar), without reading its data.
    ///
    /// ```swift
    /// try file.shape(of: "hypercolumn_samples")   // [8, 4224]
    /// ```
    public func shape(of dataset: String) throws -> [Int] {
        try withOpenFile { id in try datasetShape(id, dataset) }
    }

    // MARK: Datasets

    /// Reads a numeric dataset (any integer or float type), converted to `Float` by HDF5,
    /// in row-major order as stored.
    ///
    /// Throws ``HDF5Error/missingObject(path:object:)`` if there is no such dataset and
    /// ``HDF5Error/wrongType(path:object:detail:)`` for groups or non-numeric data.
    ///
    /// ```swift
    /// let (kernel, shape) = try file.readFloats("block1_conv1/block1_conv1/kernel:0")
    /// // shape == [3, 3, 3, 64]; kernel[((y * 3 + x) * 3 + c) * 64 + k]
    /// ```
    public func readFloats(_ dataset: String) throws -> (values: [Float], shape: [Int]) {
        try withOpenFile { id in
            let shape = try datasetShape(id, dataset)
            let count = try elementCount(shape, of: dataset)
            var status = DS_H5_OK
            var message = ""
            let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                (status, message) = Self.callShim {
                    ds_h5_read_floats(id, dataset, buffer.baseAddress, UInt64(count), $0, $1)
                }
                initialized = status == DS_H5_OK ? count : 0
            }
            try check(status, message, object: dataset, writing: false)
            return (values, shape)
        }
    }

    /// Writes `values` (row-major) as dataset `dataset` of the given shape, creating missing
    /// intermediate groups and replacing an existing dataset of that name.
    ///
    /// - Parameters:
    ///   - shape: dimensions whose product is `values.count`; `[]` writes a scalar.
    ///   - storage: `.float16` halves the file at about 3 significant digits.
    ///   - compressed: chunked, byte-shuffled and gzip-compressed; worth it for data with
    ///     many repeated or zero values, little gain on trained weights.
    ///
    /// ```swift
    /// try file.writeFloats("samples/person/features", features, shape: [n, 4224],
    ///                      storage: .float16, compressed: true)
    /// ```
    public func writeFloats(_ dataset: String, _ values: [Float], shape: [Int],
                            storage: HDF5Storage = .float32, compressed: Bool = false) throws {
        guard shape.count <= Int(DS_H5_MAX_RANK) else {
            throw HDF5Error.shapeMismatch(path: path, object: dataset,
                                          detail: "rank \(shape.count) exceeds HDF5's limit of \(DS_H5_MAX_RANK)")
        }
        var product = 1
        for d in shape {
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow else {
                throw HDF5Error.shapeMismatch(path: path, object: dataset,
                                              detail: "shape \(shape) is not a valid array shape")
            }
            product = p
        }
        guard product == values.count else {
            throw HDF5Error.shapeMismatch(path: path, object: dataset,
                                          detail: "shape \(shape) holds \(product) values but \(values.count) were given")
        }
        try withWritableFile { id in
            let dims = shape.map { UInt64($0) }
            let store = storage == .float16 ? DS_H5_STORE_F16 : DS_H5_STORE_F32
            let (status, message) = values.withUnsafeBufferPointer { v in
                dims.withUnsafeBufferPointer { d in
                    Self.callShim {
                        ds_h5_write_floats(id, dataset, v.baseAddress, Int32(dims.count), d.baseAddress,
                                           store, compressed ? 1 : 0, $0, $1)
                    }
                }
            }
            try check(status, message, object: dataset, writing: true)
        }
    }

    /// Reads a dataset of strings (fixed- or variable-length, flattened in row-major order).
    ///
    /// ```swift
    /// let imageIDs = try store.readStrings("samples/person/image_ids")
    /// ```
    public func readStrings(_ dataset: String) throws -> [String] {
        try withOpenFile { id in
            var buffer: UnsafeMutablePointer<CChar>?
            var bytes = 0, count = 0
            let (status, message) = Self.callShim {
                ds_h5_read_string_dataset(id, dataset, &buffer, &bytes, &count, $0, $1)
            }
            try check(status, message, object: dataset, writing: false)
            return Self.unpackStrings(buffer, count: count)
        }
    }

    /// Writes a 1-D dataset of variable-length UTF-8 strings, creating intermediate groups
    /// and replacing an existing dataset of that name.
    ///
    /// ```swift
    /// try store.writeStrings("samples/person/image_ids", ["000000000025", "000000000061"])
    /// ```
    public func writeStrings(_ dataset: String, _ values: [String]) throws {
        try withWritableFile { id in
            let (status, message) = try withCStrings(values) { pointers, count in
                Self.callShim { ds_h5_write_string_dataset(id, dataset, pointers, count, $0, $1) }
            }
            try check(status, message, object: dataset, writing: true)
        }
    }

    // MARK: Attributes

    /// Whether `object` exists and carries attribute `name`. Never throws: a closed file
    /// has no attributes.
    ///
    /// ```swift
    /// let format = file.hasAttribute("format") ? try file.stringAttribute("format") : "legacy"
    /// ```
    public func hasAttribute(_ name: String, of object: String = "/") -> Bool {
        ds_h5_lock()
        defer { ds_h5_unlock() }
        guard fileID >= 0 else { return false }
        return ds_h5_has_attribute(fileID, object, name) == 1
    }

    /// Reads a string attribute as an array: fixed-length strings (as Keras stores
    /// `layer_names`, null padded) and variable-length strings alike. A scalar string
    /// attribute gives a one-element array.
    ///
    /// ```swift
    /// try weights.stringArrayAttribute("layer_names")            // ["input_1", "block1_conv1", ...]
    /// try weights.stringArrayAttribute("weight_names", of: "block1_conv1")
    /// // ["block1_conv1/kernel:0", "block1_conv1/bias:0"]
    /// ```
    public func stringArrayAttribute(_ name: String, of object: String = "/") throws -> [String] {
        try withOpenFile { id in
            var buffer: UnsafeMutablePointer<CChar>?
            var bytes = 0, count = 0
            let (status, message) = Self.callShim {
                ds_h5_read_string_attribute(id, object, name, &buffer, &bytes, &count, $0, $1)
            }
            try checkAttribute(status, message, id: id, object: object, name: name, writing: false)
            return Self.unpackStrings(buffer, count: count)
        }
    }

    /// Writes a 1-D attribute of variable-length UTF-8 strings (replacing one of that name).
    /// Strings are cut at an embedded NUL, which HDF5 strings cannot hold.
    ///
    /// ```swift
    /// try file.setStringArrayAttribute("classes", ["background", "person"], of: "localizer")
    /// ```
    public func setStringArrayAttribute(_ name: String, _ values: [String], of object: String = "/") throws {
        try setStrings(name, values, scalar: false, of: object)
    }

    /// Reads a scalar string attribute (a one-element array is accepted too).
    ///
    /// ```swift
    /// try weights.stringAttribute("keras_version")   // "2.1.5"
    /// ```
    public func stringAttribute(_ name: String, of object: String = "/") throws -> String {
        let values = try stringArrayAttribute(name, of: object)
        guard values.count == 1 else {
            throw HDF5Error.wrongType(path: path, object: object,
                                      detail: "attribute '\(name)' holds \(values.count) strings, not one")
        }
        return values[0]
    }

    /// Writes a scalar variable-length UTF-8 string attribute (replacing one of that name).
    ///
    /// ```swift
    /// try file.setStringAttribute("format", "divseg-samples-1")
    /// ```
    public func setStringAttribute(_ name: String, _ value: String, of object: String = "/") throws {
        try setStrings(name, [value], scalar: true, of: object)
    }

    /// Reads a numeric attribute holding one value (scalar or one-element array) as `Float`.
    ///
    /// ```swift
    /// let threshold = try file.floatAttribute("threshold", of: "localizer")
    /// ```
    public func floatAttribute(_ name: String, of object: String = "/") throws -> Float {
        try withOpenFile { id in
            var buffer: UnsafeMutablePointer<Float>?
            var count = 0
            let (status, message) = Self.callShim {
                ds_h5_read_float_attribute(id, object, name, &buffer, &count, $0, $1)
            }
            defer { ds_h5_free(buffer) }
            try checkAttribute(status, message, id: id, object: object, name: name, writing: false)
            guard count == 1, let buffer else {
                throw HDF5Error.wrongType(path: path, object: object,
                                          detail: "attribute '\(name)' holds \(count) numbers, not one")
            }
            return buffer[0]
        }
    }

    /// Writes a scalar float32 attribute (replacing one of that name).
    ///
    /// ```swift
    /// try file.setFloatAttribute("threshold", 0.35, of: "localizer")
    /// ```
    public func setFloatAttribute(_ name: String, _ value: Float, of object: String = "/") throws {
        try withWritableFile { id in
            var v = value
            let (status, message) = Self.callShim {
                ds_h5_write_float_attribute(id, object, name, &v, 1, 1, $0, $1)
            }
            try checkAttribute(status, message, id: id, object: object, name: name, writing: true)
        }
    }

    // MARK: - Internals

    private func setStrings(_ name: String, _ values: [String], scalar: Bool, of object: String) throws {
        try withWritableFile { id in
            let (status, message) = try withCStrings(values) { pointers, count in
                Self.callShim {
                    ds_h5_write_string_attribute(id, object, name, pointers, count, scalar ? 1 : 0, $0, $1)
                }
            }
            try checkAttribute(status, message, id: id, object: object, name: name, writing: true)
        }
    }

    // The C side needs all strings alive at once, which nested withCString calls cannot give
    // for an array; strdup'd copies can.
    private func withCStrings<T>(_ values: [String],
                                 _ body: (UnsafePointer<UnsafePointer<CChar>?>?, Int) throws -> T) throws -> T {
        let copies = values.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        guard !copies.contains(where: { $0 == nil }) else {
            throw HDF5Error.writeFailed(path: path, detail: "out of memory copying \(values.count) strings")
        }
        let pointers = copies.map { UnsafePointer<CChar>($0) }
        return try pointers.withUnsafeBufferPointer { try body($0.baseAddress, $0.count) }
    }

    private func datasetShape(_ id: Int64, _ dataset: String) throws -> [Int] {
        var rank: Int32 = 0
        var dims = [UInt64](repeating: 0, count: Int(DS_H5_MAX_RANK))
        var cls = DS_H5_CLASS_OTHER
        let (status, message) = dims.withUnsafeMutableBufferPointer { d in
            Self.callShim { ds_h5_dataset_info(id, dataset, &rank, d.baseAddress, &cls, $0, $1) }
        }
        try check(status, message, object: dataset, writing: false)
        return try dims.prefix(Int(rank)).map { d in
            guard let size = Int(exactly: d) else {
                throw HDF5Error.corrupt(path: path, detail: "'\(dataset)' claims a dimension of \(d)")
            }
            return size
        }
    }

    // A damaged header can claim absurd sizes; refuse before allocating rather than trap.
    private func elementCount(_ shape: [Int], of dataset: String) throws -> Int {
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw HDF5Error.corrupt(path: path, detail: "'\(dataset)' claims the impossible shape \(shape)")
            }
            count = product
        }
        let memory = ProcessInfo.processInfo.physicalMemory
        if UInt64(count) > memory / UInt64(MemoryLayout<Float>.size) {
            throw HDF5Error.shapeMismatch(
                path: path, object: dataset,
                detail: "shape \(shape) holds \(count) values, more than fit in this machine's "
                    + "\(memory >> 20) MiB of memory")
        }
        return count
    }

    // Holds the global lock for the whole body: the id cannot be closed by another thread
    // in between, and multi-step operations (shape, then data) see one consistent file.
    private func withOpenFile<T>(_ body: (Int64) throws -> T) throws -> T {
        ds_h5_lock()
        defer { ds_h5_unlock() }
        guard fileID >= 0 else { throw HDF5Error.closed(path: path) }
        return try body(fileID)
    }

    private func withWritableFile<T>(_ body: (Int64) throws -> T) throws -> T {
        guard isWritable else { throw HDF5Error.readOnly(path: path) }
        return try withOpenFile(body)
    }

    private func check(_ status: ds_h5_status, _ message: String, object: String, writing: Bool) throws {
        switch status {
        case DS_H5_OK:
            return
        case DS_H5_MISSING:
            throw HDF5Error.missingObject(path: path, object: object)
        case DS_H5_WRONG_TYPE:
            throw HDF5Error.wrongType(path: path, object: object, detail: message)
        case DS_H5_SHAPE:
            throw HDF5Error.shapeMismatch(path: path, object: object, detail: message)
        case DS_H5_IO:
            throw HDF5Error.openFailed(path: path, detail: message)
        default:
            // A failed read of an opened file means its contents cannot be decoded.
            throw writing ? HDF5Error.writeFailed(path: path, detail: message)
                          : HDF5Error.corrupt(path: path, detail: message)
        }
    }

    private func checkAttribute(_ status: ds_h5_status, _ message: String, id: Int64,
                                object: String, name: String, writing: Bool) throws {
        if status == DS_H5_MISSING && ds_h5_exists(id, object) == 1 {
            throw HDF5Error.missingAttribute(path: path, object: object, attribute: name)
        }
        try check(status, message, object: object, writing: writing)
    }

    private static let messageCapacity = 2048

    // Gives a C call a message buffer and returns its status with the message.
    private static func callShim(_ call: (UnsafeMutablePointer<CChar>, Int) -> ds_h5_status)
        -> (ds_h5_status, String)
    {
        var buffer = [CChar](repeating: 0, count: messageCapacity)
        let status = buffer.withUnsafeMutableBufferPointer { call($0.baseAddress!, $0.count) }
        let message = buffer.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: UInt8.self) { u in
                String(decoding: u.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        return (status, message)
    }

    // Takes ownership of a buffer of `count` NUL-terminated strings from the C side.
    private static func unpackStrings(_ buffer: UnsafeMutablePointer<CChar>?, count: Int) -> [String] {
        defer { ds_h5_free(buffer) }
        guard let buffer else { return [] }
        var result: [String] = []
        result.reserveCapacity(count)
        var offset = 0
        buffer.withMemoryRebound(to: UInt8.self, capacity: 1) { bytes in
            for _ in 0..<count {
                let length = strlen(buffer + offset)
                // Decoding (not validating) keeps a Latin-1 attribute readable instead of failing.
                result.append(String(decoding: UnsafeBufferPointer(start: bytes + offset, count: length),
                                     as: UTF8.self))
                offset += length + 1
            }
        }
        return result
    }
}

private func systemMessage(_ code: Int32) -> String {
    RegularFile.systemMessage(code)
}
