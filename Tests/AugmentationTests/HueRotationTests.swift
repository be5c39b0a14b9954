import ImageOps
import Testing

/// The hue rotation works on 16 pixels at a time; TorchvisionParityTests checks its values. These
/// check what a block layout could get wrong: a short last block, a pixel's result depending on
/// its neighbours, and a hue that rounds to a full turn.
@Suite struct HueRotationTests {
    static func image(width: Int, height: Int) -> FloatImage {
        var image = FloatImage(width: width, height: height)
        var generator = SystemRandomNumberGenerator()
        for i in image.pixels.indices { image.pixels[i] = Float.random(in: 0...1, using: &generator) }
        return image
    }

    /// Each pixel comes out as it would alone, whatever its place in a block (37 = 2 x 16 + 5).
    @Test(arguments: [1, 15, 16, 17, 37])
    func pixelsAreIndependent(width: Int) {
        let image = Self.image(width: width, height: 3)
        var whole = image
        ColorAdjust.hue(&whole, shift: 0.23)
        for i in 0..<image.pixelCount {
            var alone = FloatImage(width: 1, height: 1)
            alone.pixels = Array(image.pixels[3 * i..<3 * i + 3])
            ColorAdjust.hue(&alone, shift: 0.23)
            #expect(alone.pixels == Array(whole.pixels[3 * i..<3 * i + 3]), "pixel \(i) of \(width)x3")
        }
    }

    /// Red with a trace of blue has a hue just below one turn: h * 6 rounds to 6, the sector
    /// after 5, which is sector 0 again. A zero shift must leave such a pixel, and any, in place.
    @Test func zeroShiftKeepsColours() {
        var image = Self.image(width: 20, height: 2)
        (image.pixels[0], image.pixels[1], image.pixels[2]) = (1, 0, 1e-8)
        var shifted = image
        ColorAdjust.hue(&shifted, shift: 0)
        for (a, b) in zip(image.pixels, shifted.pixels) { #expect(abs(a - b) <= 2e-6) }
    }

    /// A full turn is no turn, and a shift beyond one turn is taken modulo one.
    @Test func shiftsWrapAround() {
        let image = Self.image(width: 9, height: 4)
        var quarter = image, again = image
        ColorAdjust.hue(&quarter, shift: 0.25)
        ColorAdjust.hue(&again, shift: 1.25)
        for (a, b) in zip(quarter.pixels, again.pixels) { #expect(abs(a - b) <= 2e-6) }
    }
}
