import Basics
import Datasets
import ImageOps
import Images

/// A cut patch and where it came from.
public struct CutPatch: Sendable, Equatable {
    public var pixels: RGBImage
    /// The window in image pixels (before any resize to the patch size).
    public var window: (x: Int, y: Int, side: Int)
    /// Index of the detection it was cut around, nil for a random crop.
    public var boxIndex: Int?
    public var score: Double

    public static func == (a: CutPatch, b: CutPatch) -> Bool {
        a.pixels == b.pixels && a.window == b.window && a.boxIndex == b.boxIndex && a.score == b.score
    }
}

/// The two patch operations of docs/method.md section 2.
public struct PatchCutter: Sendable {
    /// Patch side: 128 (docs/method.md section 2, the paper and prior work).
    public var size = 128
    /// Boxes with confidence above this are lesions: 0.5, as the prior work (Huang et al. 2021).
    public var confidence = 0.5
    /// A random crop must have at least this share of its pixels on the field of view. 0.8: a
    /// fundus photo's field is a disc, so this keeps crops off the black corners while still
    /// reaching the rim.
    public var minimumField = 0.8
    /// Random crops tried before taking the one with the most field.
    public var attempts = 50

    public init() {}

    /// Omega: the window of `size` containing a detected box, centred on it and shifted to stay
    /// inside the image; a box larger than `size` is taken as its enclosing square and resized.
    /// The box is one of those above `confidence`, chosen by the generator. Nil when there is none.
    public func omega(_ image: RGBImage, boxes: [LesionBox], using g: inout SeededGenerator) -> CutPatch? {
        let kept = boxes.indices.filter { boxes[$0].score > confidence }
        guard !kept.isEmpty else { return nil }
        let index = kept[g.integer(0, kept.count - 1)]
        let box = boxes[index]
        let side = min(max(size, Int(max(box.width, box.height).rounded(.up))), min(image.width, image.height))
        let centre = (x: box.x + box.width / 2, y: box.y + box.height / 2)
        let x = clamp(Int((centre.x - Double(side) / 2).rounded()), 0, image.width - side)
        let y = clamp(Int((centre.y - Double(side) / 2).rounded()), 0, image.height - side)
        return CutPatch(pixels: window(image, x: x, y: y, side: side), window: (x, y, side), boxIndex: index, score: box.score)
    }

    /// RandC: a uniformly random window of `size`, redrawn until it lies mostly on the field.
    public func random(_ image: RGBImage, field: FieldOfView, using g: inout SeededGenerator) -> CutPatch {
        random(image, using: &g) { field.coverage(x: $0, y: $1, width: $2, height: $2) }
    }

    /// RandC on the image's own field of view (`FieldOfView(of: image)`), read window by window.
    public func random(_ image: RGBImage, using g: inout SeededGenerator) -> CutPatch {
        random(image, using: &g) { FieldOfView.coverage(of: image, x: $0, y: $1, width: $2, height: $2) }
    }

    private func random(_ image: RGBImage, using g: inout SeededGenerator, coverage: (Int, Int, Int) -> Double) -> CutPatch {
        let side = min(size, image.width, image.height)
        var best: (x: Int, y: Int, coverage: Double) = (0, 0, -1)
        for _ in 0..<attempts {
            let x = g.integer(0, image.width - side), y = g.integer(0, image.height - side)
            let coverage = coverage(x, y, side)
            if coverage > best.coverage { best = (x, y, coverage) }
            if coverage >= minimumField { break }
        }
        return CutPatch(pixels: window(image, x: best.x, y: best.y, side: side), window: (best.x, best.y, side), boxIndex: nil, score: 0)
    }

    /// The square window at (x, y), resized to `size` when it is not already; also how the
    /// cropper cuts a 16-bit image at the window chosen on its 8-bit rendering.
    @_specialize(where Image == RGBImage)
    @_specialize(where Image == RGB16Image)
    public func window<Image: RGBRaster>(_ image: Image, x: Int, y: Int, side: Int) -> Image {
        let cut = Resize.crop(image, x: x, y: y, width: side, height: side)
        return side == size ? cut : Resize.bilinear(cut, width: size, height: size)
    }
}

@inline(__always) func clamp(_ v: Int, _ lo: Int, _ hi: Int) -> Int { max(lo, min(hi, v)) }
