import Basics
import Foundation
import ImageOps

/// Where the landmarks of one synthetic eye are, in pixels. Proportions follow fundus anatomy:
/// the optic disc is about 1/7 of the field's diameter across and the fovea about 2.5 disc
/// diameters temporal to it (standard ophthalmology texts); a left eye mirrors a right one.
struct FundusLayout {
    let size: Double
    let centre: (x: Double, y: Double)
    let radius: Double
    let disc: (x: Double, y: Double, r: Double)
    let fovea: (x: Double, y: Double)
    /// +1 when the fovea lies to the right of the disc (a left eye), -1 otherwise.
    let temporal: Double

    init(size: Int, using g: inout SeededGenerator) {
        let s = Double(size)
        self.size = s
        centre = (s / 2 + g.uniform(-0.01, 0.01) * s, s / 2 + g.uniform(-0.01, 0.01) * s)
        radius = s * g.uniform(0.44, 0.48)
        temporal = g.chance(0.5) ? 1 : -1
        let discRadius = radius * g.uniform(0.13, 0.16)
        disc = (centre.x - temporal * radius * g.uniform(0.5, 0.6), centre.y + radius * g.uniform(-0.08, 0.08), discRadius)
        fovea = (disc.x + temporal * 5 * discRadius * g.uniform(0.9, 1.05), disc.y + radius * g.uniform(0.02, 0.08))
    }

    func inField(_ x: Double, _ y: Double, margin: Double = 0) -> Bool {
        hypot(x - centre.x, y - centre.y) < radius - margin
    }
}

/// Paints the healthy eye: black surround, shaded retina with choroidal texture, macula, optic
/// disc and a branching vessel tree.
enum FundusAnatomy {
    static func paint(_ layout: FundusLayout, size: Int, using g: inout SeededGenerator) -> FloatImage {
        var image = FloatImage(width: size, height: size)
        // Pigmentation varies a lot between people (and so does the camera's white balance), which
        // is what keeps grades from being told apart by colour alone.
        let base = (Float(g.uniform(0.68, 0.92)), Float(g.uniform(0.24, 0.42)), Float(g.uniform(0.07, 0.2)))
        let vignette = g.uniform(0.2, 0.45)
        let texture = TextureField(cells: 24, amplitude: Float(g.uniform(0.03, 0.07)), using: &g)
        let blotches = (0..<g.integer(3, 5)).map { _ in
            (
                x: g.uniform(0, Double(size)), y: g.uniform(0, Double(size)), sigma: g.uniform(0.15, 0.35) * Double(size),
                gain: g.uniform(-0.12, 0.12)
            )
        }
        let s = Double(size)
        for y in 0..<size {
            for x in 0..<size {
                let (px, py) = (Double(x) + 0.5, Double(y) + 0.5)
                let r = hypot(px - layout.centre.x, py - layout.centre.y) / layout.radius
                let edge = Layer.coverage((r - 1) * layout.radius, softness: 1.5)
                guard edge > 0 else { continue }
                var gain = 1 - vignette * r * r
                for b in blotches {
                    gain += b.gain * exp(-(pow(px - b.x, 2) + pow(py - b.y, 2)) / (2 * b.sigma * b.sigma))
                }
                let t = texture.value(x: px / s, y: py / s)
                let i = 3 * (y * size + x)
                let f = Float(gain) * edge
                image.pixels[i] = base.0 * f * (1 + t)
                image.pixels[i + 1] = base.1 * f * (1 + 1.4 * t)
                image.pixels[i + 2] = base.2 * f * (1 + t)
            }
        }
        paintMacula(layout, &image, using: &g)
        paintDisc(layout, &image, using: &g)
        VesselTree.paint(layout, &image, using: &g)
        return image
    }

    private static func paintMacula(_ layout: FundusLayout, _ image: inout FloatImage, using g: inout SeededGenerator) {
        var macula = Layer(width: image.width, height: image.height)
        let sigma = layout.disc.r * g.uniform(0.9, 1.3)
        let depth = Float(g.uniform(0.3, 0.5))
        macula.paint(
            minX: layout.fovea.x - 3 * sigma, minY: layout.fovea.y - 3 * sigma, maxX: layout.fovea.x + 3 * sigma,
            maxY: layout.fovea.y + 3 * sigma
        ) { px, py in
            depth * Float(exp(-(pow(px - layout.fovea.x, 2) + pow(py - layout.fovea.y, 2)) / (2 * sigma * sigma)))
        }
        macula.shade(&image, factor: (0.55, 0.45, 0.5))
    }

    private static func paintDisc(_ layout: FundusLayout, _ image: inout FloatImage, using g: inout SeededGenerator) {
        var disc = Layer(width: image.width, height: image.height)
        let d = layout.disc
        disc.ellipse(x: d.x, y: d.y, rx: d.r * g.uniform(0.9, 1), ry: d.r, opacity: 0.9, softness: 0.25 * d.r)
        disc.blend(into: &image, colour: (0.97, Float(g.uniform(0.75, 0.88)), Float(g.uniform(0.45, 0.6))))
        var cup = Layer(width: image.width, height: image.height)
        let cupRadius = d.r * g.uniform(0.3, 0.55)
        cup.ellipse(
            x: d.x + layout.temporal * 0.15 * d.r, y: d.y, rx: cupRadius, ry: cupRadius * 1.1, opacity: 0.8, softness: 0.3 * cupRadius)
        cup.blend(into: &image, colour: (1, 0.95, 0.8))
    }
}

/// Smooth random texture: values on a coarse grid, interpolated bilinearly (value noise).
struct TextureField {
    let cells: Int
    let values: [Float]

    init(cells: Int, amplitude: Float, using g: inout SeededGenerator) {
        self.cells = cells
        values = (0..<(cells + 1) * (cells + 1)).map { _ in amplitude * Float(g.uniform(-1, 1)) }
    }

    func value(x: Double, y: Double) -> Float {
        let (fx, fy) = (min(max(x, 0), 1) * Double(cells - 1), min(max(y, 0), 1) * Double(cells - 1))
        let (ix, iy) = (Int(fx), Int(fy))
        let (tx, ty) = (Float(fx - Double(ix)), Float(fy - Double(iy)))
        let at = { (i: Int, j: Int) in values[j * (cells + 1) + i] }
        let top = at(ix, iy) * (1 - tx) + at(ix + 1, iy) * tx
        let bottom = at(ix, iy + 1) * (1 - tx) + at(ix + 1, iy + 1) * tx
        return top * (1 - ty) + bottom * ty
    }
}
