/// DR grading's figures (docs/method.md section 6): accuracy, quadratic-weighted kappa, the confusion
/// matrix and each grade's recall. Undefined values are nil (JSON null), with a note saying why.
public struct GradingScore: Sendable, Encodable {
    public let images: Int
    public let classes: Int
    public let accuracy: Double
    public let quadraticKappa: Double?
    public let confusion: ConfusionMatrix
    public let perGradeRecall: [Double?]
    public let notes: [String]

    /// Grades must lie in 0..<classes (ScoreInput checks files and names the bad line).
    public init(truth: [Int], predicted: [Int], classes: Int = 5) {
        confusion = ConfusionMatrix(truth: truth, predicted: predicted, classes: classes)
        (images, self.classes) = (truth.count, classes)
        accuracy = confusion.accuracy
        quadraticKappa = CohenKappa.compute(confusion, weighting: .quadratic)
        perGradeRecall = confusion.recall
        var notes: [String] = []
        if quadraticKappa == nil {
            notes.append("quadratic kappa is undefined: the truth and the predictions hold one and the same grade only")
        }
        let recall = confusion.recall
        let absent = recall.indices.filter { recall[$0] == nil }
        if !absent.isEmpty {
            notes.append("recall is undefined for grades the truth lacks: \(absent.map(String.init).joined(separator: ", "))")
        }
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case task, images, classes, accuracy, quadraticKappa = "quadratic_kappa", confusion, perGradeRecall = "per_grade_recall", notes
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("grading", forKey: .task)
        try c.encode(images, forKey: .images)
        try c.encode(classes, forKey: .classes)
        try c.encode(accuracy, forKey: .accuracy)
        try c.encode(quadraticKappa, forKey: .quadraticKappa)  // null when undefined
        try c.encode(confusion.counts, forKey: .confusion)
        try c.encode(perGradeRecall, forKey: .perGradeRecall)
        try c.encode(notes, forKey: .notes)
    }
}
