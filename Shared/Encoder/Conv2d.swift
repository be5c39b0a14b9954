/// A square-kernel convolution without bias (ResNet's), channels-last, through GEMM on OpenBLAS.
///
/// Output rows are processed in chunks whose column buffer stays cache-sized: one im2col buffer
/// for a whole batch of 128x128 images is hundreds of MB and drops the early layers' GEMM to about
/// half speed (issue 3's measurements). A 1x1 stride-1 convolution needs no im2col at all.
public final class Conv2d: StateHolder {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    /// [out][kh][kw][in]
    public let weight: Parameter

    private var input: Tensor4?
    private let output = FloatBuffer(), gradInput = FloatBuffer(), columns = FloatBuffer()

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        (self.inChannels, self.outChannels, self.kernel, self.stride, self.padding) =
            (inChannels, outChannels, kernel, stride, padding)
        weight = Parameter(shape: [outChannels, inChannels, kernel, kernel], trainable: true, isConvWeight: true)
    }

    public func state(prefix: String) -> [(String, StateTensor)] { [(join(prefix, "weight"), .parameter(weight))] }

    func geometry(_ s: Shape4) -> ConvGeometry {
        precondition(s.c == inChannels, "conv expects \(inChannels) channels, got \(s)")
        return ConvGeometry(input: s, kernel: kernel, stride: stride, padding: padding)
    }

    public func outputShape(_ s: Shape4) -> Shape4 {
        let g = geometry(s)
        return Shape4(n: s.n, h: g.outH, w: g.outW, c: outChannels)
    }

    /// Multiply-accumulates of the forward pass (the backward pass costs twice this).
    public func forwardMACs(_ s: Shape4) -> Double {
        let g = geometry(s)
        return Double(g.outputRows) * Double(outChannels) * Double(g.columnWidth)
    }

    /// Output pixels per GEMM: enough rows for OpenBLAS to split across threads, few enough that
    /// the column buffer (rows x K floats) stays near `ConvTuning.columnBytes`.
    func chunkRows(_ g: ConvGeometry) -> Int {
        let byBytes = ConvTuning.columnBytes / (g.columnWidth * MemoryLayout<Float>.stride)
        return max(ConvTuning.minimumRows, min(g.outputRows, byBytes))
    }

    public func forward(_ x: Tensor4) -> Tensor4 {
        let g = geometry(x.shape)
        input = x
        let y = Tensor4(shape: outputShape(x.shape), buffer: output)
        let k = g.columnWidth, total = g.outputRows
        if g.isPointwise {
            sgemm(transB: true, m: total, n: outChannels, k: k, a: x.pointer, lda: k,
                  b: weight.value.pointer, ldb: k, beta: 0, c: y.pointer, ldc: outChannels)
            return y
        }
        let step = chunkRows(g)
        let cols = columns.reserve(step * k)
        var start = 0
        while start < total {
            let rows = start..<min(total, start + step)
            im2colParallel(g, x.pointer, rows, cols)
            sgemm(transB: true, m: rows.count, n: outChannels, k: k, a: cols, lda: k,
                  b: weight.value.pointer, ldb: k, beta: 0, c: y.pointer + start * outChannels, ldc: outChannels)
            start = rows.upperBound
        }
        return y
    }

    /// Accumulates the weight gradient and returns the input gradient (nil when not needed, as for
    /// the first layer, whose input is the image).
    public func backward(_ dy: Tensor4, needInputGradient: Bool = true) -> Tensor4? {
        guard let x = input else { preconditionFailure("Conv2d.backward before forward") }
        let g = geometry(x.shape)
        let k = g.columnWidth, total = g.outputRows, dW = weight.grad!.pointer
        let dx = needInputGradient ? Tensor4(shape: x.shape, buffer: gradInput) : nil
        if g.isPointwise {
            sgemm(transA: true, m: outChannels, n: k, k: total, a: dy.pointer, lda: outChannels,
                  b: x.pointer, ldb: k, beta: 1, c: dW, ldc: k)
            if let dx {
                sgemm(m: total, n: k, k: outChannels, a: dy.pointer, lda: outChannels,
                      b: weight.value.pointer, ldb: k, beta: 0, c: dx.pointer, ldc: k)
            }
            return dx
        }
        if let dx { dx.buffer.zero(x.shape.count) }
        let step = chunkRows(g)
        let cols = columns.reserve(step * k)
        var start = 0
        while start < total {
            let rows = start..<min(total, start + step)
            let dyChunk = dy.pointer + start * outChannels
            im2colParallel(g, x.pointer, rows, cols)
            sgemm(transA: true, m: outChannels, n: k, k: rows.count, a: dyChunk, lda: outChannels,
                  b: cols, ldb: k, beta: 1, c: dW, ldc: k)
            if let dx {
                sgemm(m: rows.count, n: k, k: outChannels, a: dyChunk, lda: outChannels,
                      b: weight.value.pointer, ldb: k, beta: 0, c: cols, ldc: k)
                col2imParallel(g, cols, rows, dx.pointer)
            }
            start = rows.upperBound
        }
        return dx
    }

    private func im2colParallel(_ g: ConvGeometry, _ x: UnsafeMutablePointer<Float>, _ rows: Range<Int>, _ cols: UnsafeMutablePointer<Float>) {
        let k = g.columnWidth
        parallelParts(rows.count, minPerPart: max(1, 16384 / k)) { _, part in
            let sub = (rows.lowerBound + part.lowerBound)..<(rows.lowerBound + part.upperBound)
            g.im2col(x, rows: sub, into: cols + part.lowerBound * k)
        }
    }

    /// Scatter-adds are split by image, so two threads never add onto the same input pixel.
    private func col2imParallel(_ g: ConvGeometry, _ cols: UnsafePointer<Float>, _ rows: Range<Int>, _ dx: UnsafeMutablePointer<Float>) {
        let plane = g.outH * g.outW, k = g.columnWidth
        let firstImage = rows.lowerBound / plane, lastImage = (rows.upperBound - 1) / plane
        let images = lastImage - firstImage + 1
        parallelParts(images, minPerPart: 1) { _, part in
            let lo = max(rows.lowerBound, (firstImage + part.lowerBound) * plane)
            let hi = min(rows.upperBound, (firstImage + part.upperBound) * plane)
            if lo < hi { g.col2im(cols + (lo - rows.lowerBound) * k, rows: lo..<hi, into: dx) }
        }
    }
}

/// Knobs of the convolution chunking, measured by `comcl bench-encoder` (README, Performance).
public enum ConvTuning {
    /// Target size of one chunk's column buffer.
    nonisolated(unsafe) public static var columnBytes = 4 << 20
    /// At least this many output pixels per GEMM, so deep layers (few pixels per image) still
    /// batch several images and keep both threads busy.
    nonisolated(unsafe) public static var minimumRows = 256
}
