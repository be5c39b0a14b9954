import CDNNL

/// oneDNN's three convolution primitives for one input shape.
///
/// Activations stay channels-last (`nhwc`) in our buffers. Weights are ours in `[out][kh][kw][in]`
/// (`ohwi`; what Adam, the wire and checkpoints see), but every primitive is created with
/// `format_tag::any` for them and runs on a copy in the blocked format it asks for: forcing `ohwi`
/// on the primitives makes oneDNN fall back to its reference kernel (`ref:any`, well under
/// 1 GFLOP/s). The copies (and the weight gradient before it is added to ours) live in transient
/// buffers only while a primitive runs: a reorder costs far less than keeping three weight-sized
/// copies per convolution. Backward-data copies the weights forward saw.
final class ConvolutionPlan {
    private let forward: DNNLPrimitive, backwardWeights: DNNLPrimitive
    private var backwardData: DNNLPrimitive?
    /// Reorders from our layout into a primitive's (nil where it takes ours as it is), and of the
    /// weight gradient into ours, adding (PyTorch's accumulating `.grad`).
    private let toForward: DNNLPrimitive?, gradientToOurs: DNNLPrimitive
    private var toBackwardData: DNNLPrimitive?
    private let source: DNNLMemory, destination: DNNLMemory, weights: DNNLMemory, gradient: DNNLMemory
    private let forwardWeights: DNNLMemory, diffWeights: DNNLMemory
    private var backwardDataWeights: DNNLMemory?
    private let weightsShape: [Int], strides: [Int64], leftPadding: [Int64], rightPadding: [Int64]
    /// Our weights at the last forward, for backward-data.
    private var forwardWeightsPointer: UnsafeMutablePointer<Float>?

    init(input: Shape4, output: Shape4, kernel: Int, stride: Int, padding: Int) {
        weightsShape = [output.c, input.c, kernel, kernel]
        strides = OneDNN.dims([stride, stride])
        leftPadding = OneDNN.dims([padding, padding])
        // PyTorch pads both sides alike; oneDNN wants the right padding that gives the output size.
        rightPadding = OneDNN.dims([
            (output.h - 1) * stride + kernel - input.h - padding,
            (output.w - 1) * stride + kernel - input.w - padding,
        ])
        let ours = OneDNN.descriptor(weightsShape, dnnl_ohwi)
        source = DNNLMemory(OneDNN.descriptor([input.n, input.c, input.h, input.w], dnnl_nhwc))
        destination = DNNLMemory(OneDNN.descriptor([output.n, output.c, output.h, output.w], dnnl_nhwc))
        weights = DNNLMemory(ours)
        gradient = DNNLMemory(ours)

        var (s, w, d) = (source.descriptor, OneDNN.descriptor(weightsShape, dnnl_format_tag_any), destination.descriptor)
        let (st, l, r) = (strides, leftPadding, rightPadding)
        var forwardOp = dnnl_convolution_desc_t()
        OneDNN.check(
            dnnl_convolution_forward_desc_init(
                &forwardOp, dnnl_forward_training, dnnl_convolution_direct,
                &s, &w, nil, &d, st, l, r), "describe a convolution")
        forward = DNNLPrimitive(operation: &forwardOp, "convolution forward")
        var weightsOp = dnnl_convolution_desc_t()
        OneDNN.check(
            dnnl_convolution_backward_weights_desc_init(&weightsOp, dnnl_convolution_direct, &s, &w, nil, &d, st, l, r),
            "describe a weight gradient")
        backwardWeights = DNNLPrimitive(operation: &weightsOp, hint: forward, "convolution backward-weights")

        let forwardFormat = forward.chosen(dnnl_query_weights_md)
        (forwardWeights, toForward) =
            OneDNN.equal(forwardFormat, ours)
            ? (weights, nil) : (DNNLMemory(forwardFormat), DNNLPrimitive.reorder(from: ours, to: forwardFormat))
        let gradientFormat = backwardWeights.chosen(dnnl_query_diff_weights_md)
        diffWeights = DNNLMemory(gradientFormat)
        gradientToOurs = DNNLPrimitive.reorder(from: gradientFormat, to: ours, accumulate: true)
    }

    /// y = conv(x, w).
    func forward(
        x: UnsafeMutablePointer<Float>, weights w: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
        buffers: TransientBuffers
    ) {
        weights.point(at: w)
        forwardWeightsPointer = w
        let copy = stageWeights(toForward, into: forwardWeights, buffers: buffers)
        source.point(at: x)
        destination.point(at: y)
        forward.execute([(DNNL_ARG_SRC, source), (DNNL_ARG_WEIGHTS, forwardWeights), (DNNL_ARG_DST, destination)], buffers: buffers)
        withExtendedLifetime(copy) {}
    }

    /// grad += dL/dw, for the input x of the last forward.
    func accumulateWeightGradient(
        x: UnsafeMutablePointer<Float>, dy: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>,
        buffers: TransientBuffers
    ) {
        let diff = buffers.take(diffWeights.floats)
        diffWeights.point(at: diff.pointer)
        source.point(at: x)
        destination.point(at: dy)
        backwardWeights.execute(
            [(DNNL_ARG_SRC, source), (DNNL_ARG_DIFF_DST, destination), (DNNL_ARG_DIFF_WEIGHTS, diffWeights)], buffers: buffers)
        gradient.point(at: grad)
        gradientToOurs.execute([(DNNL_ARG_FROM, diffWeights), (DNNL_ARG_TO, gradient)], buffers: buffers)
        withExtendedLifetime(diff) {}
    }

    /// dx = dL/dx, through the weights the last forward used.
    func inputGradient(dy: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>, buffers: TransientBuffers) {
        guard let w = forwardWeightsPointer else { preconditionFailure("input gradient before a forward") }
        let primitive = backwardDataPrimitive()
        weights.point(at: w)
        let copy = stageWeights(toBackwardData, into: backwardDataWeights!, buffers: buffers)
        destination.point(at: dy)
        source.point(at: dx)
        primitive.execute(
            [(DNNL_ARG_DIFF_DST, destination), (DNNL_ARG_WEIGHTS, backwardDataWeights!), (DNNL_ARG_DIFF_SRC, source)], buffers: buffers)
        withExtendedLifetime(copy) {}
    }

    /// Our weights (as `weights` points now) reordered into `memory`, on a transient buffer the
    /// caller holds while the primitive runs; nil when the primitive takes our layout as it is.
    private func stageWeights(_ reorder: DNNLPrimitive?, into memory: DNNLMemory, buffers: TransientBuffers) -> FloatBuffer? {
        reorder.map { reorder in
            let copy = buffers.take(memory.floats)
            memory.point(at: copy.pointer)
            reorder.execute([(DNNL_ARG_FROM, weights), (DNNL_ARG_TO, memory)], buffers: buffers)
            return copy
        }
    }

    /// Backward-data is created on first use (the stem never needs it).
    private func backwardDataPrimitive() -> DNNLPrimitive {
        if let backwardData { return backwardData }
        var (s, w, d) = (source.descriptor, OneDNN.descriptor(weightsShape, dnnl_format_tag_any), destination.descriptor)
        var op = dnnl_convolution_desc_t()
        OneDNN.check(
            dnnl_convolution_backward_data_desc_init(&op, dnnl_convolution_direct, &s, &w, &d, strides, leftPadding, rightPadding),
            "describe an input gradient")
        let primitive = DNNLPrimitive(operation: &op, hint: forward, "convolution backward-data")
        let format = primitive.chosen(dnnl_query_weights_md)
        if OneDNN.equal(format, weights.descriptor) {
            backwardDataWeights = weights
        } else {
            backwardDataWeights = DNNLMemory(format)
            toBackwardData = DNNLPrimitive.reorder(from: weights.descriptor, to: format)
        }
        backwardData = primitive
        return primitive
    }

    /// Implementation names of the primitives made so far (`brgconv:avx512_core`, ...), for benchmarks.
    var implementations: [String] {
        [forward.implementation, backwardWeights.implementation] + (backwardData.map { [$0.implementation] } ?? [])
    }
}
