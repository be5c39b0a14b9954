import Basics
import Datasets
import Foundation
import ImageOps

/// One synthetic fundus photograph: the picture, its lesions, and (for a low-quality one) the
/// degradation that was applied.
public struct SyntheticFundus: Sendable {
    public var image: FloatImage
    public var lesions: [LesionBox]
    public var degradation: FundusDegradation?

    /// Renders image `index` of a dataset. Everything random comes from a generator derived from
    /// (seed, index), so an image does not depend on how many others are made or in what order.
    public static func render(
        seed: UInt64, index: Int, size: Int, grade: Int, degradation severity: FundusDegradation.Severity?
    ) -> SyntheticFundus {
        precondition((0...4).contains(grade), "DR grade \(grade)")
        var g = SeededGenerator(seed: seed, UInt64(index))
        let layout = FundusLayout(size: size, using: &g)
        var image = FundusAnatomy.paint(layout, size: size, using: &g)
        // Drusen (small pale deposits, common with age) appear at every grade and are not DR lesions:
        // a detector has to cope with bright look-alikes.
        var drusen = Layer(width: size, height: size)
        if g.chance(0.3) {
            for _ in 0..<g.integer(1, 5) {
                let angle = g.uniform(0, 6.3), distance = layout.radius * 0.5 * g.unit()
                let r = g.uniform(1, 2.5) * layout.size / 512
                drusen.ellipse(
                    x: layout.fovea.x + distance * cos(angle), y: layout.fovea.y + distance * sin(angle), rx: r, ry: r,
                    opacity: Float(g.uniform(0.3, 0.6)), softness: 1.5)
            }
        }
        drusen.blend(into: &image, colour: (0.95, 0.85, 0.55))
        let plan = LesionPlan.forGrade(grade, using: &g)
        let lesions = LesionPainter.paint(plan, layout: layout, on: &image, using: &g)
        // Sensor noise, then (for low quality) the degradation model.
        for i in 0..<image.pixelCount where image.pixels[3 * i] > 0 {
            for c in 0..<3 { image.pixels[3 * i + c] += Float(g.normal() * 0.008) }
        }
        var degradation: FundusDegradation?
        if let severity {
            var dg = SeededGenerator(seed: seed, UInt64(index), 0xDE6)
            let d = FundusDegradation.random(severity: severity, using: &dg)
            d.apply(to: &image, field: FieldOfView(of: image))
            degradation = d
        }
        for i in image.pixels.indices { image.pixels[i] = min(1, max(0, image.pixels[i])) }
        return SyntheticFundus(image: image, lesions: lesions, degradation: degradation)
    }
}
