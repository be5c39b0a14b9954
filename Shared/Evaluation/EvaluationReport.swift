import Foundation
import Metrics
import Plots

/// What the report shows besides the results: pre-training loss curves (from the runs'
/// metrics.jsonl) and the 2-D projections of patch embeddings, one per model.
public struct ReportExtras {
    public var pretraining: [(name: String, points: [(x: Double, y: Double)])] = []
    public var embeddings: [(name: String, points: [(x: Double, y: Double, category: Int)])] = []
    /// How the embeddings were made, for the caption.
    public var embeddingsCaption = ""
    public init() {}
}

/// report.md and its PNG plots in `plots/`.
public enum EvaluationReport {
    @discardableResult
    public static func write(_ results: EvaluationResults, extras: ReportExtras, to output: URL) throws -> URL {
        let plots = output.appendingPathComponent("plots")
        try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
        let c = results.config
        var md = ["# Evaluation report", ""]
        md.append(
            "\(results.task.name), \(c.transferSummary), at \(c.imageSize) px; "
                + "\(results.trainImages) training and \(results.testImages) test images; seed \(c.seed). "
                + "Sweep: \(c.sweepSplits == .all ? "training and test splits degraded, classifier made again at each share (the paper's protocol)" : "test split degraded; the classifier made on the data as it is meets it")."
        )
        md += ["", "## Results", "", ResultsTable.markdown(results), ""]
        md.append(
            "Cells: " + (results.runs.first?.headline.name ?? "") + ". Predictions in `predictions/`, the test truth in `truth.csv`; "
                + "`comcl score --pred predictions/<model>-<point>.csv --truth truth.csv` recomputes any cell.")

        if !extras.pretraining.isEmpty {
            let chart = LineChart(
                title: "Pre-training loss", xLabel: "step", yLabel: "loss (sum of the pairings)", series: extras.pretraining)
            try Figure.render([chart], columns: 1, panelWidth: 640, panelHeight: 380).writePNG(
                to: plots.appendingPathComponent("pretraining-loss.png"))
            md += ["", "## Training", "", "![pre-training loss](plots/pretraining-loss.png)", ""]
        } else {
            md += ["", "## Training", ""]
        }
        let trained = results.points.filter { point in results.runs.contains { $0.point == point && !$0.epochs.isEmpty } }
        let lossCharts = trained.map { point in
            LineChart(
                title: "Classifier training, \(label(point, results))", xLabel: "epoch", yLabel: "training loss",
                series: results.models.compactMap { spec in
                    results.run(model: spec.name, point: point).map { run in (spec.name, run.epochs.map { (Double($0.epoch), $0.loss) }) }
                })
        }
        try Figure.render(lossCharts, columns: min(3, lossCharts.count)).writePNG(to: plots.appendingPathComponent("classifier-loss.png"))
        md += ["![classifier training loss](plots/classifier-loss.png)", ""]

        for point in results.points {
            md += ["## \(label(point, results))", ""]
            let runs = results.models.compactMap { results.run(model: $0.name, point: point) }
            md += details(runs)
            if case .grading(let classes) = results.task {
                let charts = runs.compactMap { run in
                    run.grading.map {
                        ConfusionChart(
                            title: "\(run.model), \(label(point, results))", counts: $0.confusion.counts,
                            labels: (0..<classes).map(String.init))
                    }
                }
                let name = "confusion-\(point.key).png"
                try Figure.render(charts, columns: charts.count, panelWidth: 420, panelHeight: 420).writePNG(
                    to: plots.appendingPathComponent(name))
                md += ["", "![confusion matrices](plots/\(name))", ""]
            }
        }

        if !extras.embeddings.isEmpty {
            let charts = extras.embeddings.map { ScatterChart(title: $0.name, points: $0.points, categories: PatchSample.categories) }
            try Figure.render(charts, columns: charts.count, panelWidth: 460, panelHeight: 440).writePNG(
                to: plots.appendingPathComponent("embeddings.png"))
            md += ["## Patch embeddings", "", "![patch embeddings](plots/embeddings.png)", "", extras.embeddingsCaption, ""]
        }
        let url = output.appendingPathComponent("report.md")
        try Data(md.joined(separator: "\n").utf8).write(to: url, options: .atomic)
        return url
    }

    static func label(_ point: SweepPoint, _ results: EvaluationResults) -> String {
        guard let target = point.target else {
            let share = results.runs.first { $0.point == point }?.testLowShare ?? 0
            return String(format: "the data as it is (%.1f %% low quality)", 100 * share)
        }
        return String(format: "%.0f %% low quality", 100 * target)
    }

    /// Per-model tables: accuracy, kappa and recall per grade, or per-label accuracy, kappa, AUC.
    static func details(_ runs: [RunResult]) -> [String] {
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "n/a" }
        if let first = runs.first?.grading {
            var lines = [
                "| model | accuracy | quadratic kappa | " + (0..<first.classes).map { "recall \($0)" }.joined(separator: " | ") + " |",
                "|---|---|---|" + String(repeating: "---|", count: first.classes),
            ]
            for run in runs {
                if let g = run.grading {
                    lines.append(
                        "| \(run.model) | \(f(g.accuracy)) | \(f(g.quadraticKappa)) | " + g.perGradeRecall.map(f).joined(separator: " | ")
                            + " |")
                }
            }
            return lines + runs.flatMap { run in (run.grading?.notes ?? []).map { "- \(run.model): \($0)" } }
        }
        guard let labels = runs.first?.multiLabel?.labels.map(\.label) else { return [] }
        var lines = [
            "| model | " + labels.map { "\($0) acc / kappa / AUC" }.joined(separator: " | ") + " | mean AUC |",
            "|---|" + String(repeating: "---|", count: labels.count + 1),
        ]
        for run in runs {
            guard let m = run.multiLabel else { continue }
            lines.append(
                "| \(run.model) | " + m.labels.map { "\(f($0.accuracy)) / \(f($0.kappa)) / \(f($0.auc))" }.joined(separator: " | ")
                    + " | \(f(m.meanAUC)) |")
        }
        return lines + runs.flatMap { run in (run.multiLabel?.notes ?? []).map { "- \(run.model): \($0)" } }
    }
}
