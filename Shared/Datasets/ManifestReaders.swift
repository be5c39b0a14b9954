import Domain

/// Row readers for the three label-file formats. A file-level problem (a missing column) throws;
/// a row-level one becomes a failure naming its line, so `--skip-bad` can count and go on.
enum ManifestReaders {
    typealias Row = Result<ManifestEntry, DatasetError>

    /// EyeQ (Fu et al. 2019): `,image,quality,DR_grade`; quality 0 Good, 1 Usable, 2 Reject, and
    /// low = Usable + Reject (docs/method.md section 1); DR grade 0 healthy, 1-4 lesion.
    static func eyeq(_ table: CSVTable) throws -> [Row] {
        let (image, quality, grade) = (try table.column("image"), try table.column("quality"), try table.column("DR_grade"))
        return table.records.map { record in
            row(table, record) {
                let name = try table.field(record, image)
                guard !name.isEmpty else { throw DatasetError(file: table.path, line: record.line, "empty image name") }
                let q = try number(table, record, quality, "quality", 0...2, meaning: "0 Good, 1 Usable, 2 Reject")
                let g = try number(table, record, grade, "DR_grade", 0...4, meaning: "DR grades 0-4")
                return ManifestEntry(
                    image: name, labels: [String(g)], grade: g, quality: q == 0 ? .high : .low, qualityGrade: q, lesion: g > 0,
                    line: record.line)
            }
        }
    }

    /// NIH ChestX-ray14 (Wang et al. 2017): `Image Index`, `Finding Labels` joined by `|`,
    /// "No Finding" = healthy; quality from a second CSV (`Image Index` or `image`, `quality`).
    static func chestXray(_ table: CSVTable, quality: CSVTable) throws -> [Row] {
        let (image, findings) = (try table.column("Image Index"), try table.column("Finding Labels"))
        let qualityImage = try (try? quality.column("Image Index")) ?? quality.column("image")
        let qualityValue = try quality.column("quality")
        var qualities: [String: (ImageQuality, Int?)] = [:]
        for record in quality.records {
            let name = try quality.field(record, qualityImage)
            qualities[name] = try parseQuality(quality, record, try quality.field(record, qualityValue))
        }
        return table.records.map { record in
            row(table, record) {
                let name = try table.field(record, image)
                let labels = try table.field(record, findings).split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                guard !labels.isEmpty else { throw DatasetError(file: table.path, line: record.line, "empty Finding Labels") }
                for label in labels where label != ChestXray.healthy && !ChestXray.findings.contains(label) {
                    throw DatasetError(
                        file: table.path, line: record.line,
                        "unknown finding \"\(label)\" (known: \(ChestXray.findings.joined(separator: ", ")), or \(ChestXray.healthy))")
                }
                let healthy = labels.contains(ChestXray.healthy)
                if healthy, labels.count > 1 {
                    throw DatasetError(
                        file: table.path, line: record.line,
                        "\"\(ChestXray.healthy)\" together with findings: \(labels.joined(separator: "|"))")
                }
                guard let (q, grade) = qualities[name] else {
                    throw DatasetError(file: table.path, line: record.line, "\(name) has no row in the quality file \(quality.path)")
                }
                return ManifestEntry(
                    image: name, labels: healthy ? [] : labels, grade: nil, quality: q, qualityGrade: grade, lesion: !healthy,
                    line: record.line)
            }
        }
    }

    /// A plain CSV: `path`, `labels` (or `label`; `|`-separated), `quality`. An image is healthy
    /// when its only label is one of `Generic.healthyLabels`.
    static func generic(_ table: CSVTable) throws -> [Row] {
        let path = try table.column("path")
        let labelColumn = try (try? table.column("labels")) ?? table.column("label")
        let quality = try table.column("quality")
        return table.records.map { record in
            row(table, record) {
                let name = try table.field(record, path)
                guard !name.isEmpty else { throw DatasetError(file: table.path, line: record.line, "empty path") }
                let labels = try table.field(record, labelColumn).split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
                guard !labels.isEmpty else { throw DatasetError(file: table.path, line: record.line, "no label") }
                let healthy = labels.count == 1 && Generic.healthyLabels.contains(labels[0].lowercased())
                let (q, grade) = try parseQuality(table, record, try table.field(record, quality))
                return ManifestEntry(
                    image: name, labels: labels, grade: labels.count == 1 ? Int(labels[0]) : nil, quality: q, qualityGrade: grade,
                    lesion: !healthy, line: record.line)
            }
        }
    }

    /// Runs one row's reader, turning any error into a failure that names the row.
    private static func row(_ table: CSVTable, _ record: CSVTable.Record, _ read: () throws -> ManifestEntry) -> Row {
        do {
            return .success(try read())
        } catch let error as DatasetError {
            return .failure(error)
        } catch {
            return .failure(DatasetError(file: table.path, line: record.line, "\(error)"))
        }
    }

    /// Quality as EyeQ numbers it (0 Good, 1 Usable, 2 Reject) or as words (high/good, low/usable/reject).
    static func parseQuality(_ table: CSVTable, _ record: CSVTable.Record, _ text: String) throws -> (ImageQuality, Int?) {
        switch text.lowercased() {
        case "0", "good": return (.high, 0)
        case "high": return (.high, nil)
        case "1", "usable": return (.low, 1)
        case "2", "reject": return (.low, 2)
        case "low": return (.low, nil)
        default:
            throw DatasetError(file: table.path, line: record.line, "unknown quality \"\(text)\" (0/good/high, 1/usable, 2/reject, low)")
        }
    }

    private static func number(
        _ table: CSVTable, _ record: CSVTable.Record, _ column: Int, _ name: String, _ range: ClosedRange<Int>, meaning: String
    ) throws -> Int {
        let text = try table.field(record, column)
        // EyeQ's files are written by pandas and may say "2.0".
        guard let value = Int(text) ?? Double(text).flatMap({ $0 == $0.rounded() ? Int(exactly: $0) : nil }), range.contains(value) else {
            throw DatasetError(file: table.path, line: record.line, "\(name) \"\(text)\" is not one of \(meaning)")
        }
        return value
    }
}

public enum ChestXray {
    /// The 14 findings of ChestX-ray14 (Wang et al. 2017; the paper's 8 are the first 8).
    public static let findings = [
        "Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule", "Pneumonia", "Pneumothorax",
        "Consolidation", "Edema", "Emphysema", "Fibrosis", "Pleural_Thickening", "Hernia",
    ]
    public static let healthy = "No Finding"
}

public enum Generic {
    /// Labels that mean "no disease" in a generic manifest (compared lower-cased).
    public static let healthyLabels: Set<String> = ["healthy", "normal", "no finding", "0"]
}
