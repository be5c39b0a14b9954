import CEngineKernels

/// Batch normalisation over the rows of a channels-last batch, with the ReLU and the residual add
/// that follow it in a ResNet fused in (one pass over memory instead of three).
///
/// Training uses the batch's statistics and updates the running ones as PyTorch does (momentum 0.1,
/// unbiased variance for the running estimate, eps 1e-5: torch.nn.BatchNorm2d defaults); eval uses
/// the running statistics.
///
/// With `groupSize` G > 0, training statistics come from fixed groups of G consecutive samples
/// (ghost batch norm, Hoffer et al. 2017), each group normalised by its own, and the running
/// statistics take one update per group in order. A group's output then depends only on its own
/// samples, so data-parallel workers holding whole groups compute what one worker would.
public final class BatchNorm2d: StateHolder {
    public let channels: Int
    public let momentum: Float = 0.1  // torch.nn.BatchNorm2d default
    public let eps: Float = 1e-5  // torch.nn.BatchNorm2d default
    /// ReLU after the (residual-added) normalisation.
    public let relu: Bool
    public var training = true
    /// Samples per statistics group in training; 0 = the whole batch.
    public var groupSize = 0

    public let weight: Parameter, bias: Parameter, runningMean: Parameter, runningVar: Parameter
    public let batchesTracked = Counter()

    private var input: Tensor4?
    private var hadResidual = false
    /// Per group (group g at g * channels): the affine map and the statistics behind it.
    private var scale: [Float], shift: [Float], mean: [Float], invStd: [Float], batchVariance: [Float]
    private var groups = 1
    /// n / (n - 1) for the rows of one group in the last training forward (the running variance is unbiased).
    private var unbias: Float = 1
    private let output = FloatBuffer()
    /// Gradients and weight copies (shared by a model's layers).
    var buffers = TransientBuffers()

    public init(_ channels: Int, relu: Bool) {
        self.channels = channels
        self.relu = relu
        weight = Parameter(shape: [channels], trainable: true, fill: 1)
        bias = Parameter(shape: [channels], trainable: true, fill: 0)
        runningMean = Parameter(shape: [channels], trainable: false, fill: 0)
        runningVar = Parameter(shape: [channels], trainable: false, fill: 1)
        scale = Array(repeating: 0, count: channels)
        shift = scale; mean = scale; invStd = scale; batchVariance = scale
    }

    public func state(prefix: String) -> [(String, StateTensor)] {
        [
            (join(prefix, "weight"), .parameter(weight)), (join(prefix, "bias"), .parameter(bias)),
            (join(prefix, "running_mean"), .parameter(runningMean)), (join(prefix, "running_var"), .parameter(runningVar)),
            (join(prefix, "num_batches_tracked"), .counter(batchesTracked)),
        ]
    }

    /// `y = relu(bn(x) + residual)`; the residual and the ReLU are optional.
    public func forward(_ x: Tensor4, residual: Tensor4? = nil) -> Tensor4 {
        precondition(x.shape.c == channels, "batch norm expects \(channels) channels, got \(x.shape)")
        if let residual { precondition(residual.shape == x.shape, "residual \(residual.shape) vs \(x.shape)") }
        input = x
        hadResidual = residual != nil
        let rows = x.shape.rows, c = channels
        groups = training ? groupCount(x.shape) : 1
        for buffer in [\BatchNorm2d.scale, \.shift, \.mean, \.invStd, \.batchVariance] where self[keyPath: buffer].count != groups * c {
            self[keyPath: buffer] = Array(repeating: 0, count: groups * c)
        }
        if training {
            let groupRows = rows / groups
            unbias = Float(groupRows) / Float(max(groupRows - 1, 1))
            for g in 0..<groups {
                batchStatistics(x, rows: g * groupRows..<(g + 1) * groupRows, at: g * c)
                let groupMean = mean[g * c..<(g + 1) * c], groupVariance = batchVariance[g * c..<(g + 1) * c].map { $0 * unbias }
                updateRunningStatistics(mean: groupMean, unbiasedVariance: groupVariance[...])
            }
        } else {
            for k in 0..<c {
                mean[k] = runningMean.value.pointer[k]
                invStd[k] = 1 / (runningVar.value.pointer[k] + eps).squareRoot()
            }
        }
        for i in 0..<(groups * c) {
            scale[i] = weight.value.pointer[i % c] * invStd[i]
            shift[i] = bias.value.pointer[i % c] - mean[i] * scale[i]
        }
        let y = Tensor4(shape: x.shape, buffer: output)
        let xp = x.pointer, yp = y.pointer, rp = residual?.pointer, relu: Int32 = relu ? 1 : 0, groupRows = rows / groups
        scale.withUnsafeBufferPointer { scales in
            shift.withUnsafeBufferPointer { shifts in
                parallelParts(rows, minPerPart: max(1, 8192 / c)) { _, part in
                    forEachGroup(part, groupRows: groupRows) { rows, group in
                        let o = rows.lowerBound * c
                        comcl_scale_shift(
                            xp + o, rp.map { $0 + o }, yp + o, rows.count, c,
                            scales.baseAddress! + group * c, shifts.baseAddress! + group * c, relu)
                    }
                }
            }
        }
        return y
    }

    /// One group's step of the running statistics, as PyTorch takes it for a batch: momentum 0.1 toward
    /// the batch mean and the unbiased batch variance.
    private func updateRunningStatistics(mean: ArraySlice<Float>, unbiasedVariance: ArraySlice<Float>) {
        let m = momentum
        for (k, (mu, v)) in zip(mean, unbiasedVariance).enumerated() {
            runningMean.value.pointer[k] = (1 - m) * runningMean.value.pointer[k] + m * mu
            runningVar.value.pointer[k] = (1 - m) * runningVar.value.pointer[k] + m * v
        }
        batchesTracked.value += 1
    }

    /// The last training forward's statistics per group (groups x channels, group-major): the
    /// batch means and the unbiased batch variances. A data-parallel coordinator collects them
    /// from every worker and replays them in group order (`replayGroupStatistics`).
    public var groupStatistics: (mean: [Float], variance: [Float]) {
        (Array(mean.prefix(groups * channels)), batchVariance.prefix(groups * channels).map { $0 * unbias })
    }

    /// Applies groups' statistics to the running ones, one group after another, as this layer's
    /// own training forward does: replaying every worker's groups in order gives what one worker
    /// would have.
    public func replayGroupStatistics(mean: [Float], variance: [Float]) {
        precondition(
            mean.count == variance.count && mean.count % channels == 0, "statistics of \(mean.count) values for \(channels) channels")
        for g in 0..<(mean.count / channels) {
            let range = g * channels..<(g + 1) * channels
            updateRunningStatistics(mean: mean[range], unbiasedVariance: variance[range])
        }
    }

    /// Statistics groups in a batch of this shape; the batch must hold whole groups.
    private func groupCount(_ shape: Shape4) -> Int {
        guard groupSize > 0 else { return 1 }
        precondition(shape.n % groupSize == 0, "batch of \(shape.n) samples is not a whole number of batch-norm groups of \(groupSize)")
        return shape.n / groupSize
    }

    /// Per-channel mean and 1/std of some rows, stored from `offset`: two passes (mean, then centred
    /// squares, more accurate than E[x^2] - E[x]^2), each summed in fp32 over blocks of rows and in
    /// Double across blocks and the fixed row parts.
    private func batchStatistics(_ x: Tensor4, rows range: Range<Int>, at offset: Int) {
        let rows = range.count, c = channels, xp = x.pointer + range.lowerBound * c
        let sums = ChannelSums(rows: rows, channels: c)
        sums.accumulate { block, acc, _ in comcl_channel_sum(xp + block.lowerBound * c, block.count, c, acc) }
        for k in 0..<c { mean[offset + k] = Float(sums.total(k, 0) / Double(rows)) }
        let centred = ChannelSums(rows: rows, channels: c)
        mean.withUnsafeBufferPointer { mu in
            centred.accumulate { block, acc, _ in
                comcl_channel_centred_squares(xp + block.lowerBound * c, block.count, c, mu.baseAddress! + offset, acc)
            }
        }
        for k in 0..<c {
            let variance = centred.total(k, 0) / Double(rows)
            batchVariance[offset + k] = Float(variance)
            invStd[offset + k] = Float(1 / (variance + Double(eps)).squareRoot())
        }
    }

    /// Accumulates the weight and bias gradients; returns the input gradient and, when the forward
    /// pass had a residual, the residual's gradient (the output gradient through the ReLU).
    public func backward(_ dy: Tensor4) -> (input: Tensor4, residual: Tensor4?) {
        guard let x = input else { preconditionFailure("BatchNorm2d.backward before forward") }
        let rows = x.shape.rows, c = channels, groupRows = rows / groups, count = Float(groupRows)
        // One pass per group: the gradient through the ReLU (kept: the residual's gradient and
        // pass two need it) and the per-channel sums of g and g * (x - mean).
        let g = relu ? Tensor4(shape: x.shape, buffer: buffers.take(x.shape.count)) : dy
        let gp = g.pointer, dp = dy.pointer, yp = output.pointer, xp = x.pointer, relu: Int32 = relu ? 1 : 0
        // dx = scale * (g - (dBeta + xhat * dGamma) / M), xhat = (x - mean) * invStd, rewritten
        // per group and channel as dx = scale * g - a * x + b.
        var a = [Float](repeating: 0, count: groups * c), b = a
        for group in 0..<groups {
            let first = group * groupRows, at = group * c
            let sums = ChannelSums(rows: groupRows, channels: c, perRow: 2)
            mean.withUnsafeBufferPointer { mu in
                sums.accumulate { block, sumG, sumGX in
                    let o = (first + block.lowerBound) * c
                    comcl_bn_backward_sums(yp + o, dp + o, xp + o, mu.baseAddress! + at, gp + o, block.count, c, relu, sumG, sumGX)
                }
            }
            for k in 0..<c {
                let dBeta = Float(sums.total(k, 0)), dGamma = Float(sums.total(k, 1)) * invStd[at + k]
                bias.grad!.pointer[k] += dBeta
                weight.grad!.pointer[k] += dGamma
                if training {
                    a[at + k] = scale[at + k] * invStd[at + k] * dGamma / count
                    b[at + k] = a[at + k] * mean[at + k] - scale[at + k] * dBeta / count
                }
            }
        }
        let dx = Tensor4(shape: x.shape, buffer: buffers.take(x.shape.count))
        let dxp = dx.pointer
        scale.withUnsafeBufferPointer { scales in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    parallelParts(rows, minPerPart: max(1, 8192 / c)) { _, part in
                        forEachGroup(part, groupRows: groupRows) { rows, group in
                            let o = rows.lowerBound * c, at = group * c
                            comcl_bn_input_gradient(
                                gp + o, xp + o, dxp + o, rows.count, c, scales.baseAddress! + at, a.baseAddress! + at, b.baseAddress! + at)
                        }
                    }
                }
            }
        }
        return (dx, hadResidual ? g : nil)
    }
}

/// Per-channel sums over the rows of a channels-last batch, one or two quantities per element:
/// fp32 accumulators over blocks of 64 rows (fast, vectorised), Double across blocks and across the
/// fixed row parts the threads take, so the result depends only on the thread count.
final class ChannelSums {
    let rows: Int, channels: Int, perRow: Int, parts: Int
    private var totals: [Double]
    static let block = 64

    init(rows: Int, channels: Int, perRow: Int = 1) {
        (self.rows, self.channels, self.perRow) = (rows, channels, perRow)
        parts = max(1, min(EngineThreads.count, rows / Self.block))
        totals = Array(repeating: 0, count: parts * perRow * channels)
    }

    /// `body(rows, first, second)` adds a block's contributions (at most `block` rows) to the fp32
    /// accumulators.
    func accumulate(_ body: (Range<Int>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let (c, perRow, parts, rows) = (channels, perRow, parts, rows)
        totals.withUnsafeMutableBufferPointer { t in
            let t = t.baseAddress!
            parallelFixed(parts) { p in
                let acc = UnsafeMutablePointer<Float>.allocate(capacity: 2 * c)
                defer { acc.deallocate() }
                let range = partRange(p, of: parts, total: rows)
                var start = range.lowerBound
                while start < range.upperBound {
                    acc.initialize(repeating: 0, count: 2 * c)
                    body(start..<min(range.upperBound, start + Self.block), acc, acc + c)
                    let out = t + p * perRow * c
                    for k in 0..<(perRow * c) { out[k] += Double(acc[k]) }
                    start += Self.block
                }
            }
        }
    }

    /// The sum of quantity `which` for channel `k`.
    func total(_ k: Int, _ which: Int) -> Double {
        var s = 0.0
        for p in 0..<parts { s += totals[(p * perRow + which) * channels + k] }
        return s
    }
}

/// Calls `body(rows, group)` for the pieces of a row range that lie in one statistics group each.
@inline(__always)
func forEachGroup(_ rows: Range<Int>, groupRows: Int, _ body: (Range<Int>, Int) -> Void) {
    var start = rows.lowerBound
    while start < rows.upperBound {
        let group = start / groupRows, end = min(rows.upperBound, (group + 1) * groupRows)
        body(start..<end, group)
        start = end
    }
}
