/// Batch normalisation over the rows of a channels-last batch, with the ReLU and the residual add
/// that follow it in a ResNet fused in (one pass over memory instead of three).
///
/// Training uses the batch's statistics and updates the running ones as PyTorch does (momentum 0.1,
/// unbiased variance for the running estimate, eps 1e-5: torch.nn.BatchNorm2d defaults); eval uses
/// the running statistics.
public final class BatchNorm2d: StateHolder {
    public let channels: Int
    public let momentum: Float = 0.1  // torch.nn.BatchNorm2d default
    public let eps: Float = 1e-5  // torch.nn.BatchNorm2d default
    /// ReLU after the (residual-added) normalisation.
    public let relu: Bool
    public var training = true

    public let weight: Parameter, bias: Parameter, runningMean: Parameter, runningVar: Parameter
    public let batchesTracked = Counter()

    private var input: Tensor4?
    private var hadResidual = false
    private var scale: [Float], shift: [Float], mean: [Float], invStd: [Float], batchVariance: [Float]
    private let output = FloatBuffer(), gradInput = FloatBuffer(), gradOutputMasked = FloatBuffer()

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
        if training {
            batchStatistics(x)
            let m = momentum, unbias = Float(rows) / Float(max(rows - 1, 1))
            for k in 0..<c {
                runningMean.value.pointer[k] = (1 - m) * runningMean.value.pointer[k] + m * mean[k]
                runningVar.value.pointer[k] = (1 - m) * runningVar.value.pointer[k] + m * batchVariance[k] * unbias
            }
            batchesTracked.value += 1
        } else {
            for k in 0..<c {
                mean[k] = runningMean.value.pointer[k]
                invStd[k] = 1 / (runningVar.value.pointer[k] + eps).squareRoot()
            }
        }
        for k in 0..<c {
            scale[k] = weight.value.pointer[k] * invStd[k]
            shift[k] = bias.value.pointer[k] - mean[k] * scale[k]
        }
        let y = Tensor4(shape: x.shape, buffer: output)
        let xp = x.pointer, yp = y.pointer, rp = residual?.pointer, relu = relu
        scale.withUnsafeBufferPointer { sc in shift.withUnsafeBufferPointer { sh in
            let sc = sc.baseAddress!, sh = sh.baseAddress!
            parallelParts(rows, minPerPart: max(1, 8192 / c)) { _, part in
                for r in part {
                    let o = r * c
                    for k in 0..<c {
                        var v = xp[o + k] * sc[k] + sh[k]
                        if let rp { v += rp[o + k] }
                        yp[o + k] = relu ? max(v, 0) : v
                    }
                }
            }
        } }
        return y
    }

    /// Per-channel mean and 1/std of the batch, summed in Double over fixed row parts.
    private func batchStatistics(_ x: Tensor4) {
        let rows = x.shape.rows, c = channels, xp = x.pointer
        let parts = max(1, min(EngineThreads.count, rows / 64))
        var sums = [Double](repeating: 0, count: parts * c), squares = sums
        // Pass 1: means. Pass 2: centred squares (more accurate than E[x^2] - E[x]^2).
        sums.withUnsafeMutableBufferPointer { s in
            let s = s.baseAddress!
            parallelFixed(parts) { p in
                let acc = s + p * c
                for r in partRange(p, of: parts, total: rows) {
                    let row = xp + r * c
                    for k in 0..<c { acc[k] += Double(row[k]) }
                }
            }
        }
        for k in 0..<c {
            var total = 0.0
            for p in 0..<parts { total += sums[p * c + k] }
            mean[k] = Float(total / Double(rows))
        }
        let means = mean.map(Double.init)
        squares.withUnsafeMutableBufferPointer { s in means.withUnsafeBufferPointer { mu in
            let s = s.baseAddress!, mu = mu.baseAddress!
            parallelFixed(parts) { p in
                let acc = s + p * c
                for r in partRange(p, of: parts, total: rows) {
                    let row = xp + r * c
                    for k in 0..<c { let d = Double(row[k]) - mu[k]; acc[k] += d * d }
                }
            }
        } }
        for k in 0..<c {
            var total = 0.0
            for p in 0..<parts { total += squares[p * c + k] }
            batchVariance[k] = Float(total / Double(rows))
            invStd[k] = Float(1 / (total / Double(rows) + Double(eps)).squareRoot())
        }
    }

    /// Accumulates the weight and bias gradients; returns the input gradient and, when the forward
    /// pass had a residual, the residual's gradient (the output gradient through the ReLU).
    public func backward(_ dy: Tensor4) -> (input: Tensor4, residual: Tensor4?) {
        guard let x = input else { preconditionFailure("BatchNorm2d.backward before forward") }
        let rows = x.shape.rows, c = channels
        // Through the ReLU: zero where the output was clamped.
        var g = dy
        if relu {
            g = Tensor4(shape: x.shape, buffer: gradOutputMasked)
            let gp = g.pointer, dp = dy.pointer, yp = output.pointer
            parallelParts(x.shape.count, minPerPart: 16384) { _, part in
                for i in part { gp[i] = yp[i] > 0 ? dp[i] : 0 }
            }
        }
        // Per-channel sums of g and g * xhat.
        let parts = max(1, min(EngineThreads.count, rows / 64))
        var sumG = [Double](repeating: 0, count: parts * c), sumGX = sumG
        let xp = x.pointer, gp = g.pointer
        mean.withUnsafeBufferPointer { mu in invStd.withUnsafeBufferPointer { inv in
            sumG.withUnsafeMutableBufferPointer { sg in sumGX.withUnsafeMutableBufferPointer { sgx in
                let mu = mu.baseAddress!, inv = inv.baseAddress!, sg = sg.baseAddress!, sgx = sgx.baseAddress!
                parallelFixed(parts) { p in
                    let a = sg + p * c, b = sgx + p * c
                    for r in partRange(p, of: parts, total: rows) {
                        let o = r * c
                        for k in 0..<c {
                            let gv = gp[o + k]
                            a[k] += Double(gv)
                            b[k] += Double(gv * (xp[o + k] - mu[k]) * inv[k])
                        }
                    }
                }
            } }
        } }
        var dBeta = [Float](repeating: 0, count: c), dGamma = dBeta
        for k in 0..<c {
            var a = 0.0, b = 0.0
            for p in 0..<parts { a += sumG[p * c + k]; b += sumGX[p * c + k] }
            dBeta[k] = Float(a); dGamma[k] = Float(b)
            bias.grad!.pointer[k] += dBeta[k]
            weight.grad!.pointer[k] += dGamma[k]
        }
        let dx = Tensor4(shape: x.shape, buffer: gradInput)
        let dxp = dx.pointer, inverseRows = 1 / Float(rows), training = training
        scale.withUnsafeBufferPointer { sc in mean.withUnsafeBufferPointer { mu in invStd.withUnsafeBufferPointer { inv in
            dBeta.withUnsafeBufferPointer { db in dGamma.withUnsafeBufferPointer { dg in
                let sc = sc.baseAddress!, mu = mu.baseAddress!, inv = inv.baseAddress!, db = db.baseAddress!, dg = dg.baseAddress!
                parallelParts(rows, minPerPart: max(1, 8192 / c)) { _, part in
                    for r in part {
                        let o = r * c
                        for k in 0..<c {
                            if training {
                                let xhat = (xp[o + k] - mu[k]) * inv[k]
                                dxp[o + k] = sc[k] * (gp[o + k] - (db[k] + xhat * dg[k]) * inverseRows)
                            } else {
                                dxp[o + k] = sc[k] * gp[o + k]
                            }
                        }
                    }
                }
            } }
        } } }
        return (dx, hadResidual ? g : nil)
    }
}
