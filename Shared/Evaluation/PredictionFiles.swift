import Datasets

/// The CSV files an evaluation leaves, in the formats `comcl score` reads (docs/evaluation.md),
/// so anyone can re-score them or score another model's the same way.
public enum PredictionFiles {
    /// `image,grade` (grading) or `image,<label>...` with 0/1 (multi-label).
    public static func truth(_ entries: [ManifestEntry], task: DiagnosisTask) -> String {
        switch task {
        case .grading:
            return table(["image", "grade"], entries.map { [$0.image, String($0.grade!)] })
        case .multiLabel(let labels):
            return table(
                ["image"] + labels,
                entries.map { entry in
                    let found = Set(DiagnosisTask.positives(entry))
                    return [entry.image] + labels.map { found.contains($0) ? "1" : "0" }
                })
        }
    }

    /// Grading: `image,grade` plus each class's probability (`p0`...); multi-label: `image` and
    /// one score column per label; full double precision, so a re-score is exact.
    public static func predictions(_ images: [String], scores: [[Double]], task: DiagnosisTask) -> String {
        switch task {
        case .grading(let classes):
            return table(
                ["image", "grade"] + (0..<classes).map { "p\($0)" },
                zip(images, scores).map { image, p in
                    [image, String(argmax(p))] + p.map { "\($0)" }
                })
        case .multiLabel(let labels):
            return table(["image"] + labels, zip(images, scores).map { image, s in [image] + s.map { "\($0)" } })
        }
    }

    /// The first index of the largest value (numpy's argmax).
    public static func argmax(_ values: [Double]) -> Int {
        values.indices.max { values[$0] < values[$1] || (values[$0] == values[$1] && $0 > $1) } ?? 0
    }

    private static func table(_ header: [String], _ rows: [[String]]) -> String {
        ([CSVTable.line(header)] + rows.map(CSVTable.line)).joined(separator: "\n") + "\n"
    }
}
