import Datasets
import Foundation
@testable import Detection
import ImageOps
import Images
import Synthetic
import Testing

@Suite struct DetectionMetricsTests {
    func box(_ x: Double, _ y: Double, _ size: Double, _ score: Double = 1, _ kind: String = "microaneurysm") -> LesionBox {
        LesionBox(x: x, y: y, width: size, height: size, score: score, lesionClass: kind)
    }

    @Test func hitCriterion() {
        let lesion = box(10, 10, 4)
        #expect(DetectionMetrics.hits(box(6, 6, 12, 1, "dark"), lesion))  // centre inside
        #expect(DetectionMetrics.hits(box(12, 12, 6, 1, "dark"), lesion))  // centre 2 px outside the box: still a hit
        #expect(!DetectionMetrics.hits(box(6, 6, 12, 1, "bright"), lesion))  // wrong family
        #expect(!DetectionMetrics.hits(box(30, 30, 4, 1, "dark"), lesion))
    }

    @Test func precisionRecallAndAPByHand() {
        // Image a: lesions A1, A2; image b: lesion B1. Detections by score:
        // 0.9 hits A1, 0.8 misses, 0.7 hits A1 again, 0.6 hits B1, 0.3 hits A2.
        let truth = ["a": [box(0, 0, 4), box(50, 50, 4)], "b": [box(20, 20, 4)]]
        let detections = [
            "a": [box(0, 0, 4, 0.9, "dark"), box(90, 90, 4, 0.8, "dark"), box(1, 1, 4, 0.7, "dark"), box(50, 50, 4, 0.3, "dark")],
            "b": [box(20, 20, 4, 0.6, "dark")],
        ]
        let s = DetectionMetrics.evaluate(images: ["a", "b"], detections: detections, truth: truth, threshold: 0.5)
        #expect(s.detections == 4 && s.hits == 3 && s.lesions == 3 && s.found == 2)
        // Ranked: (R, P) = (1/3, 1), (1/3, 1/2), (1/3, 2/3), (2/3, 3/4), (1, 4/5); the interpolated
        // precision is 1 up to recall 1/3, then 4/5: AP = 1/3 * 1 + 1/3 * 4/5 + 1/3 * 4/5.
        #expect(abs(s.averagePrecision - (1.0 / 3 + 2.0 / 3 * 0.8)) < 1e-12)
        #expect(DetectionMetrics.evaluate(images: ["a"], detections: [:], truth: truth, threshold: 0.5).averagePrecision == 0)
    }
}

@Suite struct ClassicalDetectorTests {
    @Test func findsSyntheticLesionsOnGoodImages() throws {
        let detector = ClassicalDetector()
        var detections: [String: [LesionBox]] = [:], truth: [String: [LesionBox]] = [:]
        for (index, grade) in [(0, 3), (1, 2), (2, 4), (3, 1), (4, 0)] {
            let fundus = SyntheticFundus.render(seed: 21, index: index, size: 384, grade: grade, degradation: nil)
            detections["\(index)"] = try detector.detect(fundus.image.rgbImage(), imageID: "\(index)")
            truth["\(index)"] = fundus.lesions
        }
        let score = DetectionMetrics.evaluate(images: (0..<5).map(String.init), detections: detections, truth: truth, threshold: 0.5)
        #expect(score.lesions > 20)
        #expect(score.recall > 0.75 && score.precision > 0.5, "precision \(score.precision), recall \(score.recall)")
        #expect(score.averagePrecision > 0.6)
        for boxes in detections.values {
            for b in boxes { #expect(b.x >= 0 && b.y >= 0 && b.x + b.width <= 384 && b.y + b.height <= 384 && (0...1).contains(b.score)) }
        }
        // Deterministic.
        let again = try detector.detect(
            SyntheticFundus.render(seed: 21, index: 0, size: 384, grade: 3, degradation: nil).image.rgbImage(), imageID: "0")
        #expect(again == detections["0"])
    }

    @Test func blankAndTinyImagesGiveNothing() throws {
        let detector = ClassicalDetector()
        #expect(
            try detector.detect(try RGBImage(width: 64, height: 48, pixels: [UInt8](repeating: 0, count: 64 * 48 * 3)), imageID: "black")
                .isEmpty)
        #expect(
            try detector.detect(try RGBImage(width: 64, height: 64, pixels: [UInt8](repeating: 128, count: 64 * 64 * 3)), imageID: "grey")
                .isEmpty)
        #expect(try detector.detect(try RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 200, count: 12)), imageID: "tiny").isEmpty)
        #expect(try detector.detect(try RGBImage(width: 1, height: 5, pixels: [UInt8](repeating: 200, count: 15)), imageID: "line").isEmpty)
    }
}

/// The built-in detector on the real photos we can ship (Tests/Fixtures/detection/real), at the
/// size training detects at (the detector/cropper shrinks to a 512-px shorter side).
@Suite struct RealPhotoDetectionTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/detection/real")

    static func detect(_ name: String) throws -> [LesionBox] {
        let image = try ImageDecoder.decode(contentsOf: folder.appendingPathComponent(name).path)
        return try ClassicalDetector().detect(Resize.shorterSide(image, atMost: 512), imageID: name).filter { $0.score > 0.5 }
    }

    @Test func aHealthyEyeGivesNoLesionAtTheDefaultConfidence() throws {
        #expect(try Self.detect("retina.jpg").isEmpty)
    }

    @Test func bothMicroaneurysmsAndNothingElse() throws {
        let found = try Self.detect("microaneurysms.png")
        let lesions = [(16.0, 23.0), (49.0, 71.0)]
        #expect(found.count == 2, "\(found)")
        for (x, y) in lesions {
            #expect(
                found.contains { $0.x <= x && x <= $0.x + $0.width && $0.y <= y && y <= $0.y + $0.height && $0.lesionClass == "dark" },
                "no box on (\(x), \(y)): \(found)")
        }
    }
}
