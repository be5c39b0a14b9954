import Images
import ImageOps
import Synchronization
import Wire

/// The augmenter's work: one AugmentRequest in, one ViewPair out (two views of the patch, drawn
/// from (seed, step, item, 0) and (seed, step, item, 1)). The recipe arrives with each request;
/// the last one parsed is kept, since a run sends the same text every time.
public final class Augmenter: Sendable {
    /// Patches larger than this are refused: they would stall a replica (a 128-px patch is the norm).
    public static let maxPatchSide = 1024
    /// Too small for any crop to make sense.
    public static let minPatchSide = 8

    private let lastRecipe = Mutex<(text: String, recipe: Recipe)?>(nil)

    public init() {}

    /// `fetched`: the patch, when the request names where a cropper keeps it (the service
    /// fetches it first).
    public func handle(_ request: AugmentRequest, patch fetched: Patch? = nil) throws -> ViewPair {
        let recipe = try recipe(for: request.recipe)
        guard let patch = fetched ?? request.patch else {
            throw WorkFailure(code: .badInput, "the request names where its patch is kept (\(request.id)), and no patch was fetched")
        }
        // The wire checks this on decode; a Patch built in-process has not been through it.
        guard [.uint8, .uint16].contains(patch.pixels.dtype), patch.pixels.shape.count == 3, patch.pixels.shape[2] == 3 else {
            throw WorkFailure(
                code: .badInput, "patch pixels must be uint8 or uint16 [H, W, 3], got \(patch.pixels.dtype) \(patch.pixels.shape)")
        }
        let (height, width) = (patch.pixels.shape[0], patch.pixels.shape[1])
        let sides = Self.minPatchSide...Self.maxPatchSide
        guard sides.contains(height), sides.contains(width) else {
            throw WorkFailure(
                code: .badInput, "patch of \(width)x\(height): each side must lie in \(sides.lowerBound)...\(sides.upperBound)")
        }
        // A 16-bit patch (DICOM, 16-bit PNG) keeps its precision into the float views.
        let image =
            if let wide = patch.pixels.uint16s() { FloatImage(try RGB16Image(width: width, height: height, pixels: wide)) } else {
                FloatImage(try RGBImage(width: width, height: height, pixels: patch.pixels.data))
            }
        let views = try (0..<2).map { view in
            try Self.tensor(
                recipe.view(of: image, seed: request.seed, step: patch.id.step, item: patch.id.item, view: view),
                normalize: recipe.normalize)
        }
        return ViewPair(id: patch.id, first: views[0], second: views[1], level: patch.level, provenance: patch.provenance)
    }

    /// The parsed recipe for `text`, from the one-entry cache when it is the last one seen.
    func recipe(for text: String) throws -> Recipe {
        if let cached = lastRecipe.withLock({ $0 }), cached.text == text { return cached.recipe }
        let recipe: Recipe
        do { recipe = try Recipe(json: text) } catch { throw WorkFailure(code: .badInput, "recipe: \(error)") }
        lastRecipe.withLock { $0 = (text, recipe) }
        return recipe
    }

    /// A view as the wire carries it: float32 [3, H, W] after normalisation, or uint8 [H, W, 3]
    /// when the recipe has none.
    public static func tensor(_ view: FloatImage, normalize: Normalize?) throws -> Tensor {
        if let normalize { return try Tensor(float32: normalize.planes(view), shape: [3, view.height, view.width]) }
        return try Tensor(uint8: view.rgbImage().pixels, shape: [view.height, view.width, 3])
    }
}
