import Basics
import Foundation

/// The fundus degradation model of Shen et al. 2020 ("Modeling and enhancing low-quality retinal
/// fundus images"), as docs/architecture.md section 8 summarises it: uneven illumination (brightness,
/// contrast, saturation, a light-leak halo at the rim, a dark hole), lens spots, and blur, all
/// inside the field of view. Parameters are drawn once and stored, so a degradation can be
/// logged, replayed and tested; geometry is in fractions of the image, so one draw fits any size.
public struct FundusDegradation: Equatable, Sendable, Codable {
    public enum Kind: String, CaseIterable, Sendable, Codable { case illumination, spots, blur }

    /// EyeQ's two low grades: Usable (one mild degradation) and Reject (two or three strong ones).
    public enum Severity: String, Sendable, Codable {
        case mild, strong

        /// EyeQ's quality grade for an image degraded this way: 1 Usable, 2 Reject.
        public var eyeqQuality: Int { self == .mild ? 1 : 2 }

        /// Which kinds of degradation a draw combines: one when mild, two or three when strong
        /// (the fundus and the X-ray model alike), removed at random from `all`.
        public func kinds<Kind>(from all: [Kind], using g: inout SeededGenerator) -> [Kind] {
            var kinds = all
            let count = self == .mild ? 1 : g.integer(2, 3)
            while kinds.count > count { kinds.remove(at: g.integer(0, kinds.count - 1)) }
            return kinds
        }

        /// The severity that gives an EyeQ quality grade; nil for 0 (Good: not degraded).
        public init?(eyeqQuality: Int) {
            switch eyeqQuality {
            case 1: self = .mild
            case 2: self = .strong
            default: return nil
            }
        }
    }

    public struct Illumination: Equatable, Sendable, Codable {
        public var brightness: Float, contrast: Float, saturation: Float
        /// Light leaking in at the rim: strength of the whitish ring, and its width as a fraction of the field radius.
        public var haloStrength: Float, haloWidth: Float
        /// A dark, smooth hole: centre (fraction of width / height), radius (fraction of the field radius), depth.
        public var holeX: Float, holeY: Float, holeRadius: Float, holeDepth: Float
    }

    public struct Spot: Equatable, Sendable, Codable {
        public var x: Float, y: Float  // fractions of width / height
        public var radius: Float  // fraction of the height
        public var opacity: Float
        public var brightness: Float  // the grey level the spot pulls toward
    }

    public var illumination: Illumination?
    public var spots: [Spot] = []
    /// Gaussian sigma as a fraction of the image height (docs/architecture.md section 8: 5-15 px at 512 px).
    public var blur: Float?

    public init(illumination: Illumination? = nil, spots: [Spot] = [], blur: Float? = nil) {
        (self.illumination, self.spots, self.blur) = (illumination, spots, blur)
    }

    public var kinds: [Kind] {
        Kind.allCases.filter {
            switch $0 {
            case .illumination: illumination != nil
            case .spots: !spots.isEmpty
            case .blur: blur != nil
            }
        }
    }

    /// Draws a degradation. Ranges are docs/architecture.md section 8's (Shen et al.); `mild` keeps to their
    /// gentler half and one kind, `strong` uses the whole range and two or three kinds.
    public static func random(severity: Severity, using g: inout SeededGenerator) -> FundusDegradation {
        random(kinds: severity.kinds(from: Kind.allCases, using: &g), severity: severity, using: &g)
    }

    public static func random(kinds: [Kind], severity: Severity, using g: inout SeededGenerator) -> FundusDegradation {
        let strong = severity == .strong
        // Draws in [lower, upper], or in its half nearest `neutral` when mild.
        func draw(_ lower: Double, _ upper: Double, neutral: Double? = nil) -> Float {
            guard !strong else { return Float(g.uniform(lower, upper)) }
            guard let neutral else { return Float(g.uniform(lower, (lower + upper) / 2)) }
            // Either side of the neutral value, at most half-way to the range's end.
            let low = g.chance(0.5)
            return Float(low ? g.uniform((lower + neutral) / 2, neutral) : g.uniform(neutral, (neutral + upper) / 2))
        }
        var result = FundusDegradation()
        for kind in Kind.allCases where kinds.contains(kind) {
            switch kind {
            case .illumination:
                let angle = g.uniform(0, 2 * Double.pi), distance = g.uniform(0, 0.3)
                result.illumination = Illumination(
                    brightness: draw(0.7, 1.2, neutral: 1), contrast: draw(0.6, 1.4, neutral: 1),
                    saturation: draw(0.6, 1.4, neutral: 1),
                    haloStrength: draw(0.2, 0.7), haloWidth: Float(g.uniform(0.05, 0.15)),
                    holeX: Float(0.5 + distance * cos(angle)), holeY: Float(0.5 + distance * sin(angle)),
                    holeRadius: Float(g.uniform(0.3, 0.6)), holeDepth: draw(0.2, 0.7))
            case .spots:
                let count = strong ? g.integer(7, 10) : g.integer(5, 7)
                result.spots = (0..<count).map { _ in
                    let angle = g.uniform(0, 2 * Double.pi), distance = 0.4 * g.unit().squareRoot()
                    return Spot(
                        x: Float(0.5 + distance * cos(angle)), y: Float(0.5 + distance * sin(angle)),
                        radius: draw(0.01, 0.05), opacity: draw(0.3, 0.8), brightness: Float(g.uniform(0.7, 1)))
                }
            case .blur:
                result.blur = draw(5, 15) / 512
            }
        }
        return result
    }

    /// Applies the degradation inside `field`; pixels off the field are left as they were.
    /// Spot radii and the blur are fractions of `referenceHeight`, by default the image's own
    /// height; a patch passes the height of the image it was cut from, so a blur of 10 px at
    /// 512 px stays 10 px on a 128-px patch of that image.
    public func apply(to image: inout FloatImage, field: FieldOfView, referenceHeight: Int? = nil) {
        let original = image
        let scale = Float(referenceHeight ?? image.height)
        if let illumination { apply(illumination, to: &image, field: field) }
        if !spots.isEmpty { applySpots(to: &image, scale: scale) }
        if let blur { GaussianBlur.apply(&image, sigma: Double(blur) * Double(scale)) }
        for i in 0..<image.pixelCount where field.mask[i] == 0 {
            for c in 0..<3 { image.pixels[3 * i + c] = original.pixels[3 * i + c] }
        }
        for i in image.pixels.indices { image.pixels[i] = min(1, max(0, image.pixels[i])) }
    }

    private func apply(_ light: Illumination, to image: inout FloatImage, field: FieldOfView) {
        // Brightness, contrast, saturation with torchvision's adjust_* formulas; the contrast
        // mean is taken over the field only, or the black surround would drag it down.
        var lumaSum: Float = 0, fieldPixels: Float = 0
        for i in 0..<image.pixelCount where field.mask[i] > 0 {
            lumaSum += min(1, light.brightness * image.luma(at: i))
            fieldPixels += 1
        }
        let mean = lumaSum / max(1, fieldPixels)
        let disc = field.disc
        let (w, h) = (Float(image.width), Float(image.height))
        let radius = Float(disc.radius), haloWidth = light.haloWidth * Float(disc.radius)
        let hole = (x: light.holeX * w, y: light.holeY * h, r: light.holeRadius * Float(disc.radius))
        let haloColour: (Float, Float, Float) = (1, 0.92, 0.8)
        @inline(__always) func unit(_ v: Float) -> Float { min(1, max(0, v)) }
        for y in 0..<image.height {
            for x in 0..<image.width {
                let i = y * image.width + x, p = 3 * i
                guard field.mask[i] > 0 else { continue }
                var r = unit(image.pixels[p] * light.brightness)
                var g = unit(image.pixels[p + 1] * light.brightness)
                var b = unit(image.pixels[p + 2] * light.brightness)
                (r, g, b) = (
                    unit(light.contrast * r + (1 - light.contrast) * mean),
                    unit(light.contrast * g + (1 - light.contrast) * mean),
                    unit(light.contrast * b + (1 - light.contrast) * mean)
                )
                let grey = 0.299 * r + 0.587 * g + 0.114 * b
                (r, g, b) = (
                    unit(light.saturation * r + (1 - light.saturation) * grey),
                    unit(light.saturation * g + (1 - light.saturation) * grey),
                    unit(light.saturation * b + (1 - light.saturation) * grey)
                )
                // Halo: a whitish ring peaking at the rim of the field.
                let fromCentre = hypot(Float(x) - Float(disc.x), Float(y) - Float(disc.y))
                let ring = exp(-pow((fromCentre - radius) / haloWidth, 2)) * light.haloStrength
                // Hole: smooth darkening around a point.
                let d2 = pow(Float(x) - hole.x, 2) + pow(Float(y) - hole.y, 2)
                let dark = 1 - light.holeDepth * exp(-d2 / (2 * hole.r * hole.r))
                image.pixels[p] = (r + ring * (haloColour.0 - r)) * dark
                image.pixels[p + 1] = (g + ring * (haloColour.1 - g)) * dark
                image.pixels[p + 2] = (b + ring * (haloColour.2 - b)) * dark
            }
        }
    }

    private func applySpots(to image: inout FloatImage, scale: Float) {
        // Each spot is a disc of opacity, softened by a blur of half its radius (Shen et al. blur
        // theirs). Grey is kept premultiplied by opacity, so blurring both and dividing gives each
        // blurred pixel the grey of the spots it came from.
        var alpha = [Float](repeating: 0, count: image.pixelCount)
        var premultiplied = [Float](repeating: 0, count: image.pixelCount)
        let (w, h) = (Float(image.width), Float(image.height))
        var sigma = 0.0
        for spot in spots {
            let cx = spot.x * w, cy = spot.y * h, r = spot.radius * scale
            sigma = max(sigma, Double(r) / 2)
            for y in max(0, Int(cy - r))...min(image.height - 1, Int(cy + r)) {
                for x in max(0, Int(cx - r))...min(image.width - 1, Int(cx + r)) where hypot(Float(x) - cx, Float(y) - cy) <= r {
                    let i = y * image.width + x
                    if spot.opacity > alpha[i] { (alpha[i], premultiplied[i]) = (spot.opacity, spot.opacity * spot.brightness) }
                }
            }
        }
        GaussianBlur.apply(&alpha, width: image.width, height: image.height, channels: 1, sigma: sigma)
        GaussianBlur.apply(&premultiplied, width: image.width, height: image.height, channels: 1, sigma: sigma)
        for i in 0..<image.pixelCount where alpha[i] > 0.002 {
            let grey = min(1, premultiplied[i] / alpha[i])
            image.blend(at: i, toward: (grey, grey, grey * 0.95), alpha: alpha[i])
        }
    }
}
