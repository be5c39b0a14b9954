import Encoder
import Foundation

/// How an encoder is turned into a classifier (docs/method.md section 5).
public enum Transfer: String, Codable, Sendable, CaseIterable {
    /// Frozen backbone (eval mode); a linear layer trained on its pooled features.
    case linear
    /// Every weight trained: the paper's protocol.
    case finetune
    /// Frozen backbone; a weighted cosine k-nearest-neighbour vote on its pooled features
    /// (`WeightedKNN`): nothing trained, the features judged alone.
    case knn
}

/// Which splits the low-quality sweep degrades.
public enum SweepSplits: String, Codable, Sendable, CaseIterable {
    /// Training and test split both, so the classifier is trained again at each share: the
    /// paper's protocol ("degrading all images", section 4.3).
    case all
    /// The test split only: one classifier, trained on the data as it is, meets worse images
    /// (a deployed model's view; a third of the training cost).
    case test
}

/// The fine-tune's optimiser.
public enum ClassifierOptimizer: String, Codable, Sendable, CaseIterable {
    /// Adam with a lower rate for the backbone than for the new head (the reference protocol).
    case adam
    /// SGD with Nesterov momentum, one rate for every weight (pytorch-classification's).
    case sgd
}

/// Everything that decides an evaluation's result (saved in results.json). The fine-tune's
/// defaults are the reference protocol the method is judged by (docs/evaluation.md): the whole
/// backbone plus a new head, Adam at 1e-4 for the backbone and 1e-3 for the head, weight decay
/// 1e-4, one warm-up epoch then cosine, flips and rotation, 20 epochs, scored at the last epoch.
public struct EvaluationConfig: Codable, Sendable, Equatable {
    public var transfer = Transfer.finetune
    /// Images are resized to this square side (the lesion-based CL code CoMCL follows works on
    /// fundus photos resized to 512).
    public var imageSize = 512
    /// DR grades (EyeQ: 0-4).
    public var classes = 5
    /// The reference protocol's 20 epochs of batch 32.
    public var epochs = 20
    public var batch = 32
    public var optimizer = ClassifierOptimizer.adam
    /// The head's rate, and every weight's under SGD (the reference: 1e-3); a linear probe's
    /// default is `learningRate(for: .linear)`.
    public var learningRate = 1e-3
    /// Adam fine-tune: the pre-trained backbone's rate (the reference: 1e-4, a tenth of the head's,
    /// so the new head learns before it disturbs the features).
    public var backboneLearningRate = 1e-4
    /// SGD only (pytorch-classification: Nesterov 0.9).
    public var momentum = 0.9
    /// Coupled L2 on every weight (the reference: 1e-4).
    public var weightDecay = 1e-4
    /// Epochs of linear warm-up before the per-step cosine decay (the reference: 1).
    public var warmupEpochs = 1
    /// Fine-tuning flips each training image horizontally and vertically with probability 0.5 ...
    public var flips = true
    /// ... and turns it by an angle uniform in [-rotation, rotation] degrees (the reference: any
    /// angle; a fundus photo has no up; give 0 for chest X-rays).
    public var rotation = 180.0
    /// Held-out share when one label file is split (stratified by label and quality); EyeQ users
    /// give its own test file instead.
    public var testShare = 0.3
    /// Low-quality shares of the sweep besides the data's own (the paper: 70 % and 100 %).
    public var sweep: [Double] = [0.7, 1.0]
    public var sweepSplits = SweepSplits.all
    /// Multi-label decision threshold on the sigmoid score (kNN: on the neighbours' vote).
    public var threshold = 0.5
    /// kNN: neighbours that vote (solo-learn's default, 20).
    public var knnNeighbours = WeightedKNN.defaultNeighbours
    /// The split, the shuffles, the augmentation, the degradations and a from-scratch model's
    /// weights derive from it.
    public var seed: UInt64 = 0
    /// Input normalisation; nil: each classifier's training images' per-channel statistics (the
    /// reference protocol's), applied to its test images too.
    public var mean: [Float]?
    public var std: [Float]?

    public init() {}

    /// How the classifier is made, in words: "fine-tuned, 20 epochs of batch 32, Adam (head
    /// 0.001, backbone 0.0001)", "linear probe, 20 epochs of batch 32, SGD 0.1", "kNN, k 20"
    /// (nothing is trained).
    public var transferSummary: String {
        let optimiser = optimizer == .adam ? "Adam (head \(learningRate), backbone \(backboneLearningRate))" : "SGD \(learningRate)"
        return switch transfer {
        case .finetune: "fine-tuned, \(epochs) epochs of batch \(batch), \(optimiser)"
        case .linear: "linear probe, \(epochs) epochs of batch \(batch), SGD \(learningRate)"
        case .knn: "kNN, k \(knnNeighbours)"
        }
    }

    /// The default learning rate of each transfer (the head's, for a fine-tune). Fine-tune: the
    /// reference protocol's 1e-3. Linear probe (SGD on standardised features): 0.1, measured
    /// (docs/evaluation.md): at 0.001 the probe is still underfit after 50 epochs (training loss
    /// 1.45 of 1.61 at the start, on the demo's encoders); at 0.1 it fits (0.66 on random-init features).
    public static func learningRate(for transfer: Transfer) -> Double { transfer == .linear ? 0.1 : 1e-3 }

    /// Keys left out keep their defaults (a hand-written job file names what it changes).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ value: inout T, _ key: CodingKeys) throws { value = try c.decodeIfPresent(T.self, forKey: key) ?? value }
        try read(&transfer, .transfer)
        learningRate = Self.learningRate(for: transfer)
        try read(&imageSize, .imageSize); try read(&classes, .classes); try read(&epochs, .epochs); try read(&batch, .batch)
        try read(&optimizer, .optimizer); try read(&learningRate, .learningRate); try read(&backboneLearningRate, .backboneLearningRate)
        try read(&momentum, .momentum); try read(&weightDecay, .weightDecay); try read(&warmupEpochs, .warmupEpochs)
        try read(&flips, .flips); try read(&rotation, .rotation); try read(&testShare, .testShare); try read(&sweep, .sweep);
        try read(&sweepSplits, .sweepSplits)
        try read(&threshold, .threshold); try read(&seed, .seed); try read(&knnNeighbours, .knnNeighbours)
        (mean, std) = (try c.decodeIfPresent([Float].self, forKey: .mean), try c.decodeIfPresent([Float].self, forKey: .std))
    }

    /// The given normalisation; nil when it is to be measured on the training images.
    public var normalization: Normalization? {
        guard let mean, let std else { return nil }
        return Normalization(mean: mean, std: std)
    }

    public func validate() throws(EvaluationError) {
        guard imageSize >= 32 else { throw .config("image size \(imageSize): a ResNet needs at least 32 px a side") }
        guard classes >= 2 else { throw .config("classes must be at least 2") }
        guard epochs >= 1, batch >= 2 else { throw .config("epochs must be at least 1 and batch at least 2 (batch norm needs two images)") }
        guard learningRate > 0, backboneLearningRate >= 0, momentum >= 0, momentum < 1, weightDecay >= 0, warmupEpochs >= 0 else {
            throw .config(
                "learning rates must be positive (the backbone's may be 0), momentum in [0, 1), weight decay and warm-up epochs non-negative"
            )
        }
        guard (0...180).contains(rotation) else { throw .config("rotation \(rotation): degrees in [0, 180]") }
        guard testShare > 0, testShare < 1 else { throw .config("test share must lie in (0, 1)") }
        guard sweep.allSatisfy({ (0...1).contains($0) }) else { throw .config("sweep shares must lie in [0, 1]") }
        guard (0...1).contains(threshold) else { throw .config("threshold must lie in [0, 1]") }
        guard knnNeighbours >= 1 else { throw .config("kNN neighbours \(knnNeighbours): at least 1") }
        guard (mean == nil) == (std == nil) else {
            throw .config("give mean and std together, or neither (then the training images' are used)")
        }
        if let mean, let std {
            guard mean.count == 3, std.count == 3, std.allSatisfy({ $0 > 0 }) else {
                throw .config("mean and std need three values, std positive")
            }
        }
    }
}

public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    case config(String)
    case data(String)
    case model(String)

    public var description: String {
        switch self {
        case .config(let m): "evaluation config: \(m)"
        case .data(let m): m
        case .model(let m): m
        }
    }
}
