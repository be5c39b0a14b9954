/// A tensor of the model's state. Trainable parameters carry a gradient (accumulated by backward,
/// cleared by `zeroGrad`, as in PyTorch); running statistics do not.
public final class Parameter {
    /// The shape PyTorch gives the tensor (what a checkpoint stores).
    public let shape: [Int]
    public let count: Int
    public let value: FloatBuffer
    public let grad: FloatBuffer?
    /// Convolution weights are kept as [out][kh][kw][in] to match channels-last im2col rows;
    /// PyTorch stores [out][in][kh][kw]. Checkpoints convert (see `torchValues`).
    public let isConvWeight: Bool

    init(shape: [Int], trainable: Bool, isConvWeight: Bool = false, fill: Float = 0) {
        self.shape = shape
        count = shape.reduce(1, *)
        value = FloatBuffer(count: count)
        value.pointer.update(repeating: fill, count: count)
        grad = trainable ? FloatBuffer(count: count) : nil
        grad?.zero(count)
        self.isConvWeight = isConvWeight
    }

    public var trainable: Bool { grad != nil }
    public var values: [Float] { Array(UnsafeBufferPointer(start: value.pointer, count: count)) }
    public var gradValues: [Float] { grad.map { Array(UnsafeBufferPointer(start: $0.pointer, count: count)) } ?? [] }

    public func zeroGrad() { grad?.zero(count) }

    /// Values in PyTorch's layout.
    public func torchValues() -> [Float] { isConvWeight ? Self.permute(values, shape, toTorch: true) : values }
    /// Gradient in PyTorch's layout.
    public func torchGrad() -> [Float] { isConvWeight ? Self.permute(gradValues, shape, toTorch: true) : gradValues }

    /// Sets values given in PyTorch's layout.
    public func setTorchValues(_ v: [Float]) {
        precondition(v.count == count)
        let mine = isConvWeight ? Self.permute(v, shape, toTorch: false) : v
        mine.withUnsafeBufferPointer { value.pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// [o][i][h][w] <-> [o][h][w][i] for a torch shape [o, i, h, w].
    static func permute(_ v: [Float], _ shape: [Int], toTorch: Bool) -> [Float] {
        let (o, i, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        var out = [Float](repeating: 0, count: v.count)
        for a in 0..<o {
            for b in 0..<i {
                for y in 0..<kh {
                    for x in 0..<kw {
                        let torch = ((a * i + b) * kh + y) * kw + x
                        let mine = ((a * kh + y) * kw + x) * i + b
                        if toTorch { out[torch] = v[mine] } else { out[mine] = v[torch] }
                    }
                }
            }
        }
        return out
    }
}

/// `num_batches_tracked`: an int64 counter in PyTorch's batch norm state.
public final class Counter {
    public var value: Int64 = 0
}

/// One entry of a model's state dict, named as torchvision names it.
public enum StateTensor {
    case parameter(Parameter)
    case counter(Counter)
}

/// Something with state: lists it in torchvision's order under a name prefix.
public protocol StateHolder {
    func state(prefix: String) -> [(String, StateTensor)]
}

func join(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }
