/// Storage for what lives only briefly: the gradients a backward pass hands from layer to layer,
/// and the weight copies oneDNN's primitives run on. Instead of every layer keeping buffers of its
/// own (three activation-sized buffers per convolution and batch norm, and three weight copies per
/// convolution, which made our peak memory 1.8x PyTorch's at ResNet-50 batch 64), the layers of a
/// model draw from one set: a buffer is free again as soon as nothing holds it
/// (`isKnownUniquelyReferenced`), so the set grows only to the few buffers alive at once.
public final class TransientBuffers {
    private var buffers: [FloatBuffer] = []

    public init() {}

    /// A buffer of at least `count` floats that no live tensor holds; contents undefined.
    func take(_ count: Int) -> FloatBuffer {
        var fit: Int?, largest: Int?
        for i in buffers.indices where isKnownUniquelyReferenced(&buffers[i]) {
            let capacity = buffers[i].capacity
            if capacity >= count, fit.map({ capacity < buffers[$0].capacity }) ?? true { fit = i }
            if largest.map({ capacity > buffers[$0].capacity }) ?? true { largest = i }
        }
        if let fit { return buffers[fit] }
        if let largest {
            buffers[largest].reserve(count)
            return buffers[largest]
        }
        buffers.append(FloatBuffer(count: count))
        return buffers[buffers.count - 1]
    }

    /// Floats held, for tests and benchmarks.
    public var capacity: Int { buffers.reduce(0) { $0 + $1.capacity } }
}
