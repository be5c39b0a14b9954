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

    /// Writes the column rows of output pixels `rows` into `cols` (row-major, `columnWidth` wide).
    func im2col(_ x: UnsafePointer<Float>, rows: Range<Int>, into cols: UnsafeMutablePointer<Float>) {
        let c = input.c, width = columnWidth, plane = outH * outW
        for r in rows {
            let n = r / plane, rem = r % plane, oh = rem / outW, ow = rem % outW
            var dst = cols + (r - rows.lowerBound) * width
            let image = x + n * input.h * input.w * c
            for i in 0..<kernel {
                let ih = oh * stride - padding + i
                if ih < 0 || ih >= input.h {
                    dst.update(repeating: 0, count: kernel * c)
                    dst += kernel * c
                    continue
                }
                let line = image + ih * input.w * c
                for j in 0..<kernel {
                    let iw = ow * stride - padding + j
                    if iw < 0 || iw >= input.w {
                        dst.update(repeating: 0, count: c)
                    } else {
                        dst.update(from: line + iw * c, count: c)
                    }
                    dst += c
                }
            }
        }
    }

    /// Adds column rows back onto the input gradient (the adjoint of `im2col`).
    func col2im(_ cols: UnsafePointer<Float>, rows: Range<Int>, into dx: UnsafeMutablePointer<Float>) {
        let c = input.c, width = columnWidth, plane = outH * outW
        for r in rows {
            let n = r / plane, rem = r % plane, oh = rem / outW, ow = rem % outW
            var src = cols + (r - rows.lowerBound) * width
            let image = dx + n * input.h * input.w * c
            for i in 0..<kernel {
                let ih = oh * stride - padding + i
                if ih < 0 || ih >= input.h { src += kernel * c; continue }
                let line = image + ih * input.w * c
                for j in 0..<kernel {
                    let iw = ow * stride - padding + j
                    if iw >= 0 && iw < input.w {
                        let d = line + iw * c
                        for k in 0..<c { d[k] += src[k] }
                    }
                    src += c
                }
            }
        }
    }
}
