import Basics

/// What makes a chest radiograph low quality, as a reader sees it: quantum noise (too low a
/// dose), blur (motion, a poor detector) and lost contrast with a wrong exposure. The image stays
/// grey and is degraded as a whole: there is no field of view, no halo and no colour, which is
/// what the fundus model would wrongly add.
///
/// The ranges are our choice, in grey levels of [0, 1] and fractions of the image height: a
/// strong draw roughly halves a lung field's contrast-to-noise ratio, a mild one keeps to the
/// gentler half of each range (as FundusDegradation does with Shen et al.'s ranges). No public
/// X-ray quality grading fits them better; docs/datasets.md says so.
public struct XRayDegradation: Equatable, Sendable, Codable {
    public enum Kind: String, CaseIterable, Sendable, Codable { case noise, blur, contrast }

    /// Standard deviation of added Gaussian noise, in grey levels.
    public var noise: Float?
    /// Gaussian blur sigma as a fraction of the image height.
    public var blur: Float?
    /// Contrast kept around the mean (1: unchanged) and an exposure shift.
    public var contrast: Float?
    public var exposure: Float = 0
    /// Seed of the noise field, so a degradation is a value that replays.
    public var noiseSeed: UInt64 = 0

    public init() {}

    public var kinds: [Kind] {
        Kind.allCases.filter {
            switch $0 {
            case .noise: noise != nil
            case .blur: blur != nil
            case .contrast: contrast != nil
            }
        }
    }

    /// One kind when mild, two or three when strong, as the fundus model.
    public static func random(severity: FundusDegradation.Severity, using g: inout SeededGenerator) -> XRayDegradation {
        let strong = severity == .strong
        let kinds = severity.kinds(from: Kind.allCases, using: &g)
        // Strong draws from the whole range, mild from its gentler half.
        func draw(_ gentle: Double, _ harsh: Double) -> Float {
            Float(strong ? g.uniform(gentle, harsh) : g.uniform(gentle, (gentle + harsh) / 2))
        }
        var result = XRayDegradation()
        for kind in Kind.allCases where kinds.contains(kind) {
            switch kind {
            case .noise: result.noise = draw(0.02, 0.08)
            case .blur: result.blur = draw(1.5, 5) / 512
            case .contrast:
                result.contrast = draw(0.8, 0.45)
                result.exposure = draw(0, 0.15) * (g.chance(0.5) ? 1 : -1)
            }
        }
        result.noiseSeed = g.next()
        return result
    }

    /// Degrades `image` in place: its luma is degraded and written to all three channels.
    public func apply(to image: inout FloatImage) {
        var grey = (0..<image.pixelCount).map { image.luma(at: $0) }
        if let contrast {
            let mean = grey.reduce(0, +) / Float(max(1, grey.count))
            for i in grey.indices { grey[i] = contrast * grey[i] + (1 - contrast) * mean + exposure }
        }
        if let blur {
            GaussianBlur.apply(&grey, width: image.width, height: image.height, channels: 1, sigma: Double(blur) * Double(image.height))
        }
        if let noise {
            var g = SeededGenerator(seed: noiseSeed)
            for i in grey.indices { grey[i] += noise * Float(g.normal()) }
        }
        for i in grey.indices {
            let v = min(1, max(0, grey[i]))
            (image.pixels[3 * i], image.pixels[3 * i + 1], image.pixels[3 * i + 2]) = (v, v, v)
        }
    }
}
