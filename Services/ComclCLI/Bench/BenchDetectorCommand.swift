import ArgumentParser
import Basics
import Datasets
import Detection
import Domain
import Foundation
import Images

/// `comcl bench detector`: the built-in detector against a synthetic set's ground truth.
struct BenchDetectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detector",
        abstract:
            "Precision, recall and AP of the built-in lesion detector against a dataset's lesions.csv, separately on high- and low-quality images."
    )

    @Option(help: "Dataset folder with labels.csv, lesions.csv and images/ (as `comcl synth` writes).") var data: String
    @Option(help: "Confidence threshold for precision and recall (prior work keeps boxes with confidence > 0.5).") var conf = 0.5
    @Option(help: "Use only the first N images (0 = all).") var limit = 0
    @Option(help: "Threads.") var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        let folder = URL(fileURLWithPath: data)
        let manifest = try Manifest.load(ManifestOptions(format: .eyeq, labels: folder.appendingPathComponent("labels.csv").path))
        let truth = try LesionBoxFile.read(folder.appendingPathComponent("lesions.csv").path)
        let entries = limit > 0 ? Array(manifest.entries.prefix(limit)) : manifest.entries
        let detector = ClassicalDetector()
        let start = Date()
        let detections = try DetectionRunner.run(detector, on: entries.map { manifest.url(of: $0).path }, threads: threads)
        let seconds = Date().timeIntervalSince(start)
        var byImage: [String: [LesionBox]] = [:]
        for (entry, boxes) in zip(entries, detections) { byImage[entry.image] = boxes }

        print("detector: \(detector.identity)")
        print(
            String(
                format: "%d images in %.1f s (%.0f ms per image, %d threads); conf > %.2f for precision and recall", entries.count, seconds,
                1000 * seconds / Double(entries.count), threads, conf))
        print("quality  family  images  lesions  detections  precision  recall     AP")
        for (name, quality) in [("high", ImageQuality.high), ("low", .low)] {
            let images = entries.filter { $0.quality == quality }.map(\.image)
            for family in [nil, LesionFamily.dark, .bright] {
                let s = DetectionMetrics.evaluate(images: images, detections: byImage, truth: truth, threshold: conf, family: family)
                print(
                    name.padded(to: 8) + (family?.rawValue ?? "all").padded(to: 7)
                        + String(
                            format: " %6d  %7d  %10d  %9.3f  %6.3f  %5.3f", s.images, s.lesions, s.detections, s.precision, s.recall,
                            s.averagePrecision))
            }
        }
        // How precision trades against recall, to choose --conf (or a detector's score scale).
        print("threshold sweep, high-quality images: family   conf  precision  recall")
        let high = entries.filter { $0.quality == .high }.map(\.image)
        for family in [LesionFamily.dark, .bright] {
            for threshold in [0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98] {
                let s = DetectionMetrics.evaluate(images: high, detections: byImage, truth: truth, threshold: threshold, family: family)
                print(
                    String(repeating: " ", count: 38) + family.rawValue.padded(to: 7)
                        + String(format: "%6.2f  %9.3f  %6.3f", threshold, s.precision, s.recall))
            }
        }
    }
}
