import Encoder
import Testing

/// Writing an image into a batch: torchvision's (x / 255 - mean) / std per channel, at the
/// image's slot, and the flips mirror exactly (a 2x3 image with distinct pixels).
@Suite struct NormalizationTests {
    // Pixel (y, x) has value 10 * (3y + x) + channel.
    static let pixels: [UInt8] = (0..<6).flatMap { p in (0..<3).map { UInt8(10 * p + $0) } }
    static let norm = Normalization(mean: [0.5, 0.25, 0.0], std: [0.5, 0.25, 1.0])

    func written(_ h: Bool, _ v: Bool) -> [Float] {
        let batch = Tensor4(shape: Shape4(n: 2, h: 2, w: 3, c: 3))
        Self.norm.write(rgb: Self.pixels, into: batch, index: 1, flipHorizontal: h, flipVertical: v)
        return Array(batch.values[18...])
    }

    func expected(_ source: (Int, Int) -> (Int, Int)) -> [Float] {
        (0..<2).flatMap { y in
            (0..<3).flatMap { x in
                let (sy, sx) = source(y, x)
                return (0..<3).map { k in (Float(Self.pixels[(sy * 3 + sx) * 3 + k]) / 255 - Self.norm.mean[k]) / Self.norm.std[k] }
            }
        }
    }

    @Test func normalisesAndMirrors() {
        let cases: [(Bool, Bool, (Int, Int) -> (Int, Int))] = [
            (false, false, { ($0, $1) }), (true, false, { ($0, 2 - $1) }), (false, true, { (1 - $0, $1) }),
            (true, true, { (1 - $0, 2 - $1) }),
        ]
        for (h, v, source) in cases {
            let got = written(h, v), want = expected(source)
            #expect(zip(got, want).allSatisfy { abs($0 - $1) < 1e-6 }, "flip h \(h) v \(v): \(got) vs \(want)")
        }
    }

    /// 16-bit pixels (a DICOM's patches): x / 65535, so v * 257 writes what the 8-bit v does.
    @Test func sixteenBitPixelsNormaliseOverTheirRange() {
        let batch = Tensor4(shape: Shape4(n: 2, h: 2, w: 3, c: 3))
        Self.norm.write(rgb16: Self.pixels.map { UInt16($0) * 257 }, into: batch, index: 1)
        #expect(zip(Array(batch.values[18...]), expected { ($0, $1) }).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}
