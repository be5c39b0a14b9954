import Basics
import Datasets
import Foundation
import ImageOps
import Images

/// `comcl degrade`: raises a dataset's low-quality share to a target by degrading high-quality
/// images with the degradation model of their modality (fundus or X-ray) and relabelling them, as
/// the paper's 70 % and 100 % experiments do. The input is never changed: a new dataset is written
/// beside it, unchanged images hard-linked (or copied across file systems).
public struct DatasetDegrader {
    public var target: Double
    public var seed: UInt64
    /// Share of degraded images made "Reject" (strong) rather than "Usable" (mild): EyeQ's ratio.
    public var rejectShare = 0.553
    /// The degradation model; nil: the data's own (`Modality.of`).
    public var modality: Modality?

    public init(target: Double, seed: UInt64, modality: Modality? = nil) {
        (self.target, self.seed, self.modality) = (target, seed, modality)
    }

    public struct Report: Codable, Sendable {
        public var images: Int
        public var lowBefore: Int
        public var lowAfter: Int
        public var target: Double
        public var seed: UInt64
        public var modality: Modality
        /// Each degraded image and what was done to it.
        public var degraded: [String: QualityDegradation]
    }

    public func run(_ manifest: Manifest, to output: URL, threads: Int = 2) throws -> Report {
        try degrade(manifest, to: output, threads: threads).report
    }

    /// The same, also handing back the written dataset as a manifest (images under
    /// `output/images`), so a caller can go on without reading the label file back.
    public func degrade(_ manifest: Manifest, to output: URL, threads: Int = 2) throws -> (manifest: Manifest, report: Report) {
        guard (0...1).contains(target) else { throw Problem("--to must lie in [0, 1], got \(target)") }
        let n = manifest.entries.count
        let lowBefore = manifest.entries.filter { $0.quality == .low }.count
        let need = max(0, Int((target * Double(n) - 1e-9).rounded(.up)) - lowBefore)
        var g = SeededGenerator(seed: seed, 0xDE64ADE)
        var candidates = manifest.entries.indices.filter { manifest.entries[$0].quality == .high }
        g.shuffle(&candidates)
        let chosen = Set(candidates.prefix(need))

        let images = output.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        var entries = manifest.entries
        let (seed, rejectShare, modality) = (self.seed, self.rejectShare, self.modality ?? Modality.of(manifest))
        let outcomes = try Parallel.map(n, threads: threads) { index -> (QualityDegradation, FundusDegradation.Severity, String)? in
            let entry = manifest.entries[index]
            // A degraded image is written as PNG or JPEG; one from a DICOM gets ".png" added.
            let extensionKept = ["png", "jpg", "jpeg"].contains(URL(fileURLWithPath: entry.image).pathExtension.lowercased())
            let name = chosen.contains(index) && !extensionKept ? entry.image + ".png" : entry.image
            let source = manifest.url(of: entry), destination = images.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: destination)
            guard chosen.contains(index) else {
                if link(source.path, destination.path) != 0 { try FileManager.default.copyItem(at: source, to: destination) }
                return nil
            }
            var dg = SeededGenerator(seed: seed, UInt64(index))
            let severity: FundusDegradation.Severity = dg.chance(rejectShare) ? .strong : .mild
            let degradation = QualityDegradation.random(modality, severity: severity, using: &dg)
            let decoded: DecodedImage
            do { decoded = try ImageDecoder.decodeImage(contentsOf: source.path) } catch { throw Problem("\(entry.image): \(error)") }
            // Degraded at the source's precision, written at 8 bits.
            var image = decoded.wide.map { FloatImage($0) } ?? FloatImage(decoded.rgb)
            degradation.apply(to: &image)
            let jpeg = ["jpg", "jpeg"].contains(destination.pathExtension.lowercased())
            let bytes = jpeg ? try JPEGEncoder.encode(image.rgbImage()) : try PNGEncoder.encode(image.rgbImage())
            try Data(bytes).write(to: destination)
            return (degradation, severity, name)
        }
        var degraded: [String: QualityDegradation] = [:]
        for index in 0..<n {
            guard let (degradation, severity, name) = outcomes[index] else { continue }
            entries[index].image = name
            entries[index].quality = .low
            entries[index].qualityGrade = severity.eyeqQuality
            degraded[entries[index].image] = degradation
        }
        let report = Report(
            images: n, lowBefore: lowBefore, lowAfter: lowBefore + degraded.count, target: target, seed: seed, modality: modality,
            degraded: degraded)
        let labels = manifest.format == .eyeq ? ManifestWriter.eyeq(entries) : ManifestWriter.generic(entries)
        let labelName = manifest.format == .eyeq ? "labels.csv" : "manifest.csv"
        // Degradation is photometric: lesion boxes stay where they were.
        let boxes = URL(fileURLWithPath: manifest.labelFile).deletingLastPathComponent().appendingPathComponent("lesions.csv")
        if FileManager.default.fileExists(atPath: boxes.path) {
            try AtomicFile.write(try Data(contentsOf: boxes), to: output.appendingPathComponent("lesions.csv"))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(report), to: output.appendingPathComponent("degrade.json"))
        try AtomicFile.write(Data(labels.utf8), to: output.appendingPathComponent(labelName))
        var written = manifest
        (written.entries, written.imageRoot, written.labelFile) = (entries, images.path, output.appendingPathComponent(labelName).path)
        if manifest.format != .eyeq { written.format = .generic }
        return (written, report)
    }
}
