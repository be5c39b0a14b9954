/// Multi-label figures (ChestX-ray14 style, docs/method.md section 6): per label, accuracy and
/// Cohen's kappa of the thresholded scores and ROC AUC of the scores; their means over the
/// labels where they are defined, with a note naming the labels left out.
public struct MultiLabelScore: Sendable, Encodable {
    public struct Label: Sendable, Encodable {
        public let label: String
        public let positives: Int
        public let accuracy: Double
        public let kappa: Double?
        public let auc: Double?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(label, forKey: .label)
            try c.encode(positives, forKey: .positives)
            try c.encode(accuracy, forKey: .accuracy)
            try c.encode(kappa, forKey: .kappa)
            try c.encode(auc, forKey: .auc)
        }

        enum CodingKeys: String, CodingKey { case label, positives, accuracy, kappa, auc }
    }

    public let images: Int
    public let threshold: Double
    public let labels: [Label]
    public let meanAccuracy: Double
    public let meanKappa: Double?
    public let meanAUC: Double?
    public let notes: [String]

    /// `truth[i][j]`: image i has label j; `scores[i][j]`: the model's score for it, positive
    /// when >= `threshold` (0.5: the usual cut of a sigmoid output).
    public init(labels names: [String], truth: [[Bool]], scores: [[Double]], threshold: Double = 0.5) {
        (images, self.threshold) = (truth.count, threshold)
        labels = names.indices.map { j in
            let t = truth.map { $0[j] }, s = scores.map { $0[j] }
            let m = ConfusionMatrix(truth: t.map { $0 ? 1 : 0 }, predicted: s.map { $0 >= threshold ? 1 : 0 }, classes: 2)
            return Label(
                label: names[j], positives: t.count { $0 }, accuracy: m.accuracy,
                kappa: CohenKappa.compute(m, weighting: .none), auc: ROCAUC.compute(scores: s, positive: t))
        }
        func mean(_ values: [Double?]) -> Double? {
            let defined = values.compactMap { $0 }
            return defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count)
        }
        meanAccuracy = mean(labels.map(\.accuracy)) ?? .nan
        meanKappa = mean(labels.map(\.kappa))
        meanAUC = mean(labels.map(\.auc))
        var notes: [String] = []
        let noAUC = labels.filter { $0.auc == nil }.map(\.label)
        if !noAUC.isEmpty {
            notes.append(
                "AUC is undefined for labels whose truth holds one class only, left out of the mean: \(noAUC.joined(separator: ", "))")
        }
        let noKappa = labels.filter { $0.kappa == nil }.map(\.label)
        if !noKappa.isEmpty {
            notes.append(
                "kappa is undefined where truth and predictions hold one and the same class only, left out of the mean: \(noKappa.joined(separator: ", "))"
            )
        }
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case task, images, threshold, labels, meanAccuracy = "mean_accuracy", meanKappa = "mean_kappa", meanAUC = "mean_auc", notes
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("multilabel", forKey: .task)
        try c.encode(images, forKey: .images)
        try c.encode(threshold, forKey: .threshold)
        try c.encode(labels, forKey: .labels)
        try c.encode(meanAccuracy, forKey: .meanAccuracy)
        try c.encode(meanKappa, forKey: .meanKappa)
        try c.encode(meanAUC, forKey: .meanAUC)
        try c.encode(notes, forKey: .notes)
    }
}
