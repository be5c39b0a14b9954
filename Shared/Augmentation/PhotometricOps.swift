import Basics
import ImageOps

/// torchvision's ColorJitter: brightness, contrast, saturation and hue factors, applied in a random
/// order (get_params draws the order first, then the four factors), with ColorAdjust's formulas.
public struct ColorJitter: AugmentationOp {
    public static let name = "color-jitter"
    /// Prior work (Huang et al. 2021): 0.4, 0.4, 0.4, 0.1, always applied (p 1).
    public var brightness = 0.4, contrast = 0.4, saturation = 0.4, hue = 0.1
    public var p = 1.0

    public init() {}

    public init(_ parameters: inout OpParameters) throws {
        brightness = try parameters.number("brightness", default: brightness, in: 0...10)
        contrast = try parameters.number("contrast", default: contrast, in: 0...10)
        saturation = try parameters.number("saturation", default: saturation, in: 0...10)
        hue = try parameters.number("hue", default: hue, in: 0...0.5)
        p = try parameters.number("p", default: p, in: 0...1)
    }

    public var parameters: [String: JSONValue] {
        [
            "brightness": .number(brightness), "contrast": .number(contrast), "saturation": .number(saturation), "hue": .number(hue),
            "p": .number(p),
        ]
    }

    public func apply(to image: inout FloatImage, using g: inout SeededGenerator) {
        guard g.chance(p) else { return }
        var order = [0, 1, 2, 3]
        g.shuffle(&order)
        // A factor in [max(0, 1 - x), 1 + x]; hue in [-hue, hue]; nil when the strength is 0.
        func factor(_ strength: Double) -> Double? { strength > 0 ? g.uniform(max(0, 1 - strength), 1 + strength) : nil }
        let b = factor(brightness), c = factor(contrast), s = factor(saturation)
        let h = hue > 0 ? g.uniform(-hue, hue) : nil
        for step in order {
            switch step {
            case 0: if let b { ColorAdjust.brightness(&image, factor: b) }
            case 1: if let c { ColorAdjust.contrast(&image, factor: c) }
            case 2: if let s { ColorAdjust.saturation(&image, factor: s) }
            default: if let h { ColorAdjust.hue(&image, shift: h) }
            }
        }
    }
}

/// torchvision's RandomGrayscale with three output channels.
public struct RandomGrayscale: AugmentationOp {
    public static let name = "random-grayscale"
    /// Prior work (Huang et al. 2021): p 0.2.
    public var p = 0.2

    public init() {}
    public init(_ parameters: inout OpParameters) throws { p = try parameters.number("p", default: p, in: 0...1) }
    public var parameters: [String: JSONValue] { ["p": .number(p)] }

    public func apply(to image: inout FloatImage, using g: inout SeededGenerator) {
        if g.chance(p) { ColorAdjust.grayscale(&image) }
    }
}

/// A Gaussian blur of random sigma (kernel radius ceil(3 sigma), reflected borders).
public struct RandomGaussianBlur: AugmentationOp {
    public static let name = "gaussian-blur"
    /// SimCLR (Chen et al. 2020): p 0.5, sigma 0.1-2.0 px. Not in the prior work's recipe.
    public var p = 0.5
    public var sigma = 0.1...2.0

    public init() {}

    public init(_ parameters: inout OpParameters) throws {
        p = try parameters.number("p", default: p, in: 0...1)
        sigma = try parameters.interval("sigma", default: sigma, in: 0.01...50)
    }

    public var parameters: [String: JSONValue] { ["p": .number(p), "sigma": .interval(sigma)] }

    public func apply(to image: inout FloatImage, using g: inout SeededGenerator) {
        guard g.chance(p) else { return }
        GaussianBlur.apply(&image, sigma: g.uniform(sigma.lowerBound, sigma.upperBound))
    }
}
