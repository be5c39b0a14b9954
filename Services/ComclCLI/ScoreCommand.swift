import ArgumentParser
import Basics
import Datasets
import Foundation
import Metrics

/// `comcl score`: scores any model's predictions against the truth (docs/evaluation.md), so a
/// user can put our numbers and theirs side by side, computed the same way.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract:
            "Accuracy, quadratic kappa, confusion and recall (DR grading) or per-label accuracy, kappa and ROC AUC (multi-label) of predictions, as JSON.",
        discussion: """
            Truth: an image column (image or Image Index) and grade or DR_grade (grading: EyeQ's \
            label file works as is), or Finding Labels or one 0/1 column per label (multi-label). \
            Predictions: the image column and grade, or one score column per label.
            """)

    @Option(help: "Predictions CSV.") var pred: String
    @Option(help: "Truth CSV.") var truth: String
    @Option(help: "Grades of a grading task (DR: 5, grades 0-4).") var classes = 5
    @Option(help: "Multi-label: a score at or above this counts as positive for accuracy and kappa (0.5: a sigmoid's cut).") var threshold =
        0.5
    @Option(help: "Also write the JSON to this file.") var out: String?

    func run() throws {
        guard classes >= 2 else { throw ValidationError("--classes must be at least 2") }
        let scored: ScoreInput
        do {
            scored = try ScoreInput.score(truth: truth, predictions: pred, classes: classes, threshold: threshold)
        } catch let error as DatasetError {
            throw Problem("\(error)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json: Data
        let notes: [String]
        switch scored {
        case .grading(let s): (json, notes) = (try encoder.encode(s), s.notes)
        case .multilabel(let s): (json, notes) = (try encoder.encode(s), s.notes)
        }
        print(String(decoding: json, as: UTF8.self))
        if let out { try json.write(to: URL(fileURLWithPath: out), options: .atomic) }
        for note in notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
    }
}
