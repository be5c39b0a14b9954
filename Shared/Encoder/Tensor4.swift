/// The shape of a batch of feature maps, channels-last (NHWC): a 1x1 convolution is then one GEMM
/// over the rows `n*h*w` with no copy at all (docs/architecture.md section 5).
public struct Shape4: Equatable, Sendable, CustomStringConvertible {
    public var n: Int, h: Int, w: Int, c: Int
    public init(n: Int, h: Int, w: Int, c: Int) { (self.n, self.h, self.w, self.c) = (n, h, w, c) }
    /// Pixels over the batch: the row count of the GEMM view.
    public var rows: Int { n * h * w }
    public var count: Int { rows * c }
    public var description: String { "[\(n), \(h), \(w), \(c)]" }
}

/// A batch of feature maps: a shape over a buffer. A forward pass returns views of buffers its
/// layers own and reuse, valid until the layer that made them runs again; backward's gradients
/// live in the model's TransientBuffers, held as long as a tensor refers to them.
public struct Tensor4 {
    public var shape: Shape4
    public let buffer: FloatBuffer
    public init(shape: Shape4, buffer: FloatBuffer) {
        self.shape = shape
        self.buffer = buffer
        buffer.reserve(shape.count)
    }
    public init(shape: Shape4) { self.init(shape: shape, buffer: FloatBuffer(count: shape.count)) }
    public var pointer: UnsafeMutablePointer<Float> { buffer.pointer }

    /// Copies NHWC values in.
    public init(shape: Shape4, values: [Float]) {
        precondition(values.count == shape.count, "\(values.count) values for shape \(shape)")
        self.init(shape: shape)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: shape.count) }
    }

    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: shape.count)) }

    /// Copies values in PyTorch's (and the wire's) NCHW order into this NHWC tensor.
    public func setChannelsFirst(_ source: UnsafeBufferPointer<Float>) {
        precondition(source.count == shape.count, "\(source.count) values for shape \(shape)")
        let image = shape.h * shape.w * shape.c
        for i in 0..<shape.n { setChannelsFirst(sample: i, UnsafeBufferPointer(rebasing: source[(i * image)..<((i + 1) * image)])) }
    }

    /// One sample from a [C, H, W] buffer (a view as it travels), into its channels-last slot.
    public func setChannelsFirst(sample i: Int, _ source: UnsafeBufferPointer<Float>) {
        let (h, w, c) = (shape.h, shape.w, shape.c)
        precondition(source.count == h * w * c && i < shape.n, "\(source.count) values for sample \(i) of \(shape)")
        let out = pointer + i * h * w * c
        for k in 0..<c {
            for y in 0..<h {
                for x in 0..<w { out[(y * w + x) * c + k] = source[(k * h + y) * w + x] }
            }
        }
    }
}

/// A row-major matrix over a buffer (features, embeddings, logits).
public struct Matrix {
    public var rows: Int, cols: Int
    public let buffer: FloatBuffer
    public init(rows: Int, cols: Int, buffer: FloatBuffer) {
        (self.rows, self.cols, self.buffer) = (rows, cols, buffer)
        buffer.reserve(rows * cols)
    }
    public init(rows: Int, cols: Int) { self.init(rows: rows, cols: cols, buffer: FloatBuffer(count: rows * cols)) }
    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "\(values.count) values for \(rows)x\(cols)")
        self.init(rows: rows, cols: cols)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }
    public var pointer: UnsafeMutablePointer<Float> { buffer.pointer }
    public var count: Int { rows * cols }
    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
