import Augmentation
import Basics
import Foundation
import ImageOps
import Testing

/// Recipes as users write them: defaults, round trips, and clear refusals.
@Suite struct RecipeTests {
    @Test func defaultIsThePriorWorkRecipe() throws {
        let recipe = try Recipe(json: "")
        #expect(recipe.json() == Recipe.priorWork.json())
        #expect(
            recipe.ops.map { type(of: $0).name } == [
                "horizontal-flip", "vertical-flip", "color-jitter", "random-resized-crop", "random-affine", "random-grayscale",
            ])
        let jitter = try #require(recipe.ops[2] as? ColorJitter)
        #expect((jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue, jitter.p) == (0.4, 0.4, 0.4, 0.1, 1))
        let crop = try #require(recipe.ops[3] as? RandomResizedCrop)
        #expect(crop.size == 128 && crop.scale == 0.8...1.2 && crop.ratio == 0.8...1.2)
        let affine = try #require(recipe.ops[4] as? RandomAffine)
        #expect(affine.degrees == 180 && affine.translate == 0.2 && affine.interpolation == .nearest)
        #expect((recipe.ops[5] as? RandomGrayscale)?.p == 0.2)
        #expect(recipe.normalize == Normalize())
    }

    @Test func jsonRoundTripsEveryOp() throws {
        var blur = RandomGaussianBlur()
        blur.sigma = 0.5...1.5
        var degrade = FundusQualityDegradation()
        (degrade.severity, degrade.referenceHeight) = (.strong, 256)
        let recipe = Recipe(
            ops: [degrade] + Recipe.priorWork.ops + [blur], normalize: Normalize(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]))
        #expect(Set(recipe.ops.map { type(of: $0).name }) == Set(AugmentationOps.all.map { $0.name }))
        let again = try Recipe(json: recipe.json(pretty: true))
        #expect(again.json() == recipe.json())
        // Omitted parameters take the defaults.
        let short = try Recipe(json: #"{"ops": [{"op": "color-jitter", "hue": 0.2}]}"#)
        let jitter = try #require(short.ops.first as? ColorJitter)
        #expect(jitter.hue == 0.2 && jitter.brightness == 0.4 && short.normalize == nil)
    }

    @Test(arguments: [
        ("{", "not valid JSON"),
        (#"[{"op": "horizontal-flip"}]"#, "an object with an \"ops\" list"),
        (#"{"ops": [], "seed": 3}"#, "unknown key \"seed\""),
        (#"{"ops": [{"op": "sharpen"}]}"#, "op 1: unknown op \"sharpen\"; known: fundus-degradation"),
        (#"{"ops": [{"p": 0.5}]}"#, "op 1: each op is an object with an \"op\" name"),
        (
            #"{"ops": [{"op": "color-jitter", "brigthness": 0.3}]}"#,
            "op 1 (color-jitter): unknown parameter \"brigthness\"; color-jitter takes brightness, contrast, hue, p, saturation"
        ),
        (
            #"{"ops": [{"op": "vertical-flip"}, {"op": "color-jitter", "hue": 0.7}]}"#,
            "op 2 (color-jitter): hue must lie in [0.0, 0.5], got 0.7"
        ),
        (#"{"ops": [{"op": "random-grayscale", "p": "often"}]}"#, "op 1 (random-grayscale): p must be a number, got \"often\""),
        (#"{"ops": [{"op": "random-resized-crop", "scale": [1.2, 0.8]}]}"#, "scale must be [low, high] with low <= high"),
        (#"{"ops": [{"op": "random-resized-crop", "size": 64.5}]}"#, "size must be a whole number"),
        (
            #"{"ops": [{"op": "random-affine", "interpolation": "bicubic"}]}"#,
            "interpolation must be one of nearest, bilinear, got \"bicubic\""
        ),
        (#"{"ops": [{"op": "normalize", "std": [0.2, 0, 0.2]}]}"#, "std must hold three positive numbers"),
        (#"{"ops": [{"op": "normalize"}, {"op": "horizontal-flip"}]}"#, "op 2 (horizontal-flip): \"normalize\" must be the last op"),
        (#"{"ops": [{"op": "fundus-degradation", "severity": "awful"}]}"#, "severity must be one of mild, strong, any"),
    ])
    func badRecipesSayWhatIsWrong(_ json: String, _ message: String) {
        #expect {
            try Recipe(json: json)
        } throws: { error in
            "\(error)".contains(message)
                || {
                    Issue.record("\(error)"); return false
                }()
        }
    }

    @Test func presetsAndFilesLoad() throws {
        #expect(try Recipe.load("prior-work").json() == Recipe.priorWork.json())
        #expect(try Recipe.load("prior-work-degraded").ops.first is FundusQualityDegradation)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try #"{"name": "flips only", "ops": [{"op": "horizontal-flip", "p": 1}]}"#.write(to: file, atomically: true, encoding: .utf8)
        #expect(try Recipe.load(file.path).ops.count == 1)
        #expect(throws: Problem.self) { try Recipe.load("no-such-recipe") }
    }
}
