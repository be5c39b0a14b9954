/// A square-kernel convolution without bias (ResNet's), channels-last, on oneDNN's primitives
/// (ConvolutionPlan), created once per input shape and kept.
public final class Conv2d: StateHolder {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    /// [out][kh][kw][in] (oneDNN's `ohwi`): the layout Adam, the wire and our checkpoint code see.
    public let weight: Parameter

    private var input: Tensor4?
    private let output = FloatBuffer()
    /// Gradients and weight copies (shared by a model's layers).
    var buffers = TransientBuffers()
    /// Plans by input shape, most recently used last. A model sees few shapes (a training batch,
    /// an evaluation batch, a smaller last batch); beyond `maximumPlans` the least recently used
    /// goes, so odd sizes cannot pile up (each plan holds JIT-compiled kernels).
    private var plans: [(Shape4, ConvolutionPlan)] = []
    static let maximumPlans = 4

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        (self.inChannels, self.outChannels, self.kernel, self.stride, self.padding) =
            (inChannels, outChannels, kernel, stride, padding)
        weight = Parameter(shape: [outChannels, inChannels, kernel, kernel], trainable: true, isConvWeight: true)
    }

    public func state(prefix: String) -> [(String, StateTensor)] { [(join(prefix, "weight"), .parameter(weight))] }

    public func outputShape(_ s: Shape4) -> Shape4 {
        precondition(s.c == inChannels, "conv expects \(inChannels) channels, got \(s)")
        return Shape4(n: s.n, h: (s.h + 2 * padding - kernel) / stride + 1, w: (s.w + 2 * padding - kernel) / stride + 1, c: outChannels)
    }

    /// Multiply-accumulates of the forward pass (each of the two backward passes costs as much).
    public func forwardMACs(_ s: Shape4) -> Double {
        let o = outputShape(s)
        return Double(o.rows) * Double(outChannels) * Double(kernel * kernel * inChannels)
    }

    func plan(_ s: Shape4) -> ConvolutionPlan {
        if let at = plans.firstIndex(where: { $0.0 == s }) {
            let found = plans.remove(at: at)
            plans.append(found)
            return found.1
        }
        let made = ConvolutionPlan(input: s, output: outputShape(s), kernel: kernel, stride: stride, padding: padding)
        if plans.count == Self.maximumPlans { plans.removeFirst() }
        plans.append((s, made))
        return made
    }

    public func forward(_ x: Tensor4) -> Tensor4 {
        input = x
        let y = Tensor4(shape: outputShape(x.shape), buffer: output)
        plan(x.shape).forward(x: x.pointer, weights: weight.value.pointer, y: y.pointer, buffers: buffers)
        return y
    }

    /// Accumulates the weight gradient and returns the input gradient (nil when not needed, as for
    /// the first layer, whose input is the image).
    public func backward(_ dy: Tensor4, needInputGradient: Bool = true) -> Tensor4? {
        guard let x = input else { preconditionFailure("Conv2d.backward before forward") }
        let plan = plan(x.shape)
        plan.accumulateWeightGradient(x: x.pointer, dy: dy.pointer, grad: weight.grad!.pointer, buffers: buffers)
        guard needInputGradient else { return nil }
        let dx = Tensor4(shape: x.shape, buffer: buffers.take(x.shape.count))
        plan.inputGradient(dy: dy.pointer, dx: dx.pointer, buffers: buffers)
        return dx
    }

    /// oneDNN's implementation of each primitive for an input shape (benchmarks; `ref:any` would
    /// mean a reference kernel, well under 1 GFLOP/s).
    public func implementations(_ s: Shape4) -> [String] { plan(s).implementations }
}
