/// torchvision's colour operations on float images (torchvision/transforms/functional_tensor.py,
/// 0.14: adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue, rgb_to_grayscale), in
/// float32 with the same formulas and clamping, so a recipe written for torchvision means the same
/// here (checked against Debian's torchvision by Tests/AugmentationTests/TorchvisionParityTests).
public enum ColorAdjust {
    /// rgb_to_grayscale's weights: ITU-R 601-2 luma as TensorFlow writes it (0.2989, not 0.299).
    public static let lumaWeights: (r: Float, g: Float, b: Float) = (0.2989, 0.587, 0.114)

    @inline(__always) static func luma(_ r: Float, _ g: Float, _ b: Float) -> Float {
        lumaWeights.r * r + lumaWeights.g * g + lumaWeights.b * b
    }

    /// torchvision's _blend: ratio * a + (1 - ratio) * b, clamped to [0, 1]; the two weights are
    /// rounded to float32 as torch does when it multiplies a float32 tensor by a Python scalar.
    @inline(__always) static func blend(_ a: Float, _ b: Float, ratio: Double) -> Float {
        min(1, max(0, Float(ratio) * a + Float(1 - ratio) * b))
    }

    /// Scales every channel by `factor` (blend with black).
    public static func brightness(_ image: inout FloatImage, factor: Double) {
        for i in image.pixels.indices { image.pixels[i] = blend(image.pixels[i], 0, ratio: factor) }
    }

    /// Blends with the mean grey level of the whole image.
    public static func contrast(_ image: inout FloatImage, factor: Double) {
        var sum: Double = 0
        for i in 0..<image.pixelCount {
            sum += Double(luma(image.pixels[3 * i], image.pixels[3 * i + 1], image.pixels[3 * i + 2]))
        }
        let mean = Float(sum / Double(image.pixelCount))
        for i in image.pixels.indices { image.pixels[i] = blend(image.pixels[i], mean, ratio: factor) }
    }

    /// Blends each pixel with its own grey level.
    public static func saturation(_ image: inout FloatImage, factor: Double) {
        for i in 0..<image.pixelCount {
            let p = 3 * i
            let grey = luma(image.pixels[p], image.pixels[p + 1], image.pixels[p + 2])
            for c in 0..<3 { image.pixels[p + c] = blend(image.pixels[p + c], grey, ratio: factor) }
        }
    }

    /// Rotates the hue by `shift` turns (in [-0.5, 0.5]) through HSV, as torchvision's _rgb2hsv /
    /// _hsv2rgb do (after Pillow's Convert.c); 16 pixels at a time (HueRotation).
    public static func hue(_ image: inout FloatImage, shift: Double) {
        HueRotation.apply(&image, shift: Float(shift))
    }

    /// Replaces every channel by the grey level (RandomGrayscale with 3 output channels).
    public static func grayscale(_ image: inout FloatImage) {
        for i in 0..<image.pixelCount {
            let p = 3 * i
            let grey = luma(image.pixels[p], image.pixels[p + 1], image.pixels[p + 2])
            (image.pixels[p], image.pixels[p + 1], image.pixels[p + 2]) = (grey, grey, grey)
        }
    }
}
