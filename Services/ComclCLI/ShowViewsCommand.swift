import Augmentation
import ArgumentParser
import Foundation
import ImageOps
import Images
import Wire

/// `comcl show-views`: what a recipe does to a patch. One row per patch: the patch, then its
/// views exactly as the augmenter draws them for items 0, 1, ... (before normalisation).
struct ShowViewsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show-views",
        abstract: "Write a PNG grid of patches (first column) and several of their augmented views.")

    @Option(
        name: .customLong("patch"),
        help: "A patch image (PNG or JPEG, sides 8...1024); repeat for more rows. Default: one synthetic patch per level (L, L~, H, H~).")
    var patches: [String] = []
    @Option(help: "Recipe: a preset (\(Recipe.presetNames)) or a JSON file.") var recipe = "prior-work"
    @Option(help: "Views per patch.") var views = 6
    @Option(help: "Run seed the views are drawn from.") var seed: UInt64 = 1
    @Option(help: "Output PNG.") var out = "views.png"

    func validate() throws {
        guard (1...32).contains(views) else { throw ValidationError("--views must lie in 1...32") }
    }

    func run() throws {
        let chosen: Recipe
        do { chosen = try Recipe.load(recipe) } catch { throw ValidationError("--recipe: \(error)") }
        var rows: [RGBImage] = []
        if patches.isEmpty {
            rows = SamplePatches.levels.enumerated().map { SamplePatches.patch(level: $1, seed: seed, index: $0) }
        } else {
            for path in patches {
                let image: RGBImage
                do { image = try ImageDecoder.decode(contentsOf: path) } catch { throw ValidationError("\(path): \(error)") }
                let sides = Augmenter.minPatchSide...Augmenter.maxPatchSide
                guard sides.contains(image.width), sides.contains(image.height) else {
                    throw ValidationError(
                        "\(path): \(image.width)x\(image.height); each side must lie in \(sides.lowerBound)...\(sides.upperBound)")
                }
                rows.append(image)
            }
        }
        // View k of a row is view 0 of item k: the views users will see in training.
        let grid = rows.enumerated().map { row, patch in
            let source = FloatImage(patch)
            return [patch]
                + (0..<views).map { item in
                    chosen.view(of: source, seed: seed, step: UInt64(row), item: UInt64(item), view: 0).rgbImage()
                }
        }
        try Data(try PNGEncoder.encode(ImageGrid.compose(grid))).write(to: URL(fileURLWithPath: out))
        let labels = patches.isEmpty ? "rows L, L~, H, H~ (synthetic)" : "\(rows.count) rows"
        print("\(labels): the patch, then \(views) views of recipe \(recipe) -> \(out)")
    }
}
