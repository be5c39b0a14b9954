/// Geometry of a convolution over channels-last input, and the im2col / col2im copies for a range
/// of output pixels. A column row is the receptive field of one output pixel, ordered (kh, kw, c),
/// which is the order of the weight rows ([out][kh][kw][in]).
struct ConvGeometry {
    let input: Shape4
    let kernel: Int, stride: Int, padding: Int
    let outH: Int, outW: Int

    init(input: Shape4, kernel: Int, stride: Int, padding: Int) {
        self.input = input
        (self.kernel, self.stride, self.padding) = (kernel, stride, padding)
        outH = (input.h + 2 * padding - kernel) / stride + 1
        outW = (input.w + 2 * padding - kernel) / stride + 1
    }

    var columnWidth: Int { kernel * kernel * input.c }
    var outputRows: Int { input.n * outH * outW }
    /// A 1x1, stride-1, unpadded convolution reads its input rows as they are.
    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }

    /// Walks the receptive fields of output pixels `rows`: for each kernel tap, `visit(column,
    /// pixel)` gets the tap's offset in the chunk's column buffer and its input offset, or nil where
    /// the tap falls in the padding. im2col and its adjoint col2im share this walk.
    @inline(__always)
    func walk(rows: Range<Int>, _ visit: (_ column: Int, _ pixel: Int?) -> Void) {
        let c = input.c, width = columnWidth, plane = outH * outW
        for r in rows {
            let n = r / plane, rem = r % plane, oh = rem / outW, ow = rem % outW
            var column = (r - rows.lowerBound) * width
            for i in 0..<kernel {
                let ih = oh * stride - padding + i
                for j in 0..<kernel {
                    let iw = ow * stride - padding + j
                    let inside = ih >= 0 && ih < input.h && iw >= 0 && iw < input.w
                    visit(column, inside ? ((n * input.h + ih) * input.w + iw) * c : nil)
                    column += c
                }
            }
        }
    }

    /// Writes the column rows of output pixels `rows` into `cols` (row-major, `columnWidth` wide).
    func im2col(_ x: UnsafePointer<Float>, rows: Range<Int>, into cols: UnsafeMutablePointer<Float>) {
        let c = input.c
        walk(rows: rows) { column, pixel in
            if let pixel { (cols + column).update(from: x + pixel, count: c) } else { (cols + column).update(repeating: 0, count: c) }
        }
    }

    /// Adds column rows back onto the input gradient (the adjoint of `im2col`).
    func col2im(_ cols: UnsafePointer<Float>, rows: Range<Int>, into dx: UnsafeMutablePointer<Float>) {
        let c = input.c
        walk(rows: rows) { column, pixel in
            guard let pixel else { return }
            let d = dx + pixel, s = cols + column
            for k in 0..<c { d[k] += s[k] }
        }
    }
}
