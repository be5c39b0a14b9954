import Foundation
import ImageOps

/// Drawing primitives with anti-aliased, optionally soft edges. Shapes are painted as coverage
/// (alpha) into a layer, so overlapping pieces of one structure (vessel segments, blobs of one
/// haemorrhage) merge instead of darkening where they overlap; a layer is then blended once.
struct Layer {
    let width: Int, height: Int
    var alpha: [Float]

    init(width: Int, height: Int) {
        (self.width, self.height) = (width, height)
        alpha = [Float](repeating: 0, count: width * height)
    }

    /// Coverage of a pixel whose centre is `distance` outside a shape's edge (negative inside).
    @inline(__always) static func coverage(_ distance: Double, softness: Double) -> Float {
        Float(min(1, max(0, 0.5 - distance / softness)))
    }

    /// Visits the pixels of a bounding box clipped to the layer.
    @inline(__always) mutating func paint(
        minX: Double, minY: Double, maxX: Double, maxY: Double, _ value: (Double, Double) -> Float
    ) {
        let x0 = max(0, Int(minX.rounded(.down))), x1 = min(width - 1, Int(maxX.rounded(.up)))
        let y0 = max(0, Int(minY.rounded(.down))), y1 = min(height - 1, Int(maxY.rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let a = value(Double(x) + 0.5, Double(y) + 0.5)
                let i = y * width + x
                if a > alpha[i] { alpha[i] = a }
            }
        }
    }

    /// An ellipse with semi-axes (rx, ry) turned by `angle`, its edge blurred over `softness` pixels.
    mutating func ellipse(x cx: Double, y cy: Double, rx: Double, ry: Double, angle: Double = 0, opacity: Float = 1, softness: Double = 1) {
        let reach = max(rx, ry) + softness
        let (c, s) = (cos(angle), sin(angle))
        paint(minX: cx - reach, minY: cy - reach, maxX: cx + reach, maxY: cy + reach) { px, py in
            let (dx, dy) = (px - cx, py - cy)
            let (u, v) = ((dx * c + dy * s) / rx, (-dx * s + dy * c) / ry)
            let r = (u * u + v * v).squareRoot()
            // Distance to the edge, approximately, in pixels along the smaller axis.
            return opacity * Layer.coverage((r - 1) * min(rx, ry), softness: softness)
        }
    }

    /// A segment with round caps whose width tapers from w0 to w1.
    mutating func segment(x0: Double, y0: Double, x1: Double, y1: Double, w0: Double, w1: Double, opacity: Float = 1) {
        let reach = max(w0, w1) / 2 + 1
        let (dx, dy) = (x1 - x0, y1 - y0)
        let length2 = max(dx * dx + dy * dy, 1e-9)
        paint(minX: min(x0, x1) - reach, minY: min(y0, y1) - reach, maxX: max(x0, x1) + reach, maxY: max(y0, y1) + reach) { px, py in
            let t = min(1, max(0, ((px - x0) * dx + (py - y0) * dy) / length2))
            let (qx, qy) = (x0 + t * dx - px, y0 + t * dy - py)
            let radius = (w0 + t * (w1 - w0)) / 2
            // Thin vessels keep their contrast as partial coverage (what a camera sees).
            let thin = Float(min(1, 2 * radius))
            return opacity * thin * Layer.coverage((qx * qx + qy * qy).squareRoot() - max(radius, 0.5), softness: 1)
        }
    }

    /// Blends `image` toward `colour` by this layer's coverage.
    func blend(into image: inout FloatImage, colour: (Float, Float, Float)) {
        for i in 0..<alpha.count where alpha[i] > 0 { image.blend(at: i, toward: colour, alpha: alpha[i]) }
    }

    /// Multiplies `image` by (1 - coverage * (1 - factor)): darkens toward `factor` keeping hue.
    func shade(_ image: inout FloatImage, factor: (Float, Float, Float)) {
        for i in 0..<alpha.count where alpha[i] > 0 {
            let a = alpha[i], p = 3 * i
            image.pixels[p] *= 1 - a * (1 - factor.0)
            image.pixels[p + 1] *= 1 - a * (1 - factor.1)
            image.pixels[p + 2] *= 1 - a * (1 - factor.2)
        }
    }
}
