import CEngineKernels

/// 3x3 max pooling, stride 2, padding 1 (the ResNet stem's). Ties go to the first maximum in
/// window order, as PyTorch's CPU kernel does (strict `>`), so gradients route identically.
public final class MaxPool2d {
    public let kernel = 3, stride = 2, padding = 1  // torchvision ResNet stem
    private var inputShape: Shape4?
    private var argmax: [Int32] = []
    private let output = FloatBuffer()
    /// Gradients and weight copies (shared by a model's layers).
    var buffers = TransientBuffers()

    public init() {}

    public func outputShape(_ s: Shape4) -> Shape4 {
        Shape4(n: s.n, h: (s.h + 2 * padding - kernel) / stride + 1, w: (s.w + 2 * padding - kernel) / stride + 1, c: s.c)
    }

    public func forward(_ x: Tensor4) -> Tensor4 {
        let s = x.shape, o = outputShape(s)
        inputShape = s
        let y = Tensor4(shape: o, buffer: output)
        if argmax.count < o.count { argmax = Array(repeating: 0, count: o.count) }
        let xp = x.pointer, yp = y.pointer, c = s.c
        argmax.withUnsafeMutableBufferPointer { am in
            let am = am.baseAddress!
            parallelParts(o.rows, minPerPart: 64) { _, part in
                for r in part {
                    let n = r / (o.h * o.w), oh = (r / o.w) % o.h, ow = r % o.w
                    let best = yp + r * c, at = am + r * c
                    var first = true
                    for i in 0..<kernel {
                        let ih = oh * stride - padding + i
                        guard ih >= 0 && ih < s.h else { continue }
                        for j in 0..<kernel {
                            let iw = ow * stride - padding + j
                            guard iw >= 0 && iw < s.w else { continue }
                            let base = ((n * s.h + ih) * s.w + iw) * c, v = xp + base
                            if first {
                                for k in 0..<c { best[k] = v[k]; at[k] = Int32(base + k) }
                                first = false
                            } else {
                                comcl_max_tap(v, best, at, Int32(base), c)
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor4) -> Tensor4 {
        guard let s = inputShape else { preconditionFailure("MaxPool2d.backward before forward") }
        let dx = Tensor4(shape: s, buffer: buffers.take(s.count))
        dx.buffer.zero(s.count)
        let dxp = dx.pointer, dyp = dy.pointer
        // Windows overlap within an image, never across images: split the scatter by image.
        let perImage = dy.shape.count / s.n
        argmax.withUnsafeBufferPointer { am in
            parallelParts(s.n, minPerPart: 1) { _, images in
                for i in (images.lowerBound * perImage)..<(images.upperBound * perImage) {
                    dxp[Int(am[i])] += dyp[i]
                }
            }
        }
        return dx
    }
}

/// Global average pooling: [n, h, w, c] -> [n, c].
public final class GlobalAvgPool {
    private var inputShape: Shape4?
    private let output = FloatBuffer()
    /// Gradients and weight copies (shared by a model's layers).
    var buffers = TransientBuffers()
    public init() {}

    public func forward(_ x: Tensor4) -> Matrix {
        let s = x.shape
        inputShape = s
        let y = Matrix(rows: s.n, cols: s.c, buffer: output)
        let plane = s.h * s.w, inv = 1 / Float(plane), xp = x.pointer, yp = y.pointer
        for n in 0..<s.n {
            var acc = [Double](repeating: 0, count: s.c)
            for p in 0..<plane {
                let row = xp + (n * plane + p) * s.c
                for k in 0..<s.c { acc[k] += Double(row[k]) }
            }
            for k in 0..<s.c { yp[n * s.c + k] = Float(acc[k]) * inv }
        }
        return y
    }

    public func backward(_ dy: Matrix) -> Tensor4 {
        guard let s = inputShape else { preconditionFailure("GlobalAvgPool.backward before forward") }
        let dx = Tensor4(shape: s, buffer: buffers.take(s.count))
        let plane = s.h * s.w, inv = 1 / Float(plane), dxp = dx.pointer, dyp = dy.pointer
        for n in 0..<s.n {
            for p in 0..<plane {
                let row = dxp + (n * plane + p) * s.c
                for k in 0..<s.c { row[k] = dyp[n * s.c + k] * inv }
            }
        }
        return dx
    }
}
