import Foundation

/// The paper's Table 1 layout: a row per model, a column per low-quality share, each cell the
/// headline pair (kappa / accuracy for grading, mean AUC / mean accuracy for multi-label).
public enum ResultsTable {
    public static func markdown(_ results: EvaluationResults) -> String {
        let points = results.points
        let header =
            "| model (" + (results.runs.first?.headline.name ?? "") + ") | "
            + points.map { point in
                let share = results.runs.first { $0.point == point }?.testLowShare ?? 0
                return point.target == nil ? String(format: "data (%.1f %%)", 100 * share) : String(format: "%.0f %%", 100 * point.target!)
            }.joined(separator: " | ") + " |"
        var lines = [header, "|---|" + String(repeating: "---|", count: points.count)]
        for spec in results.models {
            let cells = points.map { point -> String in
                guard let run = results.run(model: spec.name, point: point) else { return "" }
                let h = run.headline
                return (h.first.map { String(format: "%.3f", $0) } ?? "n/a") + String(format: " / %.3f", h.second)
            }
            lines.append("| \(spec.name) | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }
}
