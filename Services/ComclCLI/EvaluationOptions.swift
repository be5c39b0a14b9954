import ArgumentParser
import Encoder
import Evaluation
import Foundation
import Training

/// The evaluation flags; each default is EvaluationConfig's (which cites its source).
struct EvaluationOptions: ParsableArguments {
    @Option(
        help:
            "linear (frozen backbone, a linear layer on its features), finetune (every weight; the paper's protocol) or knn (frozen backbone, a weighted cosine k-nearest-neighbour vote; see --knn)."
    )
    var transfer = EvaluationConfig().transfer
    @Option(
        help: "Score with a weighted cosine kNN of this many neighbours on frozen features (solo-learn's default: 20); sets --transfer knn."
    )
    var knn: Int?
    @Option(help: "Images are resized to this square side (prior work: 512).") var imageSize = EvaluationConfig().imageSize
    @Option(help: "Grades of a grading task (DR: 5, grades 0-4).") var classes = EvaluationConfig().classes
    @Option(help: "Classifier training epochs (the reference protocol: 20).") var epochs = EvaluationConfig().epochs
    @Option(help: "Images per batch (the reference protocol: 32).") var batch = EvaluationConfig().batch
    @Option(help: "Fine-tune optimiser: adam (backbone and head at their own rates; the reference protocol) or sgd (Nesterov, one rate).")
    var optimizer = EvaluationConfig().optimizer
    @Option(
        help:
            "The head's learning rate (every weight's under sgd); warm-up then cosine per step (default: finetune 1e-3; linear 0.1, docs/evaluation.md)."
    )
    var lr: Double?
    @Option(help: "Fine-tune with adam: the backbone's learning rate (the reference protocol: 1e-4).") var backboneLr = EvaluationConfig()
        .backboneLearningRate
    @Option(help: "SGD Nesterov momentum (pytorch-classification: 0.9; 0 = plain SGD).") var momentum = EvaluationConfig().momentum
    @Option(help: "L2 weight decay (the reference protocol: 1e-4).") var weightDecay = EvaluationConfig().weightDecay
    @Option(help: "Epochs of linear learning-rate warm-up (the reference protocol: 1).") var warmupEpochs = EvaluationConfig().warmupEpochs
    @Flag(help: "No random flips while fine-tuning.") var noFlips = false
    @Option(help: "Fine-tune rotation: an angle uniform in [-N, N] degrees per image (fundus: 180; chest X-rays: 0).") var rotation =
        EvaluationConfig().rotation
    @Option(help: "Input normalisation, six numbers mean_r,mean_g,mean_b,std_r,std_g,std_b (default: the training images' own).")
    var normalization: String?
    @Option(help: "Held-out share when --test-labels is not given (stratified by label and quality).") var testShare = EvaluationConfig()
        .testShare
    @Option(help: "Low-quality shares to raise the data to, comma-separated (the paper: 0.7,1); empty: the data as it is only.")
    var sweep = "0.7,1"
    @Option(
        help:
            "Which splits the sweep degrades: all (the paper: the classifier is trained again) or test (one classifier meets worse images)."
    )
    var sweepSplits = EvaluationConfig().sweepSplits
    @Option(help: "Multi-label: a score at or above this counts as positive (0.5: a sigmoid's cut).") var threshold = EvaluationConfig()
        .threshold
    @Option(help: "The evaluation's one seed: split, shuffles, flips, degradations, from-scratch weights.") var seed = EvaluationConfig()
        .seed

    func resolved() throws -> EvaluationConfig {
        var c = EvaluationConfig()
        let transfer = knn == nil ? transfer : .knn
        (c.transfer, c.imageSize, c.classes, c.epochs, c.batch) = (transfer, imageSize, classes, epochs, batch)
        c.knnNeighbours = knn ?? c.knnNeighbours
        (c.optimizer, c.learningRate, c.backboneLearningRate) = (optimizer, lr ?? EvaluationConfig.learningRate(for: transfer), backboneLr)
        (c.momentum, c.weightDecay, c.warmupEpochs, c.flips, c.rotation) = (momentum, weightDecay, warmupEpochs, !noFlips, rotation)
        if let normalization {
            let values = normalization.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == 6 else { throw ValidationError("--normalization wants six numbers: three means, then three stds") }
            (c.mean, c.std) = (Array(values[0..<3]), Array(values[3..<6]))
        }
        (c.testShare, c.sweepSplits, c.threshold, c.seed) = (testShare, sweepSplits, threshold, seed)
        c.sweep = try Self.shares(sweep)
        do { try c.validate() } catch { throw ValidationError("\(error)") }
        return c
    }
}

extension EvaluationOptions {
    /// `--sweep`'s comma-separated shares.
    static func shares(_ text: String) throws -> [Double] {
        try text.split(separator: ",").map { part in
            guard let v = Double(part.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--sweep: \"\(part)\" is not a number")
            }
            return v
        }
    }
}

extension Transfer: ExpressibleByArgument {}
extension SweepSplits: ExpressibleByArgument {}
extension ClassifierOptimizer: ExpressibleByArgument {}

extension EvaluationJob.Model {
    /// `NAME=PATH` (`--model`); the path is checked when the job starts.
    static func parse(_ text: String) throws -> EvaluationJob.Model {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex, eq != text.index(before: text.endIndex) else {
            throw ValidationError("--model \"\(text)\": expected NAME=PATH (a run folder or a .safetensors file)")
        }
        return EvaluationJob.Model(name: String(text[..<eq]), path: String(text[text.index(after: eq)...]))
    }
}
