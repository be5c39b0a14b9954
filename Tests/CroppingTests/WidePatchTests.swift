import Cropping
import Detection
import Foundation
import Images
import Testing
import Wire

/// A DICOM's patches are cut at 16 bits, at the window chosen on its 8-bit rendering.
@Suite struct WidePatchTests {
    @Test func aDicomGivesSixteenBitPatchesAtTheSameWindow() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/dicom")
        var cutter = PatchCutter()
        cutter.size = 16  // the fixture is 32 x 24
        let cropper = Cropper(dataRoot: fixtures, detector: ClassicalDetector(), cache: nil, cutter: cutter, imageSide: 0)
        let name = "mono1-12bit-rescaled-window.dcm"
        let patch = try cropper.handle(
            PatchRequest(id: WorkID(run: "w", step: 1, item: 3), imageID: name, path: name, level: .healthyLow, seed: 4))
        let wide = try #require(patch.pixels.uint16s())
        #expect(patch.pixels.dtype == .uint16 && patch.pixels.shape == [16, 16, 3])
        // The same window cut from the whole 16-bit image, and its 8-bit rendering within a level.
        let image = try ImageDecoder.decodeImage(contentsOf: fixtures.appendingPathComponent(name).path)
        let window = patch.provenance.window
        let expected = cutter.window(try #require(image.wide), x: Int(window.x), y: Int(window.y), side: Int(window.w))
        #expect(wide == expected.pixels)
        let narrow = cutter.window(image.rgb, x: Int(window.x), y: Int(window.y), side: Int(window.w))
        #expect(zip(wide, narrow.pixels).allSatisfy { abs(Int($0) / 257 - Int($1)) <= 1 })
        // Levels between two 8-bit ones survive (v % 257 != 0 is no 8-bit value scaled up).
        #expect(wide.contains { $0 % 257 != 0 })
    }
}
