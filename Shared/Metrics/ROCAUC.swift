/// Area under the ROC curve of scores against binary truth, as the Mann-Whitney U statistic:
/// the probability that a random positive scores above a random negative, ties counting half.
/// Equal to scikit-learn's `roc_auc_score` (trapezoids through tied scores) without building
/// the curve: O(n log n) for the sort.
public enum ROCAUC {
    /// nil when the truth holds one class only (scikit-learn raises there).
    public static func compute(scores: [Double], positive: [Bool]) -> Double? {
        precondition(scores.count == positive.count, "one score per truth")
        let p = positive.count { $0 }, n = positive.count - p
        guard p > 0, n > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        // Average ranks (1-based) over runs of tied scores; sum them over the positives.
        var rankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let rank = Double(start + end + 2) / 2
            for i in start...end where positive[order[i]] { rankSum += rank }
            start = end + 1
        }
        return (rankSum - Double(p) * Double(p + 1) / 2) / (Double(p) * Double(n))
    }
}
