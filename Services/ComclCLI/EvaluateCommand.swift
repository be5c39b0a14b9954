import ArgumentParser
import Basics
import Datasets
import Encoder
import Evaluation
import Foundation
import ServiceCommandLine
import ServiceKit

/// `comcl evaluate`: turns encoders into diagnosis classifiers and scores them at the data's
/// own low-quality share and at each sweep share (docs/method.md sections 5-6).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract:
            "Fine-tune (or linear-probe) classifiers on encoders and score diagnosis as images get worse: results.json, report.md, predictions, plots.",
        discussion: """
            Each --model NAME=PATH is a run folder (its latest checkpoint) or a safetensors file \
            (ours or torchvision-named); --scratch adds a classifier trained from scratch (the \
            paper's Baseline). Without --test-labels the label file is split (--test-share).
            """)

    @OptionGroup(title: "Dataset (training split, or the whole set to split)") var dataset: DatasetOptions
    @Option(help: "A separate test label file, in the same format (EyeQ has one).") var testLabels: String?
    @Option(help: "Encoders to evaluate, NAME=PATH (repeat).") var model: [String] = []
    @Flag(help: "Also a classifier trained from scratch, named \"scratch\" (the paper's Baseline).") var scratch = false
    @Option(help: "Architecture when a weights file does not say (torchvision's); ours carry it.") var arch = ResNetArch.resnet18
    @Option(help: "Width multiplier when a weights file does not say.") var width = 1.0
    @OptionGroup(title: "Evaluation") var evaluation: EvaluationOptions
    @Option(help: "Output folder: results.json, report.md, truth.csv, predictions/, plots/, data/.") var out: String
    @Option(help: "Patches per level (L, L~, H, H~) from the test split whose embeddings the report projects with t-SNE; 0: none.")
    var embeddingPatches = 60
    @Option(help: "Threads for the encoder (oneDNN and our loops).") var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard !model.isEmpty || scratch else { throw ValidationError("give at least one --model NAME=PATH, or --scratch") }
        guard threads >= 1, width > 0 else { throw ValidationError("--threads must be at least 1 and --width positive") }
    }

    func run() throws {
        var job = EvaluationJob(labels: dataset.labels, models: try model.map(EvaluationJob.Model.parse), output: out)
        if scratch { job.models.append(EvaluationJob.Model(name: "scratch")) }
        (job.format, job.images, job.quality, job.testLabels) = (dataset.format, dataset.images, dataset.quality, testLabels)
        (job.arch, job.width, job.config, job.embeddingPatches) = (arch, width, try evaluation.resolved(), embeddingPatches)
        _ = BLASCore.select()
        EngineThreads.set(threads)
        let outcome: EvaluationJob.Outcome
        do {
            outcome = try job.run(threads: threads) { line in
                print(line)
                fflush(nil)
            }
        } catch let error as EvaluationError {
            throw Problem("\(error)")
        }
        print(outcome.table)
        print("report: \(outcome.report.path)")
    }
}
