import Basics
@testable import Cropping
import Datasets
import ImageOps
import Images
import Testing

/// Omega and RandC on in-memory images (the service test cuts real files through real processes).
@Suite struct PatchCutterTests {
    /// A 300x200 image whose pixel (x, y) encodes its coordinates, so a patch tells where it was cut.
    let image: RGBImage = {
        var pixels: [UInt8] = []
        for y in 0..<200 { for x in 0..<300 { pixels += [UInt8(x % 256), UInt8(y), UInt8(x / 256 + 1)] } }
        return try! RGBImage(width: 300, height: 200, pixels: pixels)
    }()

    func origin(_ patch: RGBImage) -> (Int, Int) { (Int(patch.pixels[0]) + 256 * (Int(patch.pixels[2]) - 1), Int(patch.pixels[1])) }

    @Test func omegaCentresShiftsAndResizes() throws {
        var g = SeededGenerator(seed: 1)
        let cutter = PatchCutter()
        // A small box in the middle: the window is centred on it.
        var cut = cutter.omega(image, boxes: [LesionBox(x: 140, y: 90, width: 10, height: 20, score: 0.9, lesionClass: "dark")], using: &g)!
        #expect(cut.window == (81, 36, 128) && origin(cut.pixels) == (81, 36) && cut.boxIndex == 0)
        // Near a corner: shifted to stay inside, still containing the box.
        cut = cutter.omega(image, boxes: [LesionBox(x: 290, y: 2, width: 6, height: 6, score: 0.9, lesionClass: "dark")], using: &g)!
        #expect(cut.window == (172, 0, 128))
        // Larger than 128: its enclosing square, resized to 128.
        cut = cutter.omega(image, boxes: [LesionBox(x: 20, y: 10, width: 150, height: 90, score: 0.9, lesionClass: "dark")], using: &g)!
        #expect(cut.window == (20, 0, 150))
        #expect(cut.pixels.width == 128 && cut.pixels.height == 128)
        // Only boxes above the confidence count; none gives nil.
        let weak = [LesionBox(x: 10, y: 10, width: 5, height: 5, score: 0.5, lesionClass: "dark")]
        #expect(cutter.omega(image, boxes: weak, using: &g) == nil)
        var picks = Set<Int>()
        let boxes = [
            weak[0], LesionBox(x: 50, y: 50, width: 5, height: 5, score: 0.8, lesionClass: "dark"),
            LesionBox(x: 200, y: 100, width: 5, height: 5, score: 0.6, lesionClass: "bright"),
        ]
        for _ in 0..<40 { picks.insert(cutter.omega(image, boxes: boxes, using: &g)!.boxIndex!) }
        #expect(picks == [1, 2])
    }

    @Test func randomCropsStayOnTheField() throws {
        // A fundus-like disc: field only inside radius 90 of (150, 100).
        var pixels = [UInt8](repeating: 0, count: 300 * 200 * 3)
        for y in 0..<200 {
            for x in 0..<300 where (x - 150) * (x - 150) + (y - 100) * (y - 100) < 95 * 95 {
                pixels[(y * 300 + x) * 3] = 200
            }
        }
        let disc = try RGBImage(width: 300, height: 200, pixels: pixels)
        let field = FieldOfView(of: FloatImage(disc))
        var cutter = PatchCutter()
        cutter.size = 64
        var g = SeededGenerator(seed: 3)
        var windows = Set<Int>()
        for _ in 0..<50 {
            let cut = cutter.random(disc, field: field, using: &g)
            #expect(field.coverage(x: cut.window.x, y: cut.window.y, width: 64, height: 64) >= 0.8)
            windows.insert(cut.window.x * 1000 + cut.window.y)
        }
        #expect(windows.count > 30, "random crops should vary")
        // The same generator state gives the same crop.
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        #expect(cutter.random(disc, field: field, using: &a) == cutter.random(disc, field: field, using: &b))
    }

    /// Reading the field window by window decides every pixel as the whole image's mask does:
    /// the same coverage for any window (partly outside the image too) and the same cuts.
    @Test func windowCoverageIsTheMasks() throws {
        var g = SeededGenerator(seed: 11)
        // Bytes around the threshold (20/255 lies between 5 and 6) and well above it.
        let pixels = (0..<(120 * 90 * 3)).map { _ in UInt8(g.integer(0, 3) == 0 ? g.integer(0, 255) : g.integer(0, 12)) }
        let image = try RGBImage(width: 120, height: 90, pixels: pixels)
        let field = FieldOfView(of: image)
        for _ in 0..<200 {
            let (x, y, w, h) = (g.integer(-20, 110), g.integer(-20, 80), g.integer(21, 60), g.integer(21, 60))
            #expect(FieldOfView.coverage(of: image, x: x, y: y, width: w, height: h) == field.coverage(x: x, y: y, width: w, height: h))
        }
        var cutter = PatchCutter()
        cutter.size = 32
        for seed in 0..<20 as Range<UInt64> {
            var a = SeededGenerator(seed: seed), b = SeededGenerator(seed: seed)
            #expect(cutter.random(image, using: &a) == cutter.random(image, field: field, using: &b))
        }
    }

    /// Against Pillow's BILINEAR resize (values printed by Pillow 9.4, Debian 12), within 1 grey
    /// level (Pillow rounds its weights to fixed point).
    @Test func resizeMatchesPillow() throws {
        var checkerPixels: [UInt8] = []
        for i in 0..<64 {
            let v: UInt8 = (i % 8 + i / 8) % 2 == 0 ? 0 : 200
            checkerPixels += [v, v, v]
        }
        let checker = try RGBImage(width: 8, height: 8, pixels: checkerPixels)
        let small = Resize.bilinear(checker, width: 4, height: 4)
        let pillowChecker: [Int] = [98, 100, 100, 102, 100, 100, 100, 100, 100, 100, 100, 100, 102, 100, 100, 98]
        expectClose((0..<16).map { Int(small.pixels[3 * $0]) }, pillowChecker)
        // np.arange(5 * 7 * 3) * 2 as a 7x5 image, shrunk to 3x2 and grown to 11x9 (row 4).
        let ramp = try RGBImage(width: 7, height: 5, pixels: (0..<105).map { UInt8($0 * 2) })
        expectClose(
            Resize.bilinear(ramp, width: 3, height: 2).pixels.map(Int.init),
            [47, 49, 51, 60, 62, 64, 73, 75, 77, 131, 133, 135, 144, 146, 148, 157, 159, 161])
        let grown = Resize.bilinear(ramp, width: 11, height: 9)
        expectClose(
            Array(grown.pixels[(4 * 11 * 3)..<(5 * 11 * 3)]).map(Int.init),
            [
                84, 86, 88, 87, 89, 91, 91, 93, 95, 94, 96, 98, 98, 100, 102, 102, 104, 106, 106, 108, 110, 110, 112, 114,
                113, 115, 117, 117, 119, 121, 120, 122, 124,
            ])
        #expect(Resize.shorterSide(checker, atMost: 16) == checker)
        #expect(Resize.shorterSide(image, atMost: 100).width == 150)
    }

    func expectClose(_ got: [Int], _ expected: [Int], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == expected.count, sourceLocation: sourceLocation)
        let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1, "got \(got), Pillow \(expected)", sourceLocation: sourceLocation)
    }
}
