import Foundation
import Domain

/// One labelled image of a dataset.
public struct ManifestEntry: Equatable, Sendable {
    /// Path relative to the manifest's image root, as the label file writes it.
    public var image: String
    /// Disease labels: the DR grade as text for EyeQ ("0"-"4"), findings for chest X-rays.
    public var labels: [String]
    /// DR grade 0-4 where the dataset grades (EyeQ, synthetic); nil for multi-label data.
    public var grade: Int?
    public var quality: ImageQuality
    /// EyeQ's 0 Good / 1 Usable / 2 Reject, where the file gives it.
    public var qualityGrade: Int?
    public var lesion: Bool
    /// Line of the label file the entry came from.
    public var line: Int

    public init(image: String, labels: [String], grade: Int?, quality: ImageQuality, qualityGrade: Int?, lesion: Bool, line: Int) {
        (self.image, self.labels, self.grade, self.quality) = (image, labels, grade, quality)
        (self.qualityGrade, self.lesion, self.line) = (qualityGrade, lesion, line)
    }

    /// docs/method.md section 1: lesion or healthy, crossed with high or low quality.
    public var level: Level {
        switch (lesion, quality) {
        case (true, .high): .lesionHigh
        case (true, .low): .lesionLow
        case (false, .high): .healthyHigh
        case (false, .low): .healthyLow
        }
    }
}

public enum ManifestFormat: String, CaseIterable, Sendable, Codable {
    /// EyeQ's label CSV: `,image,quality,DR_grade` (what `comcl synth` writes too).
    case eyeq
    /// NIH ChestX-ray14's Data_Entry_2017.csv plus a quality CSV.
    case chestxray
    /// `path,labels,quality`, labels separated by `|`.
    case generic
}

/// A dataset: its label file(s), the folder its images live under, and its entries.
public struct Manifest: Sendable {
    public var format: ManifestFormat
    public var labelFile: String
    public var imageRoot: String
    public var entries: [ManifestEntry]
    /// Rows left out under `skipBad`, each with its reason.
    public var skipped: [DatasetError]

    /// Where images are looked for when no folder is given: `images/` beside the label file if
    /// it exists (the layout `comcl synth` writes), else the label file's own folder.
    public static func defaultImageRoot(forLabels labels: String) -> String {
        let folder = URL(fileURLWithPath: labels).deletingLastPathComponent()
        let images = folder.appendingPathComponent("images")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: images.path, isDirectory: &isDirectory), isDirectory.boolValue { return images.path }
        return folder.path
    }

    public func url(of entry: ManifestEntry) -> URL { URL(fileURLWithPath: imageRoot).appendingPathComponent(entry.image) }

    public var lowQualityShare: Double {
        entries.isEmpty ? 0 : Double(entries.filter { $0.quality == .low }.count) / Double(entries.count)
    }
}

/// How a manifest is read.
public struct ManifestOptions: Sendable {
    public var format: ManifestFormat
    public var labels: String
    public var images: String?
    /// ChestX-ray14 only: a CSV of `Image Index,quality` (the dataset has no quality labels).
    public var quality: String?
    /// Leave out and count bad rows (missing image, unknown label...) instead of stopping at the first.
    public var skipBad = false
    /// Check that every image file exists (off only for tests of the parsing itself).
    public var checkFiles = true

    public init(format: ManifestFormat, labels: String, images: String? = nil, quality: String? = nil, skipBad: Bool = false) {
        (self.format, self.labels, self.images, self.quality, self.skipBad) = (format, labels, images, quality, skipBad)
    }
}

extension Manifest {
    public static func load(_ options: ManifestOptions) throws -> Manifest {
        try parse(try CSVTable(contentsOf: options.labels), quality: try options.quality.map { try CSVTable(contentsOf: $0) }, options)
    }

    /// The manifest of label (and, for ChestX-ray14, quality) tables already read.
    public static func parse(_ table: CSVTable, quality: CSVTable?, _ options: ManifestOptions) throws -> Manifest {
        let root = options.images ?? defaultImageRoot(forLabels: options.labels)
        var rows: [Result<ManifestEntry, DatasetError>]
        switch options.format {
        case .eyeq: rows = try ManifestReaders.eyeq(table)
        case .generic: rows = try ManifestReaders.generic(table)
        case .chestxray:
            guard let quality else {
                throw DatasetError(
                    file: options.labels, line: nil,
                    "ChestX-ray14 has no quality labels: give them with --quality FILE (columns \"Image Index\", \"quality\")")
            }
            rows = try ManifestReaders.chestXray(table, quality: quality)
        }
        var seen: [String: Int] = [:]
        rows = rows.map { row in
            guard case .success(var entry) = row else { return row }
            do { entry.image = try ImagePath.relative(entry.image, root: root) } catch {
                return .failure(DatasetError(file: table.path, line: entry.line, "\(error)"))
            }
            if let first = seen[entry.image] {
                return .failure(DatasetError(file: table.path, line: entry.line, "\(entry.image) is listed twice (first on line \(first))"))
            }
            seen[entry.image] = entry.line
            if options.checkFiles,
                !FileManager.default.fileExists(atPath: URL(fileURLWithPath: root).appendingPathComponent(entry.image).path)
            {
                return .failure(DatasetError(file: table.path, line: entry.line, "image \(entry.image) not found under \(root)"))
            }
            return .success(entry)
        }
        var entries: [ManifestEntry] = [], skipped: [DatasetError] = []
        for row in rows {
            switch row {
            case .success(let entry): entries.append(entry)
            case .failure(let error):
                guard options.skipBad else { throw error }
                skipped.append(error)
            }
        }
        guard !entries.isEmpty else { throw DatasetError(file: table.path, line: nil, "no usable images (\(skipped.count) rows skipped)") }
        return Manifest(format: options.format, labelFile: options.labels, imageRoot: root, entries: entries, skipped: skipped)
    }
}
