import Basics
import Datasets
import Foundation
import Metrics
import Degradation

/// The evaluation protocol of docs/method.md sections 5-6: each model becomes a classifier trained on
/// the training split and scored on the test split, at the data's own low-quality share and at
/// each sweep share (the degrade step raises it). Writes predictions, the test truth and
/// results.json into the output folder.
public struct Evaluation {
    public var config: EvaluationConfig
    public var models: [ModelSpec]
    public var threads: Int
    /// Progress lines (a line per epoch and per result).
    public var log: (String) -> Void

    public init(config: EvaluationConfig, models: [ModelSpec], threads: Int, log: @escaping (String) -> Void = { _ in }) {
        (self.config, self.models, self.threads, self.log) = (config, models, threads, log)
    }

    public func run(train: Manifest, test: Manifest, output: URL) throws -> EvaluationResults {
        try config.validate()
        guard !models.isEmpty else { throw EvaluationError.config("no model to evaluate") }
        guard Set(models.map(\.name)).count == models.count else {
            throw EvaluationError.config("model names must differ: \(models.map(\.name))")
        }
        guard train.entries.count >= 2, !test.entries.isEmpty else {
            throw EvaluationError.data(
                "the training split has \(train.entries.count) images and the test split \(test.entries.count): too few")
        }
        let task = try DiagnosisTask.of(train.entries + test.entries, classes: config.classes)
        let fm = FileManager.default
        try fm.createDirectory(at: output.appendingPathComponent("predictions"), withIntermediateDirectories: true)
        try AtomicFile.write(Data(PredictionFiles.truth(test.entries, task: task).utf8), to: output.appendingPathComponent("truth.csv"))

        let points = sweepPoints(train: train, test: test)
        var runs: [RunResult] = []
        var classifiers: [String: Classifier] = [:]
        for point in points {
            let data = try splits(at: point, train: train, test: test, output: output)
            let retrain = config.sweepSplits == .all || point.target == nil
            let trainImages = retrain ? try LabelledImages.load(data.train, task: task, size: config.imageSize, threads: threads) : nil
            let testImages = try LabelledImages.load(data.test, task: task, size: config.imageSize, threads: threads)
            for spec in models {
                let start = Date()
                var epochs: [EpochRecord] = []
                if let trainImages {
                    let classifier = try Classifier(
                        arch: spec.arch, width: spec.width, task: task, weights: spec.weights.map { URL(fileURLWithPath: $0) },
                        config: config)
                    epochs = classifier.train(on: trainImages) { record in
                        // Sub-second epochs (a linear probe) would flood the log: every tenth then.
                        guard record.seconds >= 1 || record.epoch % 10 == 0 || record.epoch == config.epochs else { return }
                        log(
                            String(
                                format: "  %@ @ %@: epoch %d/%d loss %.4f (%.1f s)", spec.name, point.key, record.epoch, config.epochs,
                                record.loss, record.seconds))
                    }
                    classifiers[spec.name] = classifier
                }
                let scores = classifiers[spec.name]!.predict(testImages)
                let file = "predictions/\(spec.name)-\(point.key).csv"
                try AtomicFile.write(
                    Data(PredictionFiles.predictions(testImages.names, scores: scores, task: task).utf8),
                    to: output.appendingPathComponent(file))
                let result = RunResult(
                    model: spec.name, point: point, trainLowShare: data.train.lowQualityShare, testLowShare: testImages.lowQualityShare,
                    grading: task.grading(truth: testImages, scores: scores),
                    multiLabel: task.multiLabel(truth: testImages, scores: scores, threshold: config.threshold),
                    epochs: epochs, predictions: file, seconds: Date().timeIntervalSince(start))
                let h = result.headline
                log(
                    String(
                        format: "%@ @ %@ (test %.0f %% low quality): %@ %@ / %.3f", spec.name, point.key, 100 * result.testLowShare, h.name,
                        h.first.map { String(format: "%.3f", $0) } ?? "n/a", h.second))
                runs.append(result)
            }
        }
        let results = EvaluationResults(
            config: config, task: task, models: models, trainImages: train.entries.count, testImages: test.entries.count, runs: runs)
        try AtomicFile.write(try results.json(), to: output.appendingPathComponent("results.json"))
        return results
    }

    /// The data as it is, then each sweep share above what the degraded split(s) already hold
    /// (degrading cannot lower a share).
    func sweepPoints(train: Manifest, test: Manifest) -> [SweepPoint] {
        let have = config.sweepSplits == .all ? min(train.lowQualityShare, test.lowQualityShare) : test.lowQualityShare
        var points = [SweepPoint(target: nil)]
        for target in config.sweep.sorted() where target > have + 1e-9 {
            let point = SweepPoint(target: target)
            if !points.contains(point) { points.append(point) }
        }
        for target in config.sweep where target <= have + 1e-9 {
            log(String(format: "sweep share %.0f %% skipped: the data already holds %.1f %% low-quality images", 100 * target, 100 * have))
        }
        return points
    }

    /// The splits at a sweep point, degraded into `output/data/<point>/` through the degrade step.
    func splits(at point: SweepPoint, train: Manifest, test: Manifest, output: URL) throws -> (train: Manifest, test: Manifest) {
        guard let target = point.target else { return (train, test) }
        let folder = output.appendingPathComponent("data").appendingPathComponent(point.key)
        // Separate seeds for the two splits, both from the one seed.
        func degrade(_ m: Manifest, _ name: String, _ salt: UInt64) throws -> Manifest {
            var g = SeededGenerator(seed: config.seed, 0xDE6, salt)
            let degrader = DatasetDegrader(target: target, seed: g.next())
            let (degraded, report) = try degrader.degrade(m, to: folder.appendingPathComponent(name), threads: threads)
            log(
                String(
                    format: "degraded %@ split to %.0f %% with the %@ model: %d images degraded (%d -> %d low quality)", name, 100 * target,
                    report.modality.rawValue, report.degraded.count, report.lowBefore, report.lowAfter))
            return degraded
        }
        let degradedTrain = config.sweepSplits == .all ? try degrade(train, "train", 0) : train
        return (degradedTrain, try degrade(test, "test", 1))
    }
}

extension DiagnosisTask {
    func grading(truth: LabelledImages, scores: [[Double]]) -> GradingScore? {
        guard case .grading(let classes) = self else { return nil }
        return GradingScore(truth: truth.grades, predicted: scores.map(PredictionFiles.argmax), classes: classes)
    }

    func multiLabel(truth: LabelledImages, scores: [[Double]], threshold: Double) -> MultiLabelScore? {
        guard case .multiLabel(let labels) = self else { return nil }
        return MultiLabelScore(labels: labels, truth: truth.positives, scores: scores, threshold: threshold)
    }
}
