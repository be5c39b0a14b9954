/// Cohen's kappa from a confusion matrix (Cohen 1960; weighted: Cohen 1968), as scikit-learn's
/// `cohen_kappa_score`: kappa = 1 - sum(w * observed) / sum(w * expected), with expected the
/// outer product of the marginals over N. Weights use the class *values* (0..K-1), so a grade
/// missing from both sides does not shift the others (pass sklearn `labels=` to match).
public enum CohenKappa {
    public enum Weighting: String, Sendable, Codable {
        /// Any disagreement counts 1 (per-label kappa of multi-label tasks).
        case none
        case linear
        /// (i - j)^2: DR grading's convention (docs/method.md section 6; Kaggle DR, EyeQ papers).
        case quadratic
    }

    /// nil when undefined: the expected disagreement is zero (truth and predictions hold one
    /// and the same class only), where scikit-learn returns nan.
    public static func compute(_ m: ConfusionMatrix, weighting: Weighting) -> Double? {
        let k = m.classes, n = Double(m.total)
        guard n > 0 else { return nil }
        let rows = m.counts.map { Double($0.reduce(0, +)) }
        let columns = (0..<k).map { j in Double(m.counts.reduce(0) { $0 + $1[j] }) }
        var observed = 0.0, expected = 0.0
        for i in 0..<k {
            for j in 0..<k {
                let d = Double(abs(i - j))
                let w =
                    switch weighting {
                    case .none: i == j ? 0.0 : 1.0
                    case .linear: d
                    case .quadratic: d * d
                    }
                observed += w * Double(m.counts[i][j])
                expected += w * rows[i] * columns[j] / n
            }
        }
        return expected == 0 ? nil : 1 - observed / expected
    }
}
