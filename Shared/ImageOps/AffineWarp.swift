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
                    let ix = Int(sx.rounded(.toNearestOrEven)), iy = Int(sy.rounded(.toNearestOrEven))
                    guard ix >= 0, ix < w, iy >= 0, iy < h else { continue }
                    let p = 3 * (iy * w + ix)
                    for c in 0..<3 { out.pixels[o + c] = image.pixels[p + c] }
                case .bilinear:
                    // grid_sample's four taps and weights, each dropped when it falls outside.
                    let x0 = sx.rounded(.down), y0 = sy.rounded(.down), x1 = x0 + 1, y1 = y0 + 1
                    let (ix, iy) = (Int(x0), Int(y0))
                    func add(_ tx: Int, _ ty: Int, _ weight: Float) {
                        guard tx >= 0, tx < w, ty >= 0, ty < h else { return }
                        let p = 3 * (ty * w + tx)
                        for c in 0..<3 { out.pixels[o + c] += weight * image.pixels[p + c] }
                    }
                    add(ix, iy, (x1 - sx) * (y1 - sy))
                    add(ix + 1, iy, (sx - x0) * (y1 - sy))
                    add(ix, iy + 1, (x1 - sx) * (sy - y0))
                    add(ix + 1, iy + 1, (sx - x0) * (sy - y0))
                }
            }
        }
        return out
    }
}
