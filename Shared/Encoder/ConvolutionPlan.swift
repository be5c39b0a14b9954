import CDNNL

/// oneDNN's three convolution primitives for one input shape, with the weight copies they need.
///
/// Activations stay channels-last (`nhwc`) in our buffers. Weights are ours in `[out][kh][kw][in]`
/// (`ohwi`; what Adam, the wire and checkpoints see), but every primitive is created with
/// `format_tag::any` for them and gets a copy in the blocked format it asks for: forcing `ohwi`
/// on the primitives makes oneDNN fall back to its reference kernel (`ref:any`, well under
/// 1 GFLOP/s). The forward copy is made at each training forward; backward-data reuses it when it
/// asks for the same format (it usually does not: it wants the transposed blocking), otherwise
/// makes its own from the same values, so backward always uses the weights forward saw.
final class ConvolutionPlan {
    let input: Shape4, output: Shape4
    private let forward: DNNLPrimitive, backwardWeights: DNNLPrimitive
    private var backwardData: DNNLPrimitive?
    private let weightsToForward: DNNLPrimitive?, gradientToOurs: DNNLPrimitive
    private var weightsToBackwardData: DNNLPrimitive?
    private let source: DNNLMemory, destination: DNNLMemory, weights: DNNLMemory, gradient: DNNLMemory
    private let forwardWeights: DNNLMemory, diffWeights: DNNLMemory
    private var backwardDataWeights: DNNLMemory?
    private let weightsShape: [Int], strides: [Int64], leftPadding: [Int64], rightPadding: [Int64]
    /// Our weights at the last forward, for the backward-data copy.
    private var forwardWeightsPointer: UnsafeMutablePointer<Float>?

    init(input: Shape4, output: Shape4, kernel: Int, stride: Int, padding: Int) {
        (self.input, self.output) = (input, output)
        weightsShape = [output.c, input.c, kernel, kernel]
        strides = OneDNN.dims([stride, stride])
        leftPadding = OneDNN.dims([padding, padding])
        // PyTorch pads both sides alike; oneDNN wants the right padding that gives the output size.
        rightPadding = OneDNN.dims([(output.h - 1) * stride + kernel - input.h - padding,
                                    (output.w - 1) * stride + kernel - input.w - padding])
        let ours = OneDNN.descriptor(weightsShape, dnnl_ohwi)
        source = DNNLMemory(OneDNN.descriptor([input.n, input.c, input.h, input.w], dnnl_nhwc), ownStorage: false)
        destination = DNNLMemory(OneDNN.descriptor([output.n, output.c, output.h, output.w], dnnl_nhwc), ownStorage: false)
        weights = DNNLMemory(ours, ownStorage: false)
        gradient = DNNLMemory(ours, ownStorage: false)

        var (s, w, d) = (source.descriptor, OneDNN.descriptor(weightsShape, dnnl_format_tag_any), destination.descriptor)
        let (st, l, r) = (strides, leftPadding, rightPadding)
        var forwardOp = dnnl_convolution_desc_t()
        OneDNN.check(dnnl_convolution_forward_desc_init(&forwardOp, dnnl_forward_training, dnnl_convolution_direct,
                                                        &s, &w, nil, &d, st, l, r), "describe a convolution")
        forward = DNNLPrimitive(operation: &forwardOp, "convolution forward")
        var weightsOp = dnnl_convolution_desc_t()
        OneDNN.check(dnnl_convolution_backward_weights_desc_init(&weightsOp, dnnl_convolution_direct, &s, &w, nil, &d, st, l, r),
                     "describe a weight gradient")
        backwardWeights = DNNLPrimitive(operation: &weightsOp, hint: forward, "convolution backward-weights")

        let forwardFormat = forward.chosen(dnnl_query_weights_md)
        if OneDNN.equal(forwardFormat, ours) {
            (forwardWeights, weightsToForward) = (weights, nil)
        } else {
            forwardWeights = DNNLMemory(forwardFormat, ownStorage: true)
            weightsToForward = DNNLPrimitive.reorder(from: ours, to: forwardFormat)
        }
        // The weight gradient accumulates into ours (PyTorch's convention) through the reorder's sum.
        let gradientFormat = backwardWeights.chosen(dnnl_query_diff_weights_md)
        diffWeights = DNNLMemory(gradientFormat, ownStorage: true)
        gradientToOurs = DNNLPrimitive.reorder(from: gradientFormat, to: ours, accumulate: true)
    }

    /// y = conv(x, w).
    func forward(x: UnsafeMutablePointer<Float>, weights w: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>) {
        weights.point(at: w)
        forwardWeightsPointer = w
        weightsToForward?.execute([(DNNL_ARG_FROM, weights), (DNNL_ARG_TO, forwardWeights)])
        source.point(at: x)
        destination.point(at: y)
        forward.execute([(DNNL_ARG_SRC, source), (DNNL_ARG_WEIGHTS, forwardWeights), (DNNL_ARG_DST, destination)])
    }

    /// grad += dL/dw, for the input x of the last forward.
    func accumulateWeightGradient(x: UnsafeMutablePointer<Float>, dy: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>) {
        source.point(at: x)
        destination.point(at: dy)
        backwardWeights.execute([(DNNL_ARG_SRC, source), (DNNL_ARG_DIFF_DST, destination), (DNNL_ARG_DIFF_WEIGHTS, diffWeights)])
        gradient.point(at: grad)
        gradientToOurs.execute([(DNNL_ARG_FROM, diffWeights), (DNNL_ARG_TO, gradient)])
    }

    /// dx = dL/dx, through the weights the last forward used.
    func inputGradient(dy: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let (primitive, memory) = backwardDataPrimitive()
        destination.point(at: dy)
        source.point(at: dx)
        primitive.execute([(DNNL_ARG_DIFF_DST, destination), (DNNL_ARG_WEIGHTS, memory), (DNNL_ARG_DIFF_SRC, source)])
    }

    /// Backward-data is created on first use (the stem never needs it), with the weights copy it
    /// asks for, refreshed from the forward's weights at each use.
    private func backwardDataPrimitive() -> (DNNLPrimitive, DNNLMemory) {
        if backwardData == nil {
            var (s, w, d) = (source.descriptor, OneDNN.descriptor(weightsShape, dnnl_format_tag_any), destination.descriptor)
            let (st, l, r) = (strides, leftPadding, rightPadding)
            var op = dnnl_convolution_desc_t()
            OneDNN.check(dnnl_convolution_backward_data_desc_init(&op, dnnl_convolution_direct, &s, &w, &d, st, l, r),
                         "describe an input gradient")
            let primitive = DNNLPrimitive(operation: &op, hint: forward, "convolution backward-data")
            let format = primitive.chosen(dnnl_query_weights_md)
            if OneDNN.equal(format, forwardWeights.descriptor) {
                backwardDataWeights = forwardWeights
            } else {
                backwardDataWeights = DNNLMemory(format, ownStorage: true)
                weightsToBackwardData = DNNLPrimitive.reorder(from: weights.descriptor, to: format)
            }
            backwardData = primitive
        }
        if let weightsToBackwardData, let w = forwardWeightsPointer {
            weights.point(at: w)
            weightsToBackwardData.execute([(DNNL_ARG_FROM, weights), (DNNL_ARG_TO, backwardDataWeights!)])
        }
        return (backwardData!, backwardDataWeights!)
    }

    /// Implementation names of the primitives made so far (`brgconv:avx512_core`, ...), for benchmarks.
    var implementations: [String] {
        [forward.implementation, backwardWeights.implementation] + (backwardData.map { [$0.implementation] } ?? [])
    }
}
