import ArgumentParser
import Datasets
import Encoder
import Evaluation
import Foundation
import ServiceKit

/// `comcl evaluate`: turns encoders into diagnosis classifiers and scores them at the data's
/// own low-quality share and at each sweep share (METHOD.md sections 5-6).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Fine-tune (or linear-probe) classifiers on encoders and score diagnosis as images get worse: results.json, report.md, predictions, plots.",
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
    @Option(help: "Threads for OpenBLAS and our loops.") var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard !model.isEmpty || scratch else { throw ValidationError("give at least one --model NAME=PATH, or --scratch") }
        guard threads >= 1, width > 0 else { throw ValidationError("--threads must be at least 1 and --width positive") }
    }

    func run() throws {
        let config = try evaluation.resolved()
        var specs = try model.map { try ModelSpec.parse($0, arch: arch, width: width) }
        if scratch { specs.append(ModelSpec(name: "scratch", weights: nil, arch: specs.first?.arch ?? arch, width: specs.first?.width ?? width)) }
        let (train, test) = try splits(config)
        _ = BLASCore.select()
        EngineThreads.set(threads)
        let output = URL(fileURLWithPath: out)
        print("evaluating \(specs.map(\.name).joined(separator: ", ")): \(config.transfer.rawValue), \(config.imageSize) px, \(config.epochs) epochs; "
            + "\(train.entries.count) training and \(test.entries.count) test images; sweep \(config.sweep) (\(config.sweepSplits.rawValue) splits)")
        fflush(nil)
        let results: EvaluationResults
        do {
            results = try Evaluation(config: config, models: specs, threads: threads) { line in
                print(line)
                fflush(nil)
            }.run(train: train, test: test, output: output)
        } catch let error as EvaluationError {
            throw ValidationFailure("\(error)")
        }
        print(ResultsTable.markdown(results))
        let report = try EvaluationReport.write(results, extras: try extras(specs, test: test, config: config, output: output), to: output)
        print("report: \(report.path)")
    }

    /// Pre-training curves of the models that came from a run folder, and the t-SNE of patch
    /// embeddings of every model.
    func extras(_ specs: [ModelSpec], test: Manifest, config: EvaluationConfig, output: URL) throws -> ReportExtras {
        var extras = ReportExtras()
        let runs = specs.compactMap { spec in spec.runFolder.map { (spec.name, $0) } }
        for (name, run) in runs {
            let records = MetricsFollower(run.appendingPathComponent("metrics.jsonl")).newRecords()
            if !records.isEmpty { extras.pretraining.append((name, records.map { (Double($0.step + 1), $0.loss) })) }
        }
        guard embeddingPatches > 0 else { return extras }
        print("embedding \(embeddingPatches) patches per level with each encoder (t-SNE)")
        fflush(nil)
        // A pre-training run's detection cache holds these images' boxes already.
        let cache = runs.first.map { $0.1.appendingPathComponent("detections") } ?? output.appendingPathComponent("detections")
        let sample: PatchSample
        do {
            sample = try PatchSample.cut(from: test, perLevel: embeddingPatches, seed: config.seed, detectionCache: cache, normalization: config.normalization, threads: threads)
        } catch {
            // The results are written by now; a picture that cannot be made must not lose them.
            print("patch embeddings left out of the report: \(error)")
            return extras
        }
        for spec in specs {
            extras.embeddings.append((spec.weights == nil ? "\(spec.name) (random init)" : spec.name, try sample.project(spec, seed: config.seed)))
        }
        extras.embeddingsCaption = "Pooled backbone features (before any head) of \(sample.levels.count) patches of the test split, cut as the detector/cropper "
            + "cuts them for training (lesion images: a window on a detected lesion; healthy: a random window), projected with exact t-SNE "
            + "(perplexity 30, 1000 iterations); one colour per level. The pre-trained encoders, before fine-tuning."
        return extras
    }

    func splits(_ config: EvaluationConfig) throws -> (train: Manifest, test: Manifest) {
        let all = try dataset.load()
        guard let testLabels else { return DataSplit.split(all, testShare: config.testShare, seed: config.seed) }
        var options = dataset
        options.labels = testLabels
        options.images = nil
        return (all, try options.load())
    }
}
