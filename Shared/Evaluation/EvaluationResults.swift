import Encoder
import Foundation
import Metrics

/// An encoder to evaluate: pre-trained weights (ours or torchvision-named), or none for a
/// classifier trained from scratch (the paper's Baseline).
public struct ModelSpec: Codable, Sendable, Equatable {
    public var name: String
    public var weights: String?
    public var arch: ResNetArch
    public var width: Double

    public init(name: String, weights: String?, arch: ResNetArch, width: Double) {
        (self.name, self.weights, self.arch, self.width) = (name, weights, arch, width)
    }
}

/// One point of the low-quality sweep: the data as it is, or raised to a target share.
public struct SweepPoint: Codable, Sendable, Equatable {
    /// nil: the data's own share.
    public var target: Double?
    /// Files and tables name the point by this: "data", "070", "100".
    public var key: String { target.map { String(format: "%03d", Int(($0 * 100).rounded())) } ?? "data" }
}

/// One model at one sweep point.
public struct RunResult: Encodable, Sendable {
    public let model: String
    public let point: SweepPoint
    public let trainLowShare: Double
    public let testLowShare: Double
    public let grading: GradingScore?
    public let multiLabel: MultiLabelScore?
    /// Classifier training, per epoch (empty when the sweep reuses the classifier trained on the
    /// data as it is).
    public let epochs: [EpochRecord]
    /// Relative to the output folder; `comcl score --pred <this> --truth truth.csv` recomputes the scores.
    public let predictions: String
    public let seconds: Double

    /// The headline pair the paper's tables print: kappa and accuracy (grading), or mean AUC and
    /// mean accuracy (multi-label).
    public var headline: (name: String, first: Double?, second: Double) {
        if let grading { return ("kappa / acc", grading.quadraticKappa, grading.accuracy) }
        let m = multiLabel!
        return ("mean AUC / mean acc", m.meanAUC, m.meanAccuracy)
    }

    enum CodingKeys: String, CodingKey {
        case model, point, trainLowShare = "train_low_share", testLowShare = "test_low_share", grading, multiLabel = "multilabel"
        case epochs, predictions, seconds
    }
}

/// What `comcl evaluate` writes to results.json.
public struct EvaluationResults: Encodable, Sendable {
    public var format = "comcl-evaluation v1"
    public let config: EvaluationConfig
    public let task: DiagnosisTask
    public let models: [ModelSpec]
    public let trainImages: Int
    public let testImages: Int
    public let runs: [RunResult]

    public func run(model: String, point: SweepPoint) -> RunResult? { runs.first { $0.model == model && $0.point == point } }
    public var points: [SweepPoint] {
        runs.reduce(into: [SweepPoint]()) { if !$0.contains($1.point) { $0.append($1.point) } }
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(self)
    }
}
