import Basics
import Contrastive
import Domain
import Encoder
import Foundation
import Wire

/// The ablation modes of docs/method.md section 5 (the paper's Table 2).
public enum TrainingMode: String, Codable, Sendable, CaseIterable {
    /// The three pairings with SPL.
    case comcl
    /// Instance contrast, no levels: every other patch's first view is a negative (the CoMCL loss
    /// form with the levels taken away), no SPL.
    case basicCL = "basic-cl"
    /// Lesion (L + L~) against healthy (H + H~), with SPL.
    case noMultilevel = "no-multilevel"
    /// The three pairings, every negative and every anchor.
    case noSPL = "no-spl"
}

/// How the pre-training learning rate moves over the run.
public enum LearningRateSchedule: String, Codable, Sendable, CaseIterable {
    /// The paper's Adam at a fixed rate.
    case constant
    /// Linear warm-up, then cosine decay to 0 without restarts (SimCLR, Chen et al. 2020, and the
    /// method's reference run on our benchmark, docs/method.md).
    case cosine
}

/// Everything that decides a run's result (saved with each checkpoint; a resume must match it).
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var run = "run"
    /// The run's one seed: plans, crops, views and the initial weights derive from it.
    public var seed: UInt64 = 0
    public var steps = 100
    /// Patches per step (the paper: 400); a multiple of 4 so each level gets B/4.
    public var batch = 400
    /// Patches per batch-norm block (docs/training.md): a group holds the first (or second) views
    /// of `bnGroup` consecutive patches. 20: near Hoffer et al. 2017's ghost batch of 32 while
    /// cutting the paper's batch of 400 into 20 blocks (up to 20 workers), each level 5 times.
    public var bnGroup = 20
    public var arch = ResNetArch.resnet18
    public var width = 1.0
    public var mode = TrainingMode.comcl
    /// Pairings for `comcl` / `no-spl` (Table 3's level combinations); empty = the three of CoMCL.
    public var pairings: [String] = []
    /// Weights of the pairings, in order (docs/method.md: default 1 each); empty = 1 each.
    public var weights: [Double] = []
    /// docs/method.md: tau 0.07, K_min 1, quantile threshold with rho_0 0.5.
    public var tau = 0.07
    public var kMin = 1
    public var splThreshold = SPLThreshold.quantile
    public var rho0 = 0.5
    /// Adam, learning rate 1e-3 (the paper); L2 weight decay 1e-4 (He et al. 2016's ResNet setting).
    public var learningRate = 1e-3
    public var weightDecay = 1e-4
    /// Cosine after 100 warm-up steps: the schedule of the method's reference runs on our
    /// benchmark (docs/method.md).
    public var lrSchedule = LearningRateSchedule.cosine
    public var warmupSteps = 100
    /// Augmentation recipe (a preset name or JSON; docs/augmentation.md); "" = prior-work.
    public var recipe = ""
    /// Future steps whose patches are in the pipeline while the encoder works.
    public var prefetch = 2
    public var checkpointEvery = 50
    /// The backbone pre-training starts from (`InitialWeights`: its path and content digest); nil:
    /// the seeded random init (He et al. 2015, as torchvision's).
    public var initWeights: InitialWeights?

    public init() {}

    /// Config files written before the schedule existed ran at a constant rate: they read back
    /// that way, so a resumed old run keeps its result.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ value: inout T, _ key: CodingKeys) throws { value = try c.decode(T.self, forKey: key) }
        try read(&run, .run); try read(&seed, .seed); try read(&steps, .steps); try read(&batch, .batch); try read(&bnGroup, .bnGroup)
        try read(&arch, .arch); try read(&width, .width); try read(&mode, .mode); try read(&pairings, .pairings);
        try read(&weights, .weights)
        try read(&tau, .tau); try read(&kMin, .kMin); try read(&splThreshold, .splThreshold); try read(&rho0, .rho0)
        try read(&learningRate, .learningRate); try read(&weightDecay, .weightDecay); try read(&recipe, .recipe)
        try read(&prefetch, .prefetch); try read(&checkpointEvery, .checkpointEvery)
        lrSchedule = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .lrSchedule) ?? .constant
        warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? 0
        initWeights = try c.decodeIfPresent(InitialWeights.self, forKey: .initWeights)
    }

    /// Adam's rate for step `step` (0-based).
    public func learningRate(at step: Int) -> Double {
        switch lrSchedule {
        case .constant: learningRate
        case .cosine: CosineSchedule(base: learningRate, totalSteps: steps, warmupSteps: min(warmupSteps, steps)).rate(at: step)
        }
    }

    /// Steps below which a self-paced run is unlikely to pay off. Evidence (docs/method.md, the
    /// reference runs on our benchmark): 300 steps of 64 patches ended CoMCL collapsed (worse than
    /// from scratch at 100 % low quality); 1,000 steps of 256 patches and 1,500 of 128 left the
    /// contrastive plateau (one seed of 1,500 x 128 only at step ~1,350, and partly collapsed).
    public static let shortScheduleSteps = 1000

    /// A warning when SPL's curriculum (K_t falling from every negative to K_min over the run) is
    /// squeezed into too few steps; nil otherwise.
    public var shortScheduleWarning: String? {
        guard mode != .basicCL, mode != .noSPL, steps < Self.shortScheduleSteps else { return nil }
        return
            "\(steps) steps is short for the self-paced curriculum: runs under \(Self.shortScheduleSteps) steps sat on the contrastive plateau "
            + "or collapsed on the reference benchmark (docs/method.md). Watch 'cos pos P other O' in the progress line: a run that learns keeps pos high and drives other well below it."
    }

    public var model: ModelConfig { .contrastive(arch: arch, width: width) }

    /// Writes `config.json` atomically.
    public func save(to url: URL) throws { try AtomicFile.write(try Self.json(self), to: url) }

    /// Pretty, key-sorted JSON: how a run's files (config.json, trainer.json) are written.
    static func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(value)
    }

    /// How requests name the encoder: "<arch>:<width>" (the contrastive head follows from it).
    public static func modelName(_ config: ModelConfig) -> String { "\(config.arch.rawValue):\(config.width)" }

    public static func model(named name: String) throws(TrainingError) -> ModelConfig {
        let parts = name.split(separator: ":")
        guard parts.count == 2, let arch = ResNetArch(rawValue: String(parts[0])), let width = Double(parts[1]), width > 0, width <= 4
        else {
            throw .badInput(
                "model \"\(name)\": expected <arch>:<width> with arch one of \(ResNetArch.allCases.map(\.rawValue).joined(separator: ", ")) and width in (0, 4]"
            )
        }
        return .contrastive(arch: arch, width: width)
    }

    public func loss() throws(TrainingError) -> MultiLevelLoss {
        let schedule = SelfPacedSchedule(kMin: kMin, threshold: splThreshold, rho0: rho0)
        switch mode {
        case .basicCL:
            let all = Set(Level.allCases)
            return MultiLevelLoss(pairings: [Pairing(anchors: all, negatives: all)], tau: tau, schedule: nil)
        case .noMultilevel:
            return MultiLevelLoss(pairings: [Pairing.lesionVsHealthy], tau: tau, schedule: schedule)
        case .comcl, .noSPL:
            let chosen: [Pairing]
            do { chosen = pairings.isEmpty ? Pairing.comcl : try pairings.map { try Pairing(parsing: $0) } } catch {
                throw .config("--pairings: \(error)")
            }
            guard weights.isEmpty || weights.count == chosen.count else {
                throw .config("--weights needs \(chosen.count) numbers, one per pairing (got \(weights.count))")
            }
            let weighted =
                weights.isEmpty ? chosen : zip(chosen, weights).map { Pairing(anchors: $0.anchors, negatives: $0.negatives, weight: $1) }
            return MultiLevelLoss(pairings: weighted, tau: tau, schedule: mode == .noSPL ? nil : schedule)
        }
    }

    /// Pairing weights written as the `--weights` option takes them: "1,0.5,2".
    public static func weights(parsing text: String) throws(TrainingError) -> [Double] {
        var values: [Double] = []
        for part in text.split(separator: ",") {
            guard let w = Double(part.trimmingCharacters(in: .whitespaces)), w >= 0 else {
                throw .config("--weights: \"\(part)\" is not a non-negative number")
            }
            values.append(w)
        }
        return values
    }

    /// The levels a batch must hold (those the pairings name).
    public func levelsNeeded() throws(TrainingError) -> [Level] {
        let named = try loss().pairings.reduce(into: Set<Level>()) { $0.formUnion($1.anchors.union($1.negatives)) }
        return Level.allCases.filter(named.contains)
    }

    public func validate() throws(TrainingError) {
        guard steps >= 1 else { throw .config("steps \(steps): must be at least 1") }
        if let problem = ModelConfig.widthProblem(width) { throw .config(problem) }
        guard batch >= 4, batch % 4 == 0 else { throw .config("batch \(batch): must be a positive multiple of 4 (B/4 patches per level)") }
        guard bnGroup >= 1, batch % bnGroup == 0 else { throw .config("bn-group \(bnGroup) must divide the batch \(batch)") }
        guard tau > 0, tau.isFinite, kMin >= 0, (0...1).contains(rho0) else {
            throw .config("tau must be positive, k-min non-negative, rho0 in 0...1")
        }
        guard learningRate > 0, learningRate.isFinite, weightDecay >= 0, weightDecay.isFinite, warmupSteps >= 0, prefetch >= 0,
            checkpointEvery >= 1
        else {
            throw .config(
                "learning rate must be positive, weight decay, warm-up steps and prefetch non-negative, checkpoint-every at least 1")
        }
        _ = try loss()
    }
}
