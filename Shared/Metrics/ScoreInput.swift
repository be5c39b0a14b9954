import Datasets

/// Predictions and truth read from CSV files and matched by image (docs/evaluation.md):
/// - truth, grading: an image column (`image` or `Image Index`) and `grade` or `DR_grade`
///   (EyeQ's label file works as is);
/// - truth, multi-label: `Finding Labels` joined by `|` ("No Finding" = none; ChestX-ray14's
///   file works as is), or one 0/1 column per label;
/// - predictions: the image column and `grade` (grading), or one score column per label.
/// Every image must be scored exactly once; anything else is an error naming file and line.
public enum ScoreInput {
    case grading(GradingScore)
    case multilabel(MultiLabelScore)

    public static let imageColumns = ["image", "Image Index"]
    public static let gradeColumns = ["grade", "DR_grade"]
    /// Columns of a 0/1 truth file that are not labels.
    static let ignoredTruthColumns: Set<String> = ["quality", ""]

    public static func score(
        truth truthPath: String, predictions predictionPath: String, classes: Int = 5, threshold: Double = 0.5
    ) throws -> ScoreInput {
        let truth = try CSVTable(contentsOf: truthPath), predictions = try CSVTable(contentsOf: predictionPath)
        let truthRows = try rows(truth), predictionRows = try rows(predictions)
        try requireSameImages(truth: truth, truthRows, predictions: predictions, predictionRows)
        let predicted = Dictionary(uniqueKeysWithValues: predictionRows.map { ($0.image, $0.record) })
        if let gradeColumn = truth.firstColumn(gradeColumns) {
            let column = try predictions.column("grade")
            let t = try truthRows.map { _, record in try grade(truth, record, gradeColumn, classes) }
            let p = try truthRows.map { image, _ in try grade(predictions, predicted[image]!, column, classes) }
            return .grading(GradingScore(truth: t, predicted: p, classes: classes))
        }
        let (labels, t) = try multiLabelTruth(truth, truthRows)
        let extra = predictions.header.filter { !imageColumns.contains($0) && !labels.contains($0) }
        if !extra.isEmpty {
            throw DatasetError(
                file: predictions.path, line: 1,
                "unknown label columns \(extra.map { "\"\($0)\"" }.joined(separator: ", ")); the truth's labels are \(labels.joined(separator: ", "))"
            )
        }
        let columns = try labels.map { try predictions.column($0) }
        let s = try truthRows.map { image, _ in
            let record = predicted[image]!
            return try columns.map { column in
                let text = try predictions.field(record, column)
                guard let v = Double(text), v.isFinite else {
                    throw DatasetError(
                        file: predictions.path, line: record.line,
                        "score \"\(text)\" for \(predictions.header[column]) is not a finite number")
                }
                return v
            }
        }
        return .multilabel(MultiLabelScore(labels: labels, truth: t, scores: s, threshold: threshold))
    }

    /// (image, record) in file order; an image named twice is an error.
    static func rows(_ table: CSVTable) throws -> [(image: String, record: CSVTable.Record)] {
        guard let column = table.firstColumn(imageColumns) else {
            throw DatasetError(
                file: table.path, line: 1,
                "no image column (\(imageColumns.map { "\"\($0)\"" }.joined(separator: " or "))); the header has: \(table.header.joined(separator: ", "))"
            )
        }
        var seen: [String: Int] = [:]
        return try table.records.map { record in
            let image = try table.field(record, column)
            guard !image.isEmpty else { throw DatasetError(file: table.path, line: record.line, "empty image name") }
            if let first = seen[image] {
                throw DatasetError(file: table.path, line: record.line, "\(image) is listed twice (first on line \(first))")
            }
            seen[image] = record.line
            return (image, record)
        }
    }

    static func requireSameImages(
        truth: CSVTable, _ truthRows: [(image: String, record: CSVTable.Record)],
        predictions: CSVTable, _ predictionRows: [(image: String, record: CSVTable.Record)]
    ) throws {
        guard !truthRows.isEmpty else { throw DatasetError(file: truth.path, line: nil, "no images to score") }
        let predicted = Set(predictionRows.map(\.image)), known = Set(truthRows.map(\.image))
        let missing = truthRows.map(\.image).filter { !predicted.contains($0) }
        if !missing.isEmpty {
            throw DatasetError(
                file: predictions.path, line: nil,
                "no prediction for \(missing.count) of \(truthRows.count) images (first: \(missing.prefix(3).joined(separator: ", ")))")
        }
        if let stray = predictionRows.first(where: { !known.contains($0.image) }) {
            throw DatasetError(file: predictions.path, line: stray.record.line, "\(stray.image) is not in the truth file \(truth.path)")
        }
    }

    static func grade(_ table: CSVTable, _ record: CSVTable.Record, _ column: Int, _ classes: Int) throws -> Int {
        let text = try table.field(record, column)
        guard let g = Int(text), (0..<classes).contains(g) else {
            throw DatasetError(file: table.path, line: record.line, "grade \"\(text)\" is not an integer in 0...\(classes - 1)")
        }
        return g
    }

    /// The label set and each image's labels: from `Finding Labels`, or from 0/1 columns.
    static func multiLabelTruth(_ table: CSVTable, _ rows: [(image: String, record: CSVTable.Record)]) throws -> ([String], [[Bool]]) {
        if let findings = table.header.firstIndex(of: "Finding Labels") {
            let sets = try rows.map { _, record in
                Set(
                    try table.field(record, findings).split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                        !$0.isEmpty && $0 != ChestXray.healthy
                    })
            }
            let labels = sets.reduce(into: Set<String>()) { $0.formUnion($1) }.sorted()
            guard !labels.isEmpty else {
                throw DatasetError(file: table.path, line: nil, "no finding in \"Finding Labels\": nothing to score")
            }
            return (labels, sets.map { s in labels.map { s.contains($0) } })
        }
        let columns = table.header.indices.filter {
            !imageColumns.contains(table.header[$0]) && !ignoredTruthColumns.contains(table.header[$0])
        }
        guard !columns.isEmpty else {
            throw DatasetError(
                file: table.path, line: 1,
                "no label columns: expected \(gradeColumns.joined(separator: " or ")), \"Finding Labels\", or one 0/1 column per label")
        }
        let truth = try rows.map { _, record in
            try columns.map { column in
                switch try table.field(record, column) {
                case "1": true
                case "0": false
                case let text:
                    throw DatasetError(
                        file: table.path, line: record.line, "\(table.header[column]) is \"\(text)\"; a label column holds 0 or 1")
                }
            }
        }
        return (columns.map { table.header[$0] }, truth)
    }
}
