import Basics
import Cropping
import Domain
import ImageOps
import Images
import Synthetic
import Wire

/// Patches of each level cut from freshly rendered synthetic fundus images, for commands that
/// need realistic patches without a dataset (`comcl bench augmenter`, `show-views`): lesion levels are cut
/// around a painted lesion (Omega on the ground-truth boxes), healthy ones at random on the field
/// (RandC), and the low-quality levels come from degraded images.
enum SamplePatches {
    /// L, L~, H, H~.
    static let levels = Level.allCases

    /// One patch of synthetic image `index`, rendered to be of `level`.
    static func patch(level: Level, seed: UInt64, index: Int, imageSide: Int = 512) -> RGBImage {
        let lesion = level == .lesionHigh || level == .lesionLow
        let low = level == .lesionLow || level == .healthyLow
        let fundus = SyntheticFundus.render(
            seed: seed, index: index, size: imageSide, grade: lesion ? 3 : 0, degradation: low ? (index % 2 == 0 ? .mild : .strong) : nil)
        let image = fundus.image.rgbImage()
        var g = SeededGenerator(seed: seed, UInt64(index), 1)
        let cutter = PatchCutter()
        let cut =
            (lesion ? cutter.omega(image, boxes: fundus.lesions, using: &g) : nil)
            ?? cutter.random(image, field: FieldOfView(of: fundus.image), using: &g)
        return cut.pixels
    }

    /// `count` work items over the four levels, from `images` distinct images.
    static func requests(count: Int, images: Int, seed: UInt64, recipe: String) throws -> [AugmentRequest] {
        let cut = (0..<images).map { patch(level: levels[$0 % 4], seed: seed, index: $0) }
        return try (0..<count).map { item in
            let pixels = cut[item % images]
            let tensor = try Tensor(uint8: pixels.pixels, shape: [pixels.height, pixels.width, 3])
            let provenance = Provenance(
                imageID: "synthetic-\(item % images)", window: Box(x: 0, y: 0, w: 128, h: 128, score: 0), fromDetection: false)
            let patch = Patch(
                id: WorkID(run: "bench", step: UInt64(item / 64), item: UInt64(item)), pixels: tensor, level: levels[item % images % 4],
                provenance: provenance)
            return AugmentRequest(patch: patch, seed: seed, recipe: recipe)
        }
    }
}
