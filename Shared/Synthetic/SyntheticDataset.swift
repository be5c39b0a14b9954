import Basics
import Datasets
import Foundation
import ImageOps
import Images

/// `comcl synth`: a labelled synthetic DR-grading set in EyeQ's layout.
public struct SyntheticDataset: Sendable {
    public struct Config: Codable, Sendable, Equatable {
        public var count: Int
        /// Side of the square images; 512 as the prior work resizes fundus photos (Huang et al. 2021).
        public var size = 512
        public var seed: UInt64 = 0
        /// Share of images of each DR grade 0-4. Default: more sick eyes than EyeQ has (73 % grade
        /// 0), so that small synthetic sets still hold every grade and every level.
        public var gradeShares = [0.4, 0.15, 0.2, 0.125, 0.125]
        /// Share of low-quality images: EyeQ's training split, 33.4 % (docs/method.md section 1).
        public var lowQualityShare = 0.334
        /// Share of the low-quality images that are "Reject" (strong) rather than "Usable" (mild):
        /// EyeQ's 2,320 Reject of 4,196 low-quality training images.
        public var rejectShare = 0.553
        public var format = ImageFormat.png

        public init(count: Int) { self.count = count }
    }

    public enum ImageFormat: String, Codable, Sendable, CaseIterable { case png, jpeg }

    /// What one image is: its grade and quality (0 Good, 1 Usable, 2 Reject).
    public struct Assignment: Equatable, Sendable {
        public var grade: Int
        public var quality: Int
    }

    public let config: Config

    public init(_ config: Config) throws {
        guard config.count > 0 else { throw Problem("--count must be positive") }
        guard config.size >= 64 else { throw Problem("--size must be at least 64 (patches are cut from the images)") }
        guard config.gradeShares.count == 5, config.gradeShares.allSatisfy({ $0 >= 0 }), config.gradeShares.reduce(0, +) > 0 else {
            throw Problem("grade shares must be five non-negative numbers, not all zero")
        }
        guard (0...1).contains(config.lowQualityShare), (0...1).contains(config.rejectShare) else {
            throw Problem("shares must lie in [0, 1]")
        }
        self.config = config
    }

    /// Grades and qualities of all images: exact counts by largest-remainder rounding, each grade
    /// getting the same low-quality share, then shuffled by the seed.
    public func assignments() -> [Assignment] {
        var g = SeededGenerator(seed: config.seed, 0x6AADE)
        let total = config.gradeShares.reduce(0, +)
        let perGrade = apportion(config.count, config.gradeShares.map { $0 / total })
        let lowTotal = Int((Double(config.count) * config.lowQualityShare).rounded())
        let lowPerGrade = apportion(lowTotal, perGrade.map { Double($0) / Double(config.count) })
        var result: [Assignment] = []
        for grade in 0..<5 {
            let low = min(lowPerGrade[grade], perGrade[grade])
            let reject = Int((Double(low) * config.rejectShare).rounded())
            result += Array(repeating: Assignment(grade: grade, quality: 2), count: reject)
            result += Array(repeating: Assignment(grade: grade, quality: 1), count: low - reject)
            result += Array(repeating: Assignment(grade: grade, quality: 0), count: perGrade[grade] - low)
        }
        g.shuffle(&result)
        return result
    }

    /// The file name of image `index`.
    public func imageName(_ index: Int) -> String {
        String(format: "%06d.", index) + (config.format == .png ? "png" : "jpg")
    }

    /// Writes images/, labels.csv (EyeQ format), lesions.csv (ground-truth boxes) and synth.json
    /// into `directory`. Labels are written last, so a set cut short has no label file.
    public func write(to directory: URL, threads: Int = 2, progress: @escaping @Sendable (Int) -> Void = { _ in }) throws {
        let images = directory.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        let plan = assignments()
        let config = self.config
        let lesions = try Parallel.map(plan.count, threads: threads, progress: progress) { index -> [LesionBox] in
            let a = plan[index]
            let fundus = SyntheticFundus.render(
                seed: config.seed, index: index, size: config.size, grade: a.grade,
                degradation: FundusDegradation.Severity(eyeqQuality: a.quality))
            let rgb = fundus.image.rgbImage()
            let bytes = config.format == .png ? try PNGEncoder.encode(rgb) : try JPEGEncoder.encode(rgb)
            try Data(bytes).write(to: images.appendingPathComponent(imageName(index)))
            return fundus.lesions
        }
        var boxes: [(image: String, box: LesionBox)] = []
        for (index, found) in lesions.enumerated() {
            for box in found { boxes.append((imageName(index), box)) }
        }
        let entries = plan.enumerated().map { index, a in
            ManifestEntry(
                image: imageName(index), labels: [String(a.grade)], grade: a.grade, quality: a.quality == 0 ? .high : .low,
                qualityGrade: a.quality, lesion: a.grade > 0, line: index + 2)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(config), to: directory.appendingPathComponent("synth.json"))
        try AtomicFile.write(Data(LesionBoxFile.text(boxes).utf8), to: directory.appendingPathComponent("lesions.csv"))
        try AtomicFile.write(Data(ManifestWriter.eyeq(entries).utf8), to: directory.appendingPathComponent("labels.csv"))
    }
}

/// Splits `total` into integer parts proportional to `shares` (largest remainder, ties to the lower index).
func apportion(_ total: Int, _ shares: [Double]) -> [Int] {
    let exact = shares.map { $0 * Double(total) }
    var parts = exact.map { Int($0.rounded(.down)) }
    let order = exact.indices.sorted { (exact[$0] - Double(parts[$0]), -$0) > (exact[$1] - Double(parts[$1]), -$1) }
    for i in order.prefix(total - parts.reduce(0, +)) { parts[i] += 1 }
    return parts
}
