import Foundation
import Images
import TestSupport
import Testing

/// DICOM through GDCM against pydicom's rendering (Tests/Fixtures/dicom/make_dicom_fixtures.py):
/// files made with each photometric interpretation and display rule, and a real CR chest
/// radiograph (pydicom-data's RG1_J2KR.dcm: JPEG 2000, MONOCHROME1, 15 bits).
@Suite struct DicomTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/dicom")

    struct Rendering: Decodable {
        var width: Int, height: Int
        var values: [Float]
        var photometric: String?
        var sha256: String?, step: Int?, mean: Double?
    }

    struct Expected: Decodable {
        var made: [String: Rendering]
        var real: [String: Rendering]
    }

    static let expected: Expected = try! JSONDecoder().decode(
        Expected.self, from: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))

    /// Our display value in [0, 1] of each sample: 16-bit samples over 65535, 8-bit over 255.
    static func shown(_ image: DecodedImage) -> [Float] {
        image.wide.map { $0.pixels.map { Float($0) / 65535 } } ?? image.rgb.pixels.map { Float($0) / 255 }
    }

    @Test(arguments: expected.made.keys.sorted())
    func madeFilesMatchPydicom(_ name: String) throws {
        let want = Self.expected.made[name]!
        let image = try ImageDecoder.decodeImage(contentsOf: Self.fixtures.appendingPathComponent(name).path)
        #expect(image.rgb.width == want.width && image.rgb.height == want.height)
        let grey = want.values.count == want.width * want.height
        let ours = Self.shown(image)
        let got = grey ? stride(from: 0, to: ours.count, by: 3).map { ours[$0] } : ours
        // 16 bits hold a value to 1/131070; YBR to RGB rounds to 8 bits in GDCM and pydicom alike,
        // but each rounds its own way (one level).
        let tolerance: Float = name.hasPrefix("ybr") ? 1.01 / 255 : grey ? 2e-5 : 1e-6
        let worst = zip(got, want.values).map { abs($0 - $1) }.max() ?? .infinity
        #expect(got.count == want.values.count && worst <= tolerance, "\(name): largest difference \(worst)")
        if grey { #expect(image.wide != nil, "\(name): a greyscale DICOM keeps 16 bits") }
    }

    @Test func realChestRadiographMatchesPydicom() throws {
        let want = Self.expected.real["RG1_J2KR.dcm"]!
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: DicomSamples.path("RG1_J2KR.dcm"))))
        let image = try ImageDecoder.decodeImage(bytes)
        #expect(image.window == DisplayWindow(centre: 15000, width: 30000))
        let wide = try #require(image.wide)
        #expect(wide.width == want.width && wide.height == want.height)
        let step = want.step!
        var worst: Float = 0
        var index = 0
        for y in stride(from: 0, to: wide.height, by: step) {
            for x in stride(from: 0, to: wide.width, by: step) {
                worst = max(worst, abs(Float(wide.pixels[(y * wide.width + x) * 3]) / 65535 - want.values[index]))
                index += 1
            }
        }
        #expect(index == want.values.count && worst <= 2e-5, "largest difference \(worst)")
        let mean =
            stride(from: 0, to: wide.pixels.count, by: 3).reduce(0.0) { $0 + Double(wide.pixels[$1]) / 65535 }
            / Double(wide.width * wide.height)
        #expect(abs(mean - want.mean!) < 1e-5, "mean \(mean) against pydicom's \(want.mean!)")
    }

    /// The window rules on their own: the file's window when valid, the percentile window otherwise.
    @Test func invalidWindowsAreRefused() {
        #expect(DisplayWindow.fromFile(centre: 40, width: 0.5, function: "") == nil)
        #expect(DisplayWindow.fromFile(centre: 40, width: 0, function: "LINEAR_EXACT") == nil)
        #expect(DisplayWindow.fromFile(centre: 40, width: 0.5, function: "linear_exact")?.function == .linearExact)
        let flat = DisplayWindow.percentile(of: [Float](repeating: 7, count: 100))
        #expect(flat.apply(7) == 0 && flat.apply(8) == 1)
    }

    /// A damaged file is one sentence, never a crash: every cut of a real file and a multi-frame file.
    @Test func damagedAndMultiFrameFilesAreErrors() throws {
        let whole = [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent("mono1-12bit-rescaled-window.dcm")))
        for length in stride(from: 132, to: whole.count - 1, by: 97) {
            #expect(throws: ImageError.self, "cut at \(length) bytes decoded") {
                _ = try ImageDecoder.decodeImage(Array(whole.prefix(length)))
            }
        }
        let frames = [UInt8](try Data(contentsOf: URL(fileURLWithPath: DicomSamples.path("emri_small.dcm"))))
        #expect { _ = try ImageDecoder.decodeImage(frames) } throws: { error in
            "\(error)".contains("multi-frame DICOM (10 frames)")
        }
    }
}
