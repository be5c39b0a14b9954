/// A fully connected layer, `y = x W^T + b`, with PyTorch's weight layout [out, in] and its default
/// initialisation (torch.nn.Linear: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias).
public final class Linear: StateHolder {
    public let inFeatures: Int, outFeatures: Int
    public let weight: Parameter, bias: Parameter
    private var input: Matrix?
    private let output = FloatBuffer(), gradInput = FloatBuffer()

    public init(_ inFeatures: Int, _ outFeatures: Int) {
        (self.inFeatures, self.outFeatures) = (inFeatures, outFeatures)
        weight = Parameter(shape: [outFeatures, inFeatures], trainable: true)
        bias = Parameter(shape: [outFeatures], trainable: true)
    }

    public func state(prefix: String) -> [(String, StateTensor)] {
        [(join(prefix, "weight"), .parameter(weight)), (join(prefix, "bias"), .parameter(bias))]
    }

    public func forward(_ x: Matrix) -> Matrix {
        precondition(x.cols == inFeatures, "linear expects \(inFeatures) features, got \(x.cols)")
        input = x
        let y = Matrix(rows: x.rows, cols: outFeatures, buffer: output)
        for r in 0..<x.rows { (y.pointer + r * outFeatures).update(from: bias.value.pointer, count: outFeatures) }
        sgemm(
            transB: true, m: x.rows, n: outFeatures, k: inFeatures, a: x.pointer, lda: inFeatures,
            b: weight.value.pointer, ldb: inFeatures, beta: 1, c: y.pointer, ldc: outFeatures)
        return y
    }

    public func backward(_ dy: Matrix) -> Matrix {
        guard let x = input else { preconditionFailure("Linear.backward before forward") }
        sgemm(
            transA: true, m: outFeatures, n: inFeatures, k: x.rows, a: dy.pointer, lda: outFeatures,
            b: x.pointer, ldb: inFeatures, beta: 1, c: weight.grad!.pointer, ldc: inFeatures)
        let db = bias.grad!.pointer
        for r in 0..<x.rows { for k in 0..<outFeatures { db[k] += dy.pointer[r * outFeatures + k] } }
        let dx = Matrix(rows: x.rows, cols: inFeatures, buffer: gradInput)
        sgemm(
            m: x.rows, n: inFeatures, k: outFeatures, a: dy.pointer, lda: outFeatures,
            b: weight.value.pointer, ldb: inFeatures, beta: 0, c: dx.pointer, ldc: inFeatures)
        return dx
    }
}

/// ReLU on a matrix (the projection head's hidden layer).
public final class ReLU {
    private let output = FloatBuffer(), gradInput = FloatBuffer()
    private var rows = 0, cols = 0
    public init() {}

    public func forward(_ x: Matrix) -> Matrix {
        (rows, cols) = (x.rows, x.cols)
        let y = Matrix(rows: x.rows, cols: x.cols, buffer: output)
        for i in 0..<x.count { y.pointer[i] = max(x.pointer[i], 0) }
        return y
    }

    public func backward(_ dy: Matrix) -> Matrix {
        let dx = Matrix(rows: rows, cols: cols, buffer: gradInput)
        for i in 0..<dx.count { dx.pointer[i] = output.pointer[i] > 0 ? dy.pointer[i] : 0 }
        return dx
    }
}

/// Row-wise L2 normalisation, `z = v / max(|v|, 1e-12)` (torch.nn.functional.normalize).
public final class L2Normalize {
    private let output = FloatBuffer(), gradInput = FloatBuffer()
    private var norms: [Float] = []
    private var rows = 0, cols = 0
    public init() {}

    public func forward(_ x: Matrix) -> Matrix {
        (rows, cols) = (x.rows, x.cols)
        norms = Array(repeating: 0, count: rows)
        let y = Matrix(rows: rows, cols: cols, buffer: output)
        for r in 0..<rows {
            let v = x.pointer + r * cols
            var s = 0.0
            for k in 0..<cols { s += Double(v[k]) * Double(v[k]) }
            norms[r] = max(Float(s.squareRoot()), 1e-12)  // F.normalize's eps
            for k in 0..<cols { y.pointer[r * cols + k] = v[k] / norms[r] }
        }
        return y
    }

    /// dv = (dz - z (z . dz)) / |v|
    public func backward(_ dz: Matrix) -> Matrix {
        let dx = Matrix(rows: rows, cols: cols, buffer: gradInput)
        for r in 0..<rows {
            let z = output.pointer + r * cols, d = dz.pointer + r * cols
            var dot = 0.0
            for k in 0..<cols { dot += Double(z[k]) * Double(d[k]) }
            for k in 0..<cols { dx.pointer[r * cols + k] = (d[k] - z[k] * Float(dot)) / norms[r] }
        }
        return dx
    }
}
