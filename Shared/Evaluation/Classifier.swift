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
    /// kNN: the training images' features and targets.
    private var knn: WeightedKNN?
    /// The input normalisation: the config's, else measured on the training images by `train`.
    public private(set) var normalization: Normalization

    public init(arch: ResNetArch, width: Double, task: DiagnosisTask, weights: URL?, config: EvaluationConfig) throws {
        (self.task, self.config) = (task, config)
        normalization = config.normalization ?? .imageNet
        model = EncoderModel(ModelConfig(arch: arch, width: width, head: .classifier(classes: task.outputs)), seed: config.seed)
        if let weights {
            do { try ModelState.load(contentsOf: weights, into: model, scope: .backbone) } catch {
                throw EvaluationError.model("\(weights.path) does not fit \(arch.rawValue) width \(width): \(error)")
            }
        }
    }

    /// Trains on `data` for the configured epochs; `progress` hears each epoch as it ends.
    public func train(on data: LabelledImages, progress: (EpochRecord) -> Void = { _ in }) -> [EpochRecord] {
        normalization = config.normalization ?? data.channelStatistics()
        return switch config.transfer {
        case .finetune: finetune(data, progress)
        case .linear: linearProbe(data, progress)
        case .knn: nearestNeighbours(data)
        }
    }

    /// Class probabilities (grading: softmax) or per-label scores (multi-label: sigmoid), one
    /// row per image, in eval mode.
    public func predict(_ data: LabelledImages) -> [[Double]] {
        model.training = false
        if let knn { return knn.predict(features(data)) }
        if let featureScale {
            let logits = model.classifier!.forward(standardized(features(data), featureScale))
            return (0..<logits.rows).map { scores(logits, row: $0) }
        }
        var rows: [[Double]] = []
        for indices in batches(Array(0..<data.count)) {
            let logits = model.forward(data.batch(indices, normalization: normalization, threads: EngineThreads.count))
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
            let f = model.backbone.forward(data.batch(indices, normalization: normalization, threads: EngineThreads.count))
            (out.pointer + row * d).update(from: f.pointer, count: f.count)
            row += f.rows
        }
        return out
    }

    // MARK: - Training

    private func finetune(_ data: LabelledImages, _ progress: (EpochRecord) -> Void) -> [EpochRecord] {
        model.training = true
        let head = model.classifier!
        let headParameters = [head.weight, head.bias].map(ObjectIdentifier.init)
        let backbone = model.parameters.map(\.parameter).filter { !headParameters.contains(ObjectIdentifier($0)) }
        let optimizers: [ScheduledOptimizer] =
            switch config.optimizer {
            case .sgd: [sgd(model.parameters.map(\.parameter), rate: config.learningRate)]
            case .adam: [adam(backbone, rate: config.backboneLearningRate), adam([head.weight, head.bias], rate: config.learningRate)]
            }
        // Batch norm needs two images: a last batch of one is left out.
        let batchesPerEpoch = data.count / config.batch + (data.count % config.batch >= 2 ? 1 : 0)
        return epochs(count: data.count, batchesPerEpoch: batchesPerEpoch, optimizers: optimizers, progress: progress) {
            indices, rng, update in
            guard indices.count >= 2 else { return nil }
            let transforms = indices.map { _ in ImageTransform.random(flips: config.flips, rotation: config.rotation, using: &rng) }
            model.zeroGrad()
            let logits = model.forward(
                data.batch(indices, normalization: normalization, transforms: transforms, threads: EngineThreads.count))
            let (loss, gradient) = self.loss(logits, indices, data)
            model.backward(gradient)
            update()
            return loss
        }
    }

    private func linearProbe(_ data: LabelledImages, _ progress: (EpochRecord) -> Void) -> [EpochRecord] {
        let raw = features(data)
        let scale = Self.moments(raw)
        featureScale = scale
        let features = standardized(raw, scale)
        let head = model.classifier!
        let optimizer = sgd([head.weight, head.bias], rate: config.learningRate)
        let d = features.cols
        let batchesPerEpoch = (data.count + config.batch - 1) / config.batch
        return epochs(count: data.count, batchesPerEpoch: batchesPerEpoch, optimizers: [optimizer], progress: progress) {
            indices, _, update in
            let x = Matrix(rows: indices.count, cols: d)
            for (slot, index) in indices.enumerated() { (x.pointer + slot * d).update(from: features.pointer + index * d, count: d) }
            head.weight.zeroGrad()
            head.bias.zeroGrad()
            let (loss, gradient) = self.loss(head.forward(x), indices, data)
            _ = head.backward(gradient)
            update()
            return loss
        }
    }

    /// kNN: nothing to train; the training images' features and targets are kept for the vote.
    private func nearestNeighbours(_ data: LabelledImages) -> [EpochRecord] {
        let targets: [[Double]] =
            switch task {
            case .grading(let classes): data.grades.map { grade in (0..<classes).map { $0 == grade ? 1 : 0 } }
            case .multiLabel: data.positives.map { $0.map { $0 ? 1 : 0 } }
            }
        knn = WeightedKNN(features: features(data), targets: targets, neighbours: config.knnNeighbours)
        return []
    }

    /// An optimiser and its base rate; the schedule scales every base rate by one factor.
    private struct ScheduledOptimizer {
        var base: Double
        var setRate: (Float) -> Void
        var update: () -> Void
    }

    /// The loop both transfers share: a seeded shuffle per epoch, batches in that order, the
    /// learning rates set per step by a linear warm-up of `warmupEpochs` then cosine decay to 0
    /// (the reference protocol's schedule). `body` trains on one batch, calls `update` to step the
    /// optimisers, and returns the batch's mean loss (nil: batch skipped).
    private func epochs(
        count: Int, batchesPerEpoch: Int, optimizers: [ScheduledOptimizer], progress: (EpochRecord) -> Void,
        _ body: ([Int], inout SeededGenerator, () -> Void) -> Double?
    ) -> [EpochRecord] {
        let schedule = CosineSchedule(
            base: 1, totalSteps: config.epochs * batchesPerEpoch, warmupSteps: config.warmupEpochs * batchesPerEpoch)
        var records: [EpochRecord] = []
        var step = 0
        for epoch in 0..<config.epochs {
            let start = Date()
            var rng = SeededGenerator(seed: config.seed, 0xE7A1, UInt64(epoch))
            var order = Array(0..<count)
            rng.shuffle(&order)
            var total = 0.0, seen = 0
            for indices in batches(order) {
                let factor = schedule.rate(at: step)
                let update = {
                    for o in optimizers { o.setRate(Float(o.base * factor)); o.update() }
                }
                guard let loss = body(indices, &rng, update) else { continue }
                step += 1
                total += loss * Double(indices.count)
                seen += indices.count
            }
            let record = EpochRecord(epoch: epoch + 1, loss: total / Double(max(seen, 1)), seconds: Date().timeIntervalSince(start))
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
        return (
            mean.map { Float($0 / n) },
            zip(mean, square).map { sum, sq in
                let variance = sq / n - (sum / n) * (sum / n)
                return variance > 1e-12 ? Float(variance.squareRoot()) : 1
            }
        )
    }

    private func standardized(_ m: Matrix, _ scale: (mean: [Float], std: [Float])) -> Matrix {
        let out = Matrix(rows: m.rows, cols: m.cols)
        for r in 0..<m.rows {
            for c in 0..<m.cols { out.pointer[r * m.cols + c] = (m.pointer[r * m.cols + c] - scale.mean[c]) / scale.std[c] }
        }
        return out
    }

    private func sgd(_ parameters: [Parameter], rate: Double) -> ScheduledOptimizer {
        let o = SGD(
            parameters, learningRate: Float(rate), momentum: Float(config.momentum), weightDecay: Float(config.weightDecay),
            nesterov: config.momentum > 0)
        return ScheduledOptimizer(base: rate, setRate: { o.learningRate = $0 }, update: o.update)
    }

    /// Adam with coupled L2 weight decay (torch.optim.Adam's weight_decay, as the reference ran it).
    private func adam(_ parameters: [Parameter], rate: Double) -> ScheduledOptimizer {
        let o = Adam(parameters, learningRate: Float(rate), weightDecay: Float(config.weightDecay), decay: .l2)
        return ScheduledOptimizer(base: rate, setRate: { o.learningRate = $0 }, update: o.update)
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
