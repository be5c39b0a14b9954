import Basics
import Foundation
import ImageOps

/// The retinal vessels: from the optic disc, four arcades (superior and inferior, temporal and
/// nasal), each an artery and a vein, growing as tapering random walks that branch. Temporal
/// arcades bend around the macula, as real ones do.
enum VesselTree {
    struct Walker {
        var x: Double, y: Double, heading: Double, width: Double
        var target: Double  // the heading the walk bends toward
        var depth: Int
    }

    static func paint(_ layout: FundusLayout, _ image: inout FloatImage, using g: inout SeededGenerator) {
        var veins = Layer(width: image.width, height: image.height)
        var arteries = Layer(width: image.width, height: image.height)
        let scale = layout.size / 512
        let temporalHeading = layout.temporal > 0 ? 0.0 : Double.pi
        let nasalHeading = layout.temporal > 0 ? Double.pi : 0.0
        for (side, bend) in [(-1.0, temporalHeading), (1.0, temporalHeading), (-1.0, nasalHeading), (1.0, nasalHeading)] {
            let temporal = bend == temporalHeading
            // Leave the disc upward or downward, tilted toward the arcade's side.
            let vertical = side < 0 ? -Double.pi / 2 : Double.pi / 2
            let start = vertical + (temporal ? 1 : -1) * layout.temporal * side * g.uniform(0.2, 0.5)
            for vein in [true, false] {
                let width = (vein ? 6.5 : 5.0) * scale * (temporal ? 1 : 0.75) * g.uniform(0.9, 1.1)
                let walker = Walker(
                    x: layout.disc.x + g.uniform(-0.2, 0.2) * layout.disc.r, y: layout.disc.y + side * 0.3 * layout.disc.r,
                    heading: start + g.uniform(-0.15, 0.15), width: width, target: bend, depth: 0)
                if vein {
                    grow(walker, layout: layout, scale: scale, into: &veins, using: &g)
                } else {
                    grow(walker, layout: layout, scale: scale, into: &arteries, using: &g)
                }
            }
        }
        veins.shade(&image, factor: (0.5, 0.22, 0.3))
        arteries.shade(&image, factor: (0.72, 0.45, 0.5))
    }

    private static func grow(_ start: Walker, layout: FundusLayout, scale: Double, into layer: inout Layer, using g: inout SeededGenerator)
    {
        var stack = [start]
        while var w = stack.popLast() {
            let step = 6 * scale
            for _ in 0..<160 {
                guard w.width > 0.6 * scale, layout.inField(w.x, w.y, margin: 2) else { break }
                // Bend toward the target direction, plus wander.
                var turn = w.target - w.heading
                turn = atan2(sin(turn), cos(turn))
                w.heading += 0.035 * turn + g.normal() * 0.09
                let (nx, ny) = (w.x + step * cos(w.heading), w.y + step * sin(w.heading))
                let narrowed = w.width * 0.988
                layer.segment(x0: w.x, y0: w.y, x1: nx, y1: ny, w0: w.width, w1: narrowed)
                (w.x, w.y, w.width) = (nx, ny, narrowed)
                if w.depth < 4, w.width > 1.6 * scale, g.chance(0.045) {
                    let branch = (g.chance(0.5) ? 1.0 : -1.0) * g.uniform(0.45, 0.95)
                    var child = w
                    child.heading += branch
                    child.width *= g.uniform(0.55, 0.75)
                    child.target = w.heading + branch * 1.5
                    child.depth += 1
                    stack.append(child)
                    w.width *= 0.9
                }
            }
        }
    }
}
