import Augmentation
import Basics
import Foundation
import ImageOps
import Images
import Synthetic
import Testing
import Wire

/// Views as the augmenter makes them: seeded, shaped, and each op doing what it says.
@Suite struct ViewTests {
    /// A 128-px patch of a synthetic fundus image with part of the black surround in it.
    static let patch: FloatImage = {
        let fundus = SyntheticFundus.render(seed: 3, index: 1, size: 256, grade: 3, degradation: nil)
        return fundus.image.cropped(x: 0, y: 64, width: 128, height: 128)
    }()

    @Test func viewsDependOnlyOnSeedStepItemAndView() {
        let recipe = Recipe.priorWorkDegraded
        let a = recipe.view(of: Self.patch, seed: 9, step: 4, item: 17, view: 0)
        _ = recipe.view(of: Self.patch, seed: 9, step: 4, item: 18, view: 1)
        #expect(recipe.view(of: Self.patch, seed: 9, step: 4, item: 17, view: 0) == a)
        #expect(recipe.view(of: Self.patch, seed: 9, step: 4, item: 17, view: 1) != a)
        #expect(recipe.view(of: Self.patch, seed: 9, step: 5, item: 17, view: 0) != a)
        #expect(recipe.view(of: Self.patch, seed: 10, step: 4, item: 17, view: 0) != a)
        #expect(a.width == 128 && a.height == 128)
    }

    @Test func resizedCropWindowsFollowTorchvisionsRule() {
        let crop = RandomResizedCrop()
        var g = SeededGenerator(seed: 1)
        var whole = 0
        let draws = 4000
        for _ in 0..<draws {
            let w = crop.window(width: 128, height: 128, using: &g)
            #expect(w.x >= 0 && w.y >= 0 && w.x + w.width <= 128 && w.y + w.height <= 128)
            // Area shares above 1 never fit, so accepted windows cover 0.8-1.0 (rounding aside).
            let share = Double(w.width * w.height) / (128 * 128)
            #expect(share >= 0.78 && share <= 1, "\(w)")
            if (w.width, w.height) == (128, 128) { whole += 1 }
        }
        // The same rule simulated in Python (20,000 draws) gives 4.0 % whole-patch windows.
        #expect((0.025...0.06).contains(Double(whole) / Double(draws)), "\(whole) whole-patch windows of \(draws)")
        // After ten misses torchvision falls back to a central crop with the ratio clamped
        // (128/100 > 1.2, so 120 x 100).
        var tooBig = RandomResizedCrop()
        tooBig.scale = 1.1...1.2
        let fallback = tooBig.window(width: 128, height: 100, using: &g)
        #expect(fallback == (4, 0, 120, 100))
    }

    @Test func flipsAndIdentityAffine() {
        var g = SeededGenerator(seed: 2)
        var image = Self.patch
        RandomHorizontalFlip(p: 1).apply(to: &image, using: &g)
        #expect(image.pixels[0..<3] == Self.patch.pixels[3 * 127..<3 * 128])
        RandomHorizontalFlip(p: 1).apply(to: &image, using: &g)
        RandomVerticalFlip(p: 0).apply(to: &image, using: &g)
        #expect(image == Self.patch)
        var still = RandomAffine()
        (still.degrees, still.translate) = (0, 0)
        still.apply(to: &image, using: &g)
        #expect(image == Self.patch)
    }

    @Test func degradationStaysInsideTheFieldAndScalesWithTheSourceImage() {
        var op = FundusQualityDegradation()
        (op.p, op.severity) = (1, .strong)
        let field = FieldOfView(of: Self.patch)
        #expect(field.mask.contains(0), "the test patch should hold some black surround")
        var changed = 0
        for item in 0..<6 {
            var g = SeededGenerator(seed: 5, UInt64(item))
            var image = Self.patch
            op.apply(to: &image, using: &g)
            for i in 0..<image.pixelCount where field.mask[i] == 0 {
                #expect(image.pixels[3 * i..<3 * i + 3] == Self.patch.pixels[3 * i..<3 * i + 3])
            }
            if image != Self.patch { changed += 1 }
        }
        #expect(changed == 6)
        // The same blur draw is stronger on a patch of a larger image (sigma is a share of its height).
        let blur = FundusDegradation(blur: 10 / 512)
        var small = Self.patch, large = Self.patch
        blur.apply(to: &small, field: field, referenceHeight: 128)
        blur.apply(to: &large, field: field, referenceHeight: 512)
        #expect(Self.roughness(large) < Self.roughness(small))
    }

    /// Mean absolute difference between horizontal neighbours: falls as blur grows.
    static func roughness(_ image: FloatImage) -> Float {
        var total: Float = 0
        for y in 0..<image.height {
            for x in 1..<image.width {
                total += abs(image.pixels[3 * (y * image.width + x) + 1] - image.pixels[3 * (y * image.width + x - 1) + 1])
            }
        }
        return total / Float(image.pixelCount)
    }

    /// A 16-bit patch (cut from a DICOM or a 16-bit PNG) keeps its precision into the views: the
    /// same image at 16 bits (v * 257) gives the 8-bit patch's views, and levels between two
    /// 8-bit ones survive into the normalised floats.
    @Test func sixteenBitPatchesKeepTheirPrecision() throws {
        let eight = Self.patch.rgbImage().pixels
        let id = WorkID(run: "t", step: 2, item: 5)
        let provenance = Provenance(imageID: "img", window: Box(x: 0, y: 0, w: 128, h: 128, score: 0), fromDetection: false)
        func first(_ pixels: Tensor) throws -> [Float] {
            try Augmenter().handle(AugmentRequest(patch: Patch(id: id, pixels: pixels, level: .lesionLow, provenance: provenance), seed: 1))
                .first.floats()!
        }
        let narrow = try first(try Tensor(uint8: eight, shape: [128, 128, 3]))
        let wide = try first(try Tensor(uint16: eight.map { UInt16($0) * 257 }, shape: [128, 128, 3]))
        #expect(zip(narrow, wide).map { abs($0 - $1) }.max()! < 1e-5)
        // A ramp over 4,096 16-bit levels: the identity recipe shows them all (an 8-bit patch, 256 at most).
        let ramp = (0..<(128 * 128)).flatMap { i in [UInt16](repeating: UInt16(i % 4096) * 16, count: 3) }
        let plain = #"{"ops": [{"op": "normalize", "mean": [0, 0, 0], "std": [1, 1, 1]}]}"#
        let views = try Augmenter().handle(
            AugmentRequest(
                patch: Patch(id: id, pixels: try Tensor(uint16: ramp, shape: [128, 128, 3]), level: .lesionLow, provenance: provenance),
                seed: 1, recipe: plain))
        #expect(Set(views.first.floats()!).count == 4096)
    }

    @Test func augmenterAnswersWithTwoViewsOrAClearError() throws {
        let pixels = try Tensor(uint8: Self.patch.rgbImage().pixels, shape: [128, 128, 3])
        let id = WorkID(run: "t", step: 2, item: 5)
        var provenance = Provenance(imageID: "img", window: Box(x: 0, y: 64, w: 128, h: 128, score: 0), fromDetection: false)
        provenance.imagePath = "img.png"
        let patch = Patch(id: id, pixels: pixels, level: .healthyLow, provenance: provenance)
        let augmenter = Augmenter()
        let pair = try augmenter.handle(AugmentRequest(patch: patch, seed: 1))
        #expect(pair.id == id && pair.level == .healthyLow && pair.provenance == provenance)
        #expect(pair.first.dtype == .float32 && pair.first.shape == [3, 128, 128] && pair.first != pair.second)
        // The first view is the recipe's view 0, normalised, channel first.
        let view = Recipe.priorWork.view(
            of: FloatImage(try RGBImage(width: 128, height: 128, pixels: pixels.data)), seed: 1, step: 2, item: 5, view: 0)
        #expect(pair.first.floats() == Normalize().planes(view))
        // Without normalisation the views travel as 8-bit RGB.
        let raw = try augmenter.handle(AugmentRequest(patch: patch, seed: 1, recipe: #"{"ops": [{"op": "random-grayscale", "p": 1}]}"#))
        #expect(raw.first.dtype == .uint8 && raw.first.shape == [128, 128, 3] && raw.first == raw.second)
        #expect(raw.first.data[0] == raw.first.data[1] && raw.first.data[1] == raw.first.data[2])

        #expect {
            try augmenter.handle(AugmentRequest(patch: patch, seed: 1, recipe: #"{"ops": [{"op": "sharpen"}]}"#))
        } throws: { ($0 as? WorkFailure)?.code == .badInput && "\($0)".contains("recipe: op 1: unknown op \"sharpen\"") }
        let tiny = Patch(
            id: id, pixels: try Tensor(uint8: [UInt8](repeating: 9, count: 4 * 4 * 3), shape: [4, 4, 3]), level: .lesionHigh,
            provenance: provenance)
        #expect {
            try augmenter.handle(AugmentRequest(patch: tiny, seed: 1))
        } throws: { ($0 as? WorkFailure)?.code == .badInput && "\($0)".contains("patch of 4x4") }
        let grey = Patch(
            id: id, pixels: try Tensor(uint8: [UInt8](repeating: 9, count: 64 * 64), shape: [64, 64]), level: .lesionHigh,
            provenance: provenance)
        #expect {
            try augmenter.handle(AugmentRequest(patch: grey, seed: 1))
        } throws: { ($0 as? WorkFailure)?.code == .badInput && "\($0)".contains("must be uint8 or uint16 [H, W, 3], got uint8 [64, 64]") }
    }
}
