import Foundation

/// Rotation about the image centre plus a translation, as torchvision's F.affine does on a float
/// tensor (scale 1, no shear, fill None): the inverse matrix of _get_inverse_affine_matrix, the
/// sampling grid of _gen_affine_grid in float32, and grid_sample with align_corners=False and zero
/// padding. Pixels that map outside the image become black.
public enum AffineWarp {
    public enum Interpolation: String, Sendable, CaseIterable {
        case nearest, bilinear
    }

    /// `degrees` clockwise on screen (torchvision's convention), then `translate` pixels (x right, y down).
    public static func apply(
        _ image: FloatImage, degrees: Double, translateX: Double, translateY: Double, interpolation: Interpolation
    ) -> FloatImage {
        let (w, h) = (image.width, image.height)
        // _get_inverse_affine_matrix with centre (0, 0) (the tensor path's image-centred frame).
        let rot = degrees * Double.pi / 180
        let (cosR, sinR) = (cos(rot), sin(rot))
        var m = [cosR, sinR, 0, -sinR, cosR, 0]
        m[2] += m[0] * -translateX + m[1] * -translateY
        m[5] += m[3] * -translateX + m[4] * -translateY
        // theta in float32, divided by half the size: grid coordinates in [-1, 1].
        let halfW = Float(0.5 * Double(w)), halfH = Float(0.5 * Double(h))
        let theta = m.map { Float($0) }
        let ax = theta[0] / halfW, bx = theta[1] / halfW, cx = theta[2] / halfW
        let ay = theta[3] / halfH, by = theta[4] / halfH, cy = theta[5] / halfH
        var out = FloatImage(width: w, height: h)
        let (fw, fh) = (Float(w), Float(h))
        // Buffer pointers: the guards below check each tap against the image, so the accesses
        // need no check of their own.
        image.pixels.withUnsafeBufferPointer { source in
            out.pixels.withUnsafeMutableBufferPointer { target in
                for row in 0..<h {
                    let y = -fh * 0.5 + 0.5 + Float(row)
                    for col in 0..<w {
                        let x = -fw * 0.5 + 0.5 + Float(col)
                        let gx = x * ax + y * bx + cx, gy = x * ay + y * by + cy
                        // grid_sampler_unnormalize, align_corners=False.
                        let sx = ((gx + 1) * fw - 1) / 2, sy = ((gy + 1) * fh - 1) / 2
                        let o = 3 * (row * w + col)
                        switch interpolation {
                        case .nearest:
                            let rx = roundedToEven(sx), ry = roundedToEven(sy)
                            guard rx >= 0, rx < fw, ry >= 0, ry < fh else { continue }
                            let p = 3 * (Int(ry) * w + Int(rx))
                            for c in 0..<3 { target[o + c] = source[p + c] }
                        case .bilinear:
                            // grid_sample's four taps and weights, each dropped when it falls outside.
                            let x0 = roundedDown(sx), y0 = roundedDown(sy), x1 = x0 + 1, y1 = y0 + 1
                            guard x0 >= -1, x0 < fw, y0 >= -1, y0 < fh else { continue }
                            let (ix, iy) = (Int(x0), Int(y0))
                            @inline(__always) func add(_ tx: Int, _ ty: Int, _ weight: Float) {
                                guard tx >= 0, tx < w, ty >= 0, ty < h else { return }
                                let p = 3 * (ty * w + tx)
                                for c in 0..<3 { target[o + c] += weight * source[p + c] }
                            }
                            add(ix, iy, (x1 - sx) * (y1 - sy))
                            add(ix + 1, iy, (sx - x0) * (y1 - sy))
                            add(ix, iy + 1, (x1 - sx) * (sy - y0))
                            add(ix + 1, iy + 1, (sx - x0) * (sy - y0))
                        }
                    }
                }
            }
        }
        return out
    }

    /// Round half to even without a libm call (the x86-64 baseline has no rounding instruction,
    /// and rintf was most of this loop, perf): adding and taking away 1.5 * 2^23 leaves the
    /// nearest integer, ties to even, for |x| < 2^22. Larger values (and NaN) come back as they
    /// are: they lie outside any image, which the callers' bounds check says.
    @inline(__always) static func roundedToEven(_ x: Float) -> Float {
        guard abs(x) < 0x1p22 else { return x }
        return (x + 0x1.8p23) - 0x1.8p23
    }

    /// The floor, from roundedToEven: one less where it rounded up (named apart from libm's
    /// floor, which this replaces).
    @inline(__always) static func roundedDown(_ x: Float) -> Float {
        let r = roundedToEven(x)
        return r > x ? r - 1 : r
    }
}
