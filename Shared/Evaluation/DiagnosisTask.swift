import Datasets

/// What the classifier predicts, read from the data: DR grades where every image has one,
/// otherwise one yes/no output per finding (ChestX-ray14-style multi-label).
public enum DiagnosisTask: Equatable, Sendable, Encodable {
    case grading(classes: Int)
    case multiLabel(labels: [String])

    /// Grading when every entry has a grade (EyeQ, the synthetic set, generic files with one
    /// numeric label); else the findings of the lesion entries, sorted (healthy images have none).
    public static func of(_ entries: [ManifestEntry], classes: Int) throws(EvaluationError) -> DiagnosisTask {
        if entries.allSatisfy({ $0.grade != nil }) {
            if let bad = entries.first(where: { !(0..<classes).contains($0.grade!) }) {
                throw .data(
                    "\(bad.image) (line \(bad.line)): grade \(bad.grade!) is outside 0...\(classes - 1) (set the number of classes)")
            }
            return .grading(classes: classes)
        }
        let labels = Set(entries.flatMap(positives)).sorted()
        guard !labels.isEmpty else { throw .data("no image carries a finding: nothing to diagnose") }
        return .multiLabel(labels: labels)
    }

    /// The findings an entry is positive for (none for a healthy image, whatever its label says).
    static func positives(_ entry: ManifestEntry) -> [String] { entry.lesion ? entry.labels : [] }

    /// Columns of the classifier's output.
    public var outputs: Int {
        switch self {
        case .grading(let classes): classes
        case .multiLabel(let labels): labels.count
        }
    }

    public var name: String {
        switch self {
        case .grading: "DR grading"
        case .multiLabel: "multi-label diagnosis"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .grading(let classes):
            try c.encode("grading", forKey: .kind)
            try c.encode(classes, forKey: .classes)
        case .multiLabel(let labels):
            try c.encode("multilabel", forKey: .kind)
            try c.encode(labels, forKey: .labels)
        }
    }
    private enum Key: String, CodingKey { case kind, classes, labels }
}
