import Basics
import Encoder
import Foundation

/// One epoch of classifier training: its mean loss and how long it took.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var loss: Double
    public var seconds: Double
}

/// A backbone with a linear head for the task, initialised from pre-trained weights (ours or
/// torchvision's; any `fc` in the file is ignored) or from the seed (a from-scratch baseline),
/// trained as a linear probe or fine-tuned.
public final class Classifier {
    public let task: DiagnosisTask
    public let config: EvaluationConfig
    let model: EncoderModel
    /// Linear probe: the training features' per-dimension mean and standard deviation, applied
    /// before the head (a random backbone's features run to the hundreds; MAE's linear probe
    /// normalises them likewise, with an affine-free batch norm).
    private var featureScale: (mean: [Float], std: [Float])?

    public init(arch: ResNetArch, width: Double, task: DiagnosisTask, weights: URL?, config: EvaluationConfig) throws {
        (self.task, self.config) = (task, config)
        model = EncoderModel(ModelConfig(arch: arch, width: width, head: .classifier(classes: task.outputs)), seed: config.seed)
        if let weights {
            do { try ModelState.load(contentsOf: weights, into: model, scope: .backbone) } catch {
                throw EvaluationError.model("\(weights.path) does not fit \(arch.rawValue) width \(width): \(error)")
            }
        }
    }

    /// Trains on `data` for the configured epochs; `progress` hears each epoch as it ends.
    public func train(on data: LabelledImages, progress: (EpochRecord) -> Void = { _ in }) -> [EpochRecord] {
        switch config.transfer {
        case .finetune: finetune(data, progress)
        case .linear: linearProbe(data, progress)
        }
    }

    /// Class probabilities (grading: softmax) or per-label scores (multi-label: sigmoid), one
    /// row per image, in eval mode.
    public func predict(_ data: LabelledImages) -> [[Double]] {
        model.training = false
        if let featureScale {
            let logits = model.classifier!.forward(standardized(features(data), featureScale))
            return (0..<logits.rows).map { scores(logits, row: $0) }
        }
        var rows: [[Double]] = []
        for indices in batches(Array(0..<data.count)) {
            let logits = model.forward(data.batch(indices, normalization: config.normalization))
            rows += (0..<logits.rows).map { scores(logits, row: $0) }
        }
        return rows
    }

    /// Pooled backbone features of every image, in eval mode (the linear probe's input, and the
    /// embeddings the report projects to 2-D).
    public func features(_ data: LabelledImages) -> Matrix {
        model.training = false
        let d = model.backbone.featureDimension
        let out = Matrix(rows: data.count, cols: d)
        var row = 0
        for indices in batches(Array(0..<data.count)) {
            let f = model.backbone.forward(data.batch(indices, normalization: config.normalization))
            (out.pointer + row * d).update(from: f.pointer, count: f.count)
            row += f.rows
        }
        return out
    }

    // MARK: - Training

    private func finetune(_ data: LabelledImages, _ progress: (EpochRecord) -> Void) -> [EpochRecord] {
        model.training = true
        let optimizer = sgd(model.parameters.map(\.parameter))
        return epochs(count: data.count, optimizer: optimizer, progress: progress) { order, rng in
            var total = 0.0, seen = 0
            for indices in batches(order) where indices.count >= 2 {  // batch norm needs two images
                let flips = config.flips ? indices.map { _ in (rng.chance(0.5), rng.chance(0.5)) } : nil
                model.zeroGrad()
                let logits = model.forward(data.batch(indices, normalization: config.normalization, flips: flips))
                let (loss, gradient) = self.loss(logits, indices, data)
                model.backward(gradient)
                optimizer.update()
                total += loss * Double(indices.count)
                seen += indices.count
            }
            return total / Double(max(seen, 1))
        }
    }

    private func linearProbe(_ data: LabelledImages, _ progress: (EpochRecord) -> Void) -> [EpochRecord] {
        let raw = features(data)
        let scale = Self.moments(raw)
        featureScale = scale
        let features = standardized(raw, scale)
        let head = model.classifier!
        let optimizer = sgd([head.weight, head.bias])
        let d = features.cols
        return epochs(count: data.count, optimizer: optimizer, progress: progress) { order, _ in
            var total = 0.0
            for indices in batches(order) {
                let x = Matrix(rows: indices.count, cols: d)
                for (slot, index) in indices.enumerated() { (x.pointer + slot * d).update(from: features.pointer + index * d, count: d) }
                head.weight.zeroGrad()
                head.bias.zeroGrad()
                let (loss, gradient) = self.loss(head.forward(x), indices, data)
                _ = head.backward(gradient)
                optimizer.update()
                total += loss * Double(indices.count)
            }
            return total / Double(data.count)
        }
    }

    /// The epoch loop both transfers share: a seeded shuffle per epoch, the learning rate set by
    /// the cosine schedule per epoch (pytorch-classification steps its scheduler per epoch).
    private func epochs(
        count: Int, optimizer: SGD, progress: (EpochRecord) -> Void, _ body: ([Int], inout SeededGenerator) -> Double
    ) -> [EpochRecord] {
        let schedule = CosineSchedule(base: config.learningRate, totalSteps: config.epochs)
        var records: [EpochRecord] = []
        for epoch in 0..<config.epochs {
            let start = Date()
            var rng = SeededGenerator(seed: config.seed, 0xE7A1, UInt64(epoch))
            var order = Array(0..<count)
            rng.shuffle(&order)
            optimizer.learningRate = Float(schedule.rate(at: epoch))
            let loss = body(order, &rng)
            let record = EpochRecord(epoch: epoch + 1, loss: loss, seconds: Date().timeIntervalSince(start))
            records.append(record)
            progress(record)
        }
        return records
    }

    /// Per-column mean and standard deviation (a constant column gets 1).
    static func moments(_ m: Matrix) -> (mean: [Float], std: [Float]) {
        var mean = [Double](repeating: 0, count: m.cols), square = mean
        for r in 0..<m.rows {
            for c in 0..<m.cols { let v = Double(m.pointer[r * m.cols + c]); mean[c] += v; square[c] += v * v }
        }
        let n = Double(max(m.rows, 1))
        return (mean.map { Float($0 / n) }, zip(mean, square).map { sum, sq in
            let variance = sq / n - (sum / n) * (sum / n)
            return variance > 1e-12 ? Float(variance.squareRoot()) : 1
        })
    }

    private func standardized(_ m: Matrix, _ scale: (mean: [Float], std: [Float])) -> Matrix {
        let out = Matrix(rows: m.rows, cols: m.cols)
        for r in 0..<m.rows { for c in 0..<m.cols { out.pointer[r * m.cols + c] = (m.pointer[r * m.cols + c] - scale.mean[c]) / scale.std[c] } }
        return out
    }

    private func sgd(_ parameters: [Parameter]) -> SGD {
        SGD(parameters, learningRate: Float(config.learningRate), momentum: Float(config.momentum), weightDecay: Float(config.weightDecay), nesterov: config.momentum > 0)
    }

    private func batches(_ order: [Int]) -> [[Int]] {
        stride(from: 0, to: order.count, by: config.batch).map { Array(order[$0..<min($0 + config.batch, order.count)]) }
    }

    private func loss(_ logits: Matrix, _ indices: [Int], _ data: LabelledImages) -> (Double, Matrix) {
        switch task {
        case .grading: ClassificationLoss.softmaxCrossEntropy(logits, targets: indices.map { data.grades[$0] })
        case .multiLabel: ClassificationLoss.binaryCrossEntropy(logits, targets: indices.map { data.positives[$0] })
        }
    }

    private func scores(_ logits: Matrix, row: Int) -> [Double] {
        switch task {
        case .grading: ClassificationLoss.softmax(logits, row: row)
        case .multiLabel: (0..<logits.cols).map { ClassificationLoss.sigmoid(Double(logits.pointer[row * logits.cols + $0])) }
        }
    }
}
