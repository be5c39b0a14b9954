/// torchvision's adjust_hue (RGB -> HSV, shift the hue, HSV -> RGB) on 16 pixels at a time.
/// Every lane does the scalar formulas' float operations in their order, and the branches become
/// selects, so the values are the ones a pixel-by-pixel loop gives; the floors are comparisons
/// because the values they floor lie in known small ranges (below), which spares a libm call a
/// lane on the x86-64 baseline. Measured: the augmenter spent a fifth of its time here, pixel by
/// pixel (perf, prior-work recipe, 128-px patches).
enum HueRotation {
    typealias Lanes = SIMD16<Float>

    static func apply(_ image: inout FloatImage, shift: Float) {
        // Outside [-1, 1] (beyond torchvision's range) the shift is taken modulo one turn, which
        // keeps hue + shift inside remainder1's range.
        let shift = abs(shift) <= 1 ? shift : shift - shift.rounded(.down)
        let count = image.pixelCount, width = Lanes.scalarCount
        image.pixels.withUnsafeMutableBufferPointer { pixels in
            // Planar scratch: lanes filled element by element would go through the stack.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * width) { planes in
                let raw = UnsafeMutableRawPointer(planes.baseAddress!)
                let stride = width * MemoryLayout<Float>.stride
                var start = 0
                while start < count {
                    // The last block may be short: its missing lanes compute on zeros and are not stored.
                    let lanes = min(width, count - start)
                    if lanes < width { planes.initialize(repeating: 0) }
                    for k in 0..<lanes {
                        let p = 3 * (start + k)
                        (planes[k], planes[width + k], planes[2 * width + k]) = (pixels[p], pixels[p + 1], pixels[p + 2])
                    }
                    var (h, s, v) = rgbToHSV(
                        raw.loadUnaligned(as: Lanes.self), raw.loadUnaligned(fromByteOffset: stride, as: Lanes.self),
                        raw.loadUnaligned(fromByteOffset: 2 * stride, as: Lanes.self))
                    h = remainder1(h + shift)
                    let (r, g, b) = hsvToRGB(h, s, v)
                    raw.storeBytes(of: r, as: Lanes.self)
                    raw.storeBytes(of: g, toByteOffset: stride, as: Lanes.self)
                    raw.storeBytes(of: b, toByteOffset: 2 * stride, as: Lanes.self)
                    for k in 0..<lanes {
                        let p = 3 * (start + k)
                        (pixels[p], pixels[p + 1], pixels[p + 2]) = (planes[k], planes[width + k], planes[2 * width + k])
                    }
                    start += lanes
                }
            }
        }
    }

    /// Swift's min and max (`y < x ? y : x`, `y >= x ? y : x`) lane by lane, signed zeros included.
    @inline(__always) static func minimum(_ x: Lanes, _ y: Lanes) -> Lanes { x.replacing(with: y, where: y .< x) }
    @inline(__always) static func maximum(_ x: Lanes, _ y: Lanes) -> Lanes { x.replacing(with: y, where: y .>= x) }
    @inline(__always) static func clamp01(_ x: Lanes) -> Lanes { minimum(Lanes(repeating: 1), maximum(Lanes(repeating: 0), x)) }

    /// Python's `x % 1.0` (torch.remainder) for x in [-1, 2): x minus its floor, which is -1, 0 or
    /// 1 there, and 0 for a result that rounds up to 1. Both callers stay in that range: a hue in
    /// [0, 1) plus a shift in [-1, 1], and h / 6 + 1 with h in [-1, 5].
    @inline(__always) static func remainder1(_ x: Lanes) -> Lanes {
        let floor = Lanes(repeating: 0).replacing(with: -1, where: x .< 0).replacing(with: 1, where: x .>= 1)
        let r = x - floor
        return r.replacing(with: 0, where: r .>= 1)
    }

    @inline(__always) static func rgbToHSV(_ r: Lanes, _ g: Lanes, _ b: Lanes) -> (Lanes, Lanes, Lanes) {
        let maxc = maximum(maximum(r, g), b), minc = minimum(minimum(r, g), b)
        let equal = maxc .== minc
        let cr = maxc - minc
        let one = Lanes(repeating: 1)
        let s = cr / maxc.replacing(with: one, where: equal)
        let divisor = cr.replacing(with: one, where: equal)
        let rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor
        // Which channel holds the maximum, red first, then green, as the scalar if-chain asks.
        let fromBlue = 4 + gc - rc
        let h = fromBlue.replacing(with: 2 + rc - bc, where: maxc .== g).replacing(with: bc - gc, where: maxc .== r)
        // torch.fmod(h / 6 + 1, 1): h / 6 + 1 is positive, so fmod and the floor remainder agree.
        return (remainder1(h / 6 + 1), s, maxc)
    }

    /// The sector is the floor of h * 6 with h in [0, 1): the count of 1...6 it reaches (a hue
    /// just below 1 can round to 6, which the scalar switch takes as sector 0 with f = 0).
    @inline(__always) static func hsvToRGB(_ h: Lanes, _ s: Lanes, _ v: Lanes) -> (Lanes, Lanes, Lanes) {
        let scaled = h * 6
        var sector = Lanes(repeating: 0)
        for edge in 1...6 { sector = sector.replacing(with: Float(edge), where: scaled .>= Float(edge)) }
        let f = scaled - sector
        let p = clamp01(v * (1 - s)), q = clamp01(v * (1 - s * f)), t = clamp01(v * (1 - s * (1 - f)))
        // Sectors 0-5 take (v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q).
        @inline(__always) func pick(_ c0: Lanes, _ c1: Lanes, _ c2: Lanes, _ c3: Lanes, _ c4: Lanes, _ c5: Lanes) -> Lanes {
            c0.replacing(with: c1, where: sector .== 1).replacing(with: c2, where: sector .== 2)
                .replacing(with: c3, where: sector .== 3).replacing(with: c4, where: sector .== 4)
                .replacing(with: c5, where: sector .== 5)
        }
        return (pick(v, q, p, p, t, v), pick(t, v, v, q, p, p), pick(p, p, t, v, v, q))
    }
}
