import Basics
import Encoder
import Foundation

/// The fine-tune's training augmentation for one image: a rotation about the centre, then flips
/// (torchvision's F.rotate on the image tensor, bilinear with grid_sample's zero padding, i.e.
/// black where the turned image has no pixel, then the flips, before Normalize; with symmetric
/// angles the order of rotation and flips does not change what is drawn).
public struct ImageTransform: Sendable, Equatable {
    public var flipHorizontal = false, flipVertical = false
    /// Counter-clockwise on screen, as torchvision's RandomRotation turns a PIL image.
    public var degrees = 0.0

    public static let identity = ImageTransform()

    public init(flipHorizontal: Bool = false, flipVertical: Bool = false, degrees: Double = 0) {
        (self.flipHorizontal, self.flipVertical, self.degrees) = (flipHorizontal, flipVertical, degrees)
    }

    /// One draw: each flip with probability 0.5 when `flips`, an angle uniform in [-rotation, rotation].
    public static func random(flips: Bool, rotation: Double, using g: inout SeededGenerator) -> ImageTransform {
        var t = ImageTransform()
        if flips { (t.flipHorizontal, t.flipVertical) = (g.chance(0.5), g.chance(0.5)) }
        if rotation > 0 { t.degrees = g.uniform(-rotation, rotation) }
        return t
    }

    /// Writes square 8-bit RGB `pixels` (side = the batch's), transformed and normalised, as image
    /// `index` of a channels-last batch: one pass, no intermediate image.
    public func write(_ pixels: [UInt8], into batch: Tensor4, index: Int, normalization: Normalization) {
        guard degrees != 0 else {
            return normalization.write(rgb: pixels, into: batch, index: index, flipHorizontal: flipHorizontal, flipVertical: flipVertical)
        }
        let s = batch.shape
        precondition(pixels.count == s.h * s.w * 3 && s.c == 3 && s.h == s.w && index < s.n, "image does not fit the batch \(s)")
        let side = s.w, out = batch.pointer + index * side * side * 3
        let scale = normalization.std.map { 1 / (255 * $0) }, shift = zip(normalization.mean, normalization.std).map { -$0 / $1 }
        // Output pixel centre (x, y) in a centred frame samples the source at the inverse rotation;
        // a counter-clockwise turn on screen (y down) maps source to output by (cos, sin; -sin, cos).
        let r = degrees * Double.pi / 180
        let (c, sn) = (Float(cos(r)), Float(sin(r)))
        let half = Float(side) / 2
        pixels.withUnsafeBufferPointer { src in
            for y in 0..<side {
                let oy = Float(y) + 0.5 - half
                let row = flipVertical ? side - 1 - y : y
                for x in 0..<side {
                    let ox = Float(x) + 0.5 - half
                    // Inverse rotation, back to pixel-index coordinates (centres at +0.5).
                    let sx = c * ox - sn * oy + half - 0.5, sy = sn * ox + c * oy + half - 0.5
                    let x0 = sx.rounded(.down), y0 = sy.rounded(.down)
                    let fx = sx - x0, fy = sy - y0
                    let (ix, iy) = (Int(x0), Int(y0))
                    var v: (Float, Float, Float) = (0, 0, 0)
                    func tap(_ tx: Int, _ ty: Int, _ w: Float) {
                        guard tx >= 0, tx < side, ty >= 0, ty < side, w > 0 else { return }
                        let p = 3 * (ty * side + tx)
                        v.0 += w * Float(src[p]); v.1 += w * Float(src[p + 1]); v.2 += w * Float(src[p + 2])
                    }
                    tap(ix, iy, (1 - fx) * (1 - fy)); tap(ix + 1, iy, fx * (1 - fy))
                    tap(ix, iy + 1, (1 - fx) * fy); tap(ix + 1, iy + 1, fx * fy)
                    let column = flipHorizontal ? side - 1 - x : x
                    let o = 3 * (row * side + column)
                    out[o] = v.0 * scale[0] + shift[0]; out[o + 1] = v.1 * scale[1] + shift[1]; out[o + 2] = v.2 * scale[2] + shift[2]
                }
            }
        }
    }
}
