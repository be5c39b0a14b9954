import Basics
import Foundation
import ImageOps

/// A mirror axis for RandomFlip.
public protocol FlipAxis: Sendable {
    static var opName: String { get }
    static func flip(_ image: FloatImage) -> FloatImage
}

public enum HorizontalAxis: FlipAxis {
    public static let opName = "horizontal-flip"
    public static func flip(_ image: FloatImage) -> FloatImage { image.flippedHorizontally() }
}

public enum VerticalAxis: FlipAxis {
    public static let opName = "vertical-flip"
    public static func flip(_ image: FloatImage) -> FloatImage { image.flippedVertically() }
}

/// A random mirror (torchvision RandomHorizontalFlip / RandomVerticalFlip).
public struct RandomFlip<Axis: FlipAxis>: AugmentationOp {
    public static var name: String { Axis.opName }
    /// Prior work (Huang et al. 2021) uses torchvision's default probability, 0.5.
    public var p = 0.5

    public init(p: Double = 0.5) { self.p = p }
    public init(_ parameters: inout OpParameters) throws { p = try parameters.number("p", default: p, in: 0...1) }
    public var parameters: [String: JSONValue] { ["p": .number(p)] }

    public func apply(to image: inout FloatImage, using g: inout SeededGenerator) {
        if g.chance(p) { image = Axis.flip(image) }
    }
}

public typealias RandomHorizontalFlip = RandomFlip<HorizontalAxis>
public typealias RandomVerticalFlip = RandomFlip<VerticalAxis>

/// torchvision's RandomResizedCrop: a window of random area share and aspect ratio, resized to
/// `size` x `size` with the antialiased bilinear filter. Parameters are drawn as get_params draws
/// them: ten tries, then a central crop.
public struct RandomResizedCrop: AugmentationOp {
    public static let name = "random-resized-crop"
    /// Prior work (Huang et al. 2021): 128-px patches, scale and ratio both 0.8-1.2. A scale above
    /// 1 cannot fit and is redrawn (torchvision's rule), so the upper end mostly adds whole-patch views.
    public var size = 128
    public var scale = 0.8...1.2
    public var ratio = 0.8...1.2

    public init() {}

    public init(_ parameters: inout OpParameters) throws {
        size = try parameters.integer("size", default: size, in: 8...1024)
        scale = try parameters.interval("scale", default: scale, in: 0.01...4)
        ratio = try parameters.interval("ratio", default: ratio, in: 0.05...20)
    }

    public var parameters: [String: JSONValue] {
        ["size": .number(Double(size)), "scale": .interval(scale), "ratio": .interval(ratio)]
    }

    /// The window (x, y, width, height) for an image of `width` x `height`.
    public func window(width: Int, height: Int, using g: inout SeededGenerator) -> (x: Int, y: Int, width: Int, height: Int) {
        let area = Double(width * height)
        let logRatio = (log(ratio.lowerBound), log(ratio.upperBound))
        for _ in 0..<10 {
            let target = area * g.uniform(scale.lowerBound, scale.upperBound)
            let aspect = exp(g.uniform(logRatio.0, logRatio.1))
            let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0, w <= width, h > 0, h <= height {
                let y = g.integer(0, height - h), x = g.integer(0, width - w)
                return (x, y, w, h)
            }
        }
        let inRatio = Double(width) / Double(height)
        var (w, h) = (width, height)
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return ((width - w) / 2, (height - h) / 2, w, h)
    }

    public func apply(to image: inout FloatImage, using g: inout SeededGenerator) {
        let box = window(width: image.width, height: image.height, using: &g)
        image = Resize.bilinear(image.cropped(x: box.x, y: box.y, width: box.width, height: box.height), width: size, height: size)
    }
}

/// torchvision's RandomAffine without scale or shear: a rotation drawn in [-degrees, degrees] and
/// a whole-pixel translation up to `translate` of the size, then AffineWarp (black outside).
public struct RandomAffine: AugmentationOp {
    public static let name = "random-affine"
    /// Prior work (Huang et al. 2021): degrees (-180, 180), translate (0.2, 0.2), and torchvision's
    /// default interpolation, nearest.
    public var degrees = 180.0
    public var translate = 0.2
    public var interpolation = AffineWarp.Interpolation.nearest

    public init() {}

    public init(_ parameters: inout OpParameters) throws {
        degrees = try parameters.number("degrees", default: degrees, in: 0...180)
        translate = try parameters.number("translate", default: translate, in: 0...1)
        let name = try parameters.choice(
            "interpolation", default: interpolation.rawValue, from: AffineWarp.Interpolation.allCases.map(\.rawValue))
        interpolation = AffineWarp.Interpolation(rawValue: name)!
    }

    public var parameters: [String: JSONValue] {
        ["degrees": .number(degrees), "translate": .number(translate), "interpolation": .string(interpolation.rawValue)]
    }

    public func apply(to image: inout FloatImage, using g: inout SeededGenerator) {
        // RandomAffine.get_params: the angle first, then x and y shifts rounded to whole pixels.
        let angle = g.uniform(-degrees, degrees)
        let dx = translate * Double(image.width), dy = translate * Double(image.height)
        let tx = g.uniform(-dx, dx).rounded(.toNearestOrEven), ty = g.uniform(-dy, dy).rounded(.toNearestOrEven)
        image = AffineWarp.apply(image, degrees: angle, translateX: tx, translateY: ty, interpolation: interpolation)
    }
}
