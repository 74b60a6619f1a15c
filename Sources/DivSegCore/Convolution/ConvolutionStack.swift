import CDivSegDNNL

/// A chain of 3×3 convolutions (ReLU after each, optional 2×2 max pooling before a layer) run
/// by oneDNN, which picks its kernels from the CPU's features at run time — the same speed on
/// a CPU model newer than any table, unlike a BLAS library that matches models. Its results
/// equal ``Conv3x3``'s (direct convolution) up to float rounding.
///
/// ```swift
/// let stack = try ConvolutionStack(layers: vgg.layers, poolBefore: [2, 4, 7, 10])
/// let maps = try stack.forward(input)     // one post-ReLU [C, H, W] map per layer
/// ```
public final class ConvolutionStack: @unchecked Sendable {
    // The C stack is safe to use from several threads at once (its plans are built under a
    // lock, runs share nothing else), which is why the class may be Sendable.
    private let handle: OpaquePointer
    public let inChannels: Int
    /// Output channels per layer.
    public let outChannels: [Int]
    /// Indices of the layers whose input is max-pooled 2×2 first.
    public let poolBefore: Set<Int>

    /// Why a stack could not be built or run.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Builds the stack from layers' kernels and biases (copied).
    public init(layers: [Conv3x3], poolBefore: Set<Int>) throws {
        precondition(!layers.isEmpty, "a convolution stack needs at least one layer")
        let kernels = layers.map(\.kernelOIHW)
        var message = [CChar](repeating: 0, count: 512)
        let made: OpaquePointer? = withPointers(to: kernels) { kernelPointers in
            withPointers(to: layers.map(\.bias)) { biasPointers in
                ds_conv_stack_create(Int32(layers.count), layers.map { Int32($0.inChannels) },
                                     layers.map { Int32($0.outChannels) },
                                     (0..<layers.count).map { poolBefore.contains($0) ? 1 : 0 },
                                     kernelPointers, biasPointers, &message, message.count)
            }
        }
        guard let made else { throw Failure(description: "oneDNN: " + String(cString: message)) }
        handle = made
        inChannels = layers[0].inChannels
        outChannels = layers.map(\.outChannels)
        self.poolBefore = poolBefore
    }

    deinit { ds_conv_stack_destroy(handle) }

    /// The oneDNN implementation chosen for a `height × width` input, e.g. "brgconv:avx512_core".
    public func implementation(height: Int, width: Int) -> String {
        String(cString: ds_conv_stack_implementation(handle, Int32(height), Int32(width)))
    }

    /// Every layer's post-ReLU output for a `[inChannels, H, W]` input, first layer first.
    public func forward(_ input: Tensor) throws -> [Tensor] {
        precondition(input.rank == 3 && input.shape[0] == inChannels,
                     "ConvolutionStack expects [\(inChannels), H, W], got \(input.shape)")
        var (height, width) = (input.shape[1], input.shape[2])
        var message = [CChar](repeating: 0, count: 512)
        let run = input.scalars.withUnsafeBufferPointer {
            ds_conv_run_begin(handle, Int32(height), Int32(width), $0.baseAddress, &message, message.count)
        }
        guard let run else { throw Failure(description: "oneDNN: " + String(cString: message)) }
        defer { ds_conv_run_end(run) }
        var maps: [Tensor] = []
        maps.reserveCapacity(outChannels.count)
        for (index, channels) in outChannels.enumerated() {
            if poolBefore.contains(index) { (height, width) = (height / 2, width / 2) }
            var status: Int32 = 0
            let map = Tensor(shape: [channels, height, width]) { out in
                status = ds_conv_run_next(run, out.baseAddress, &message, message.count)
                if status != 0 { out.initialize(repeating: 0) }
            }
            if status != 0 { throw Failure(description: "oneDNN: " + String(cString: message)) }
            maps.append(map)
        }
        return maps
    }
}

/// Calls `body` with pointers to each array's storage, all valid at once.
private func withPointers<R>(to arrays: [[Float]], _ body: ([UnsafePointer<Float>?]) -> R) -> R {
    // Copies into one block: simpler than nesting 13 closures, and done once per stack.
    let total = arrays.reduce(0) { $0 + $1.count }
    let block = UnsafeMutablePointer<Float>.allocate(capacity: max(total, 1))
    defer { block.deallocate() }
    var pointers: [UnsafePointer<Float>?] = []
    var offset = 0
    for array in arrays {
        array.withUnsafeBufferPointer { (block + offset).initialize(from: $0.baseAddress!, count: $0.count) }
        pointers.append(UnsafePointer(block + offset))
        offset += array.count
    }
    return body(pointers)
}
