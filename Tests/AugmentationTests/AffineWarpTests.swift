import ImageOps
import Testing

/// TorchvisionParityTests checks the warp's values; this checks what lies far outside: a
/// translation beyond any integer conversion once trapped, and must give black instead.
@Suite struct AffineWarpTests {
    @Test(arguments: [AffineWarp.Interpolation.nearest, .bilinear])
    func farTranslationGivesBlack(_ interpolation: AffineWarp.Interpolation) {
        let image = FloatImage(width: 8, height: 6, fill: (0.5, 0.25, 1))
        for shift in [1e30, -1e30, 5e6] {
            let out = AffineWarp.apply(image, degrees: 30, translateX: shift, translateY: -shift, interpolation: interpolation)
            #expect(out.pixels.allSatisfy { $0 == 0 }, "\(interpolation), shift \(shift)")
        }
        // No motion keeps the image (bilinear to the float32 rounding of the sampling grid).
        let kept = AffineWarp.apply(image, degrees: 0, translateX: 0, translateY: 0, interpolation: interpolation)
        for (a, b) in zip(kept.pixels, image.pixels) { #expect(abs(a - b) <= (interpolation == .nearest ? 0 : 1e-6)) }
    }
}
