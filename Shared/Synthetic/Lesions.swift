import Basics
import Datasets
import Foundation
import ImageOps

/// The lesions of diabetic retinopathy that graders count (and IDRiD annotates).
public enum LesionKind: String, CaseIterable, Sendable {
    case microaneurysm, haemorrhage, hardExudate = "hard_exudate", cottonWool = "cotton_wool"
    case neovascularisation
}

/// How many lesions of each kind an eye of a given DR grade gets, following the International
/// Clinical DR scale (Wilkinson et al. 2003) as graders apply it: mild = microaneurysms only;
/// moderate = more than that (haemorrhages and/or hard exudates) but short of severe; severe =
/// many haemorrhages in all four quadrants (the 4-2-1 rule's first arm); proliferative =
/// neovascularisation, with whatever else. Counts are scaled to a 512-px image's field.
struct LesionPlan {
    var microaneurysms = 0
    /// Haemorrhages per quadrant (superior-temporal, superior-nasal, inferior-temporal, inferior-nasal).
    var haemorrhages = [0, 0, 0, 0]
    var exudatePlaques = 0
    var cottonWool = 0
    var neovascularisations = 0

    static func forGrade(_ grade: Int, using g: inout SeededGenerator) -> LesionPlan {
        var plan = LesionPlan()
        switch grade {
        case 1:
            plan.microaneurysms = g.integer(1, 6)
        case 2:
            plan.microaneurysms = g.integer(2, 10)
            // At least one of haemorrhages or exudates; haemorrhages in at most three quadrants.
            let kind = g.integer(0, 2)
            if kind != 1 {
                let quadrants = g.integer(1, 3)
                for q in 0..<quadrants { plan.haemorrhages[q] = g.integer(1, 3) }
                plan.haemorrhages.shuffle(using: &g)
            }
            if kind != 0 { plan.exudatePlaques = g.integer(1, 4) }
        case 3:
            plan.microaneurysms = g.integer(5, 15)
            plan.haemorrhages = (0..<4).map { _ in g.integer(4, 7) }
            plan.exudatePlaques = g.integer(0, 5)
            plan.cottonWool = g.integer(0, 3)
        case 4:
            plan.neovascularisations = g.integer(1, 2)
            plan.microaneurysms = g.integer(3, 12)
            plan.haemorrhages = (0..<4).map { _ in g.integer(0, 3) }
            plan.exudatePlaques = g.integer(0, 4)
            plan.cottonWool = g.integer(0, 2)
        default:
            break
        }
        return plan
    }
}

/// Paints a plan's lesions and returns their ground-truth boxes.
enum LesionPainter {
    static func paint(_ plan: LesionPlan, layout: FundusLayout, on image: inout FloatImage, using g: inout SeededGenerator) -> [LesionBox] {
        var boxes: [LesionBox] = []
        let scale = layout.size / 512
        var red = Layer(width: image.width, height: image.height)
        var dark = Layer(width: image.width, height: image.height)
        var yellow = Layer(width: image.width, height: image.height)
        var pale = Layer(width: image.width, height: image.height)
        func record(_ kind: LesionKind, _ cx: Double, _ cy: Double, _ halfW: Double, _ halfH: Double) {
            boxes.append(LesionBox(x: cx - halfW, y: cy - halfH, width: 2 * halfW, height: 2 * halfH, lesionClass: kind.rawValue))
        }
        for _ in 0..<plan.microaneurysms {
            let (x, y) = place(layout, using: &g, quadrant: nil)
            let r = g.uniform(1.2, 2.6) * scale
            dark.ellipse(x: x, y: y, rx: r, ry: r, opacity: Float(g.uniform(0.75, 1)), softness: 0.8)
            record(.microaneurysm, x, y, r + 1, r + 1)
        }
        for (quadrant, count) in plan.haemorrhages.enumerated() {
            for _ in 0..<count {
                let (x, y) = place(layout, using: &g, quadrant: quadrant)
                // Dot-and-blot: a few overlapping ellipses; some flame-shaped (elongated).
                let size = g.uniform(3, 10) * scale, elongation = g.chance(0.3) ? g.uniform(1.8, 3) : g.uniform(1, 1.4)
                let angle = g.uniform(0, Double.pi)
                var reach = 0.0
                for _ in 0..<g.integer(1, 4) {
                    let (ox, oy) = (g.uniform(-0.5, 0.5) * size, g.uniform(-0.5, 0.5) * size)
                    let rx = size * elongation * g.uniform(0.6, 1), ry = size * g.uniform(0.6, 1)
                    red.ellipse(x: x + ox, y: y + oy, rx: rx, ry: ry, angle: angle, opacity: Float(g.uniform(0.7, 0.95)), softness: 1.5)
                    reach = max(reach, hypot(ox, oy) + max(rx, ry))
                }
                record(.haemorrhage, x, y, reach, reach)
            }
        }
        for _ in 0..<plan.exudatePlaques {
            let (x, y) = place(layout, using: &g, quadrant: nil, nearFovea: true)
            var reach = 0.0
            for _ in 0..<g.integer(2, 7) {
                let (ox, oy) = (g.normal() * 5 * scale, g.normal() * 5 * scale)
                let r = g.uniform(1.2, 3.5) * scale
                yellow.ellipse(
                    x: x + ox, y: y + oy, rx: r * g.uniform(0.8, 1.3), ry: r, angle: g.uniform(0, Double.pi),
                    opacity: Float(g.uniform(0.7, 1)), softness: 0.8)
                reach = max(reach, max(abs(ox), abs(oy)) + 1.3 * r)
            }
            record(.hardExudate, x, y, reach, reach)
        }
        for _ in 0..<plan.cottonWool {
            let (x, y) = place(layout, using: &g, quadrant: nil)
            let r = g.uniform(5, 11) * scale
            pale.ellipse(
                x: x, y: y, rx: r * g.uniform(1, 1.6), ry: r, angle: g.uniform(0, Double.pi), opacity: Float(g.uniform(0.4, 0.65)),
                softness: 0.6 * r)
            record(.cottonWool, x, y, 1.6 * r, 1.6 * r)
        }
        for _ in 0..<plan.neovascularisations {
            // A tangle of fine, tortuous new vessels, on or near the disc or along an arcade.
            let onDisc = g.chance(0.5)
            let (x, y) =
                onDisc
                ? (layout.disc.x + g.uniform(-1, 1) * layout.disc.r, layout.disc.y + g.uniform(-1.2, 1.2) * layout.disc.r)
                : place(layout, using: &g, quadrant: nil)
            let extent = g.uniform(14, 28) * scale
            for _ in 0..<g.integer(6, 12) {
                var (px, py) = (x + g.uniform(-0.6, 0.6) * extent, y + g.uniform(-0.6, 0.6) * extent)
                var heading = g.uniform(0, 2 * Double.pi)
                for _ in 0..<g.integer(4, 9) {
                    heading += g.normal() * 0.9
                    let (nx, ny) = (
                        min(max(px + 3 * scale * cos(heading), x - extent), x + extent),
                        min(max(py + 3 * scale * sin(heading), y - extent), y + extent)
                    )
                    red.segment(x0: px, y0: py, x1: nx, y1: ny, w0: 1.3 * scale, w1: 1.3 * scale, opacity: 0.9)
                    (px, py) = (nx, ny)
                }
            }
            record(.neovascularisation, x, y, extent + 2, extent + 2)
        }
        red.shade(&image, factor: (0.5, 0.2, 0.25))
        dark.shade(&image, factor: (0.42, 0.15, 0.2))
        yellow.blend(into: &image, colour: (0.97, 0.88, 0.42))
        pale.blend(into: &image, colour: (0.93, 0.88, 0.78))
        return boxes.map { $0.clipped(width: layout.size, height: layout.size) }
    }

    /// A random spot on the retina, off the optic disc; in a given quadrant (around the field's
    /// centre) when asked, near the macula for exudates (where they gather in maculopathy).
    private static func place(
        _ layout: FundusLayout, using g: inout SeededGenerator, quadrant: Int?, nearFovea: Bool = false
    ) -> (Double, Double) {
        for _ in 0..<100 {
            var x: Double, y: Double
            if nearFovea, g.chance(0.6) {
                (x, y) = (layout.fovea.x + g.normal() * 2 * layout.disc.r, layout.fovea.y + g.normal() * 1.5 * layout.disc.r)
            } else {
                let angle = quadrant.map { Double($0) * Double.pi / 2 + g.uniform(0.1, 1.47) } ?? g.uniform(0, 2 * Double.pi)
                let distance = layout.radius * 0.88 * g.unit().squareRoot()
                (x, y) = (layout.centre.x + distance * cos(angle), layout.centre.y + distance * sin(angle))
            }
            if layout.inField(x, y, margin: 0.06 * layout.radius), hypot(x - layout.disc.x, y - layout.disc.y) > 1.4 * layout.disc.r {
                return (x, y)
            }
        }
        return (layout.fovea.x, layout.fovea.y - 2 * layout.disc.r)
    }
}
