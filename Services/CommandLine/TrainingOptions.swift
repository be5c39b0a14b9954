import ArgumentParser
import Augmentation
import Contrastive
import Encoder
import Foundation
import Training

/// The coordinator's training flags; each default is TrainingConfig's (which cites its source).
public struct TrainingOptions: ParsableArguments {
    @Option(help: "Run folder: config.json, metrics.jsonl, checkpoints/.")
    public var runFolder: String?
    @Option(
        help:
            "Take every training setting from this resolved configuration (a run folder's config.json; how comcl train hands the coordinator its run) instead of the flags."
    )
    public var trainingConfig: String?
    @Option(help: "Run name (work ids and checkpoints carry it).") public var run = TrainingConfig().run
    @Option(help: "The run's one seed: plans, crops, views and initial weights derive from it.") public var seed = TrainingConfig().seed
    @Option(help: "Optimisation steps.") public var steps = TrainingConfig().steps
    @Option(
        help:
            "Passes over the training images instead of --steps: steps = ceil(epochs x images / batch) (an image gives one patch a pass)."
    )
    public var epochs: Double?
    @Option(
        help:
            "Start pre-training from these backbone weights instead of a seeded random init: a .safetensors file (ours, or torchvision's names, as comcl embed takes them) or a run folder (its latest checkpoint)."
    )
    public var initWeights: String?
    @Option(help: "Patches per step, a multiple of 4 (the paper: 400).") public var batch = TrainingConfig().batch
    @Option(
        help: "Patches per batch-norm group, dividing --batch (20: near Hoffer et al. 2017's ghost batch of 32, dividing the paper's 400).")
    public var bnGroup = TrainingConfig().bnGroup
    @Option(help: "Encoder: \(ResNetArch.allCases.map(\.rawValue).joined(separator: ", ")).") public var arch = TrainingConfig().arch
    @Option(help: "Width multiplier of the encoder.") public var width = TrainingConfig().width
    @Option(help: "Mode: \(TrainingMode.allCases.map(\.rawValue).joined(separator: ", ")).") public var mode = TrainingConfig().mode
    @Option(help: "Pairings for comcl / no-spl, comma-separated, e.g. L-L~,L-H (Table 3); default the three of CoMCL.") public
        var pairings = ""
    @Option(help: "Weights of the pairings, comma-separated (docs/method.md: 1 each).") public var weights = ""
    @Option(help: "InfoNCE temperature (docs/method.md: 0.07).") public var tau = TrainingConfig().tau
    @Option(help: "K_min, the floor of K_t (docs/method.md: 1).") public var kMin = TrainingConfig().kMin
    @Option(help: "SPL threshold: quantile (default) or paper (docs/method.md section 4).") public var splThreshold = TrainingConfig()
        .splThreshold
    @Option(help: "rho_0, the starting quantile (docs/method.md: 0.5).") public var rho0 = TrainingConfig().rho0
    @Option(help: "Adam learning rate (the paper: 1e-3).") public var lr = TrainingConfig().learningRate
    @Option(help: "L2 weight decay (He et al. 2016: 1e-4).") public var weightDecay = TrainingConfig().weightDecay
    @Option(help: "Learning-rate schedule: cosine (linear warm-up, then cosine decay to 0) or constant (the paper).")
    public var lrSchedule = TrainingConfig().lrSchedule
    @Option(help: "Warm-up steps of the cosine learning-rate schedule (the reference run: 100).") public var lrWarmupSteps =
        TrainingConfig().warmupSteps
    @Option(help: "Augmentation recipe: a preset name or a JSON file (docs/augmentation.md); default prior-work.") public var recipe = ""
    @Option(help: "Future steps whose patches are in flight while the encoder works.") public var prefetch = TrainingConfig().prefetch
    @Option(help: "Checkpoint every this many steps (and at the end).") public var checkpointEvery = TrainingConfig().checkpointEvery
    @Option(
        help: "Embedding workers each step waits for; a fixed count makes the float summation order, hence the weights, repeat bit for bit."
    )
    public var minWorkers = 1
    @Option(
        help:
            "How a step's batch-norm blocks are shared among the embedding workers: even (repeats bit for bit), speed (in proportion to each worker's measured speed) or auto (speed when the pool mixes kinds of worker, e.g. a PyTorch GPU worker beside ours)."
    )
    public var balance = Balance.auto
    @Flag(help: "Continue from the run folder's latest checkpoint (same options; --steps may grow).") public var resume = false
    @Option(
        help:
            "Developer tool: write each step's views and the initial weights to this folder, for training another implementation on the same inputs (docs/training.md)."
    )
    public var exportViews: String?
    @Option(
        help:
            "Serve the run's state to Prometheus at http://<this machine>:PORT/metrics (the coordinator's; default: off; 9464 is the OpenTelemetry exporters' port)."
    )
    public var metricsPort: Int?

    public init() {}

    /// The run's configuration: from --training-config, else from the flags; validated. `images`: the
    /// training images, which --epochs counts in.
    public func resolved(images: Int) throws -> TrainingConfig {
        if let trainingConfig {
            do {
                let c = try JSONDecoder().decode(TrainingConfig.self, from: Data(contentsOf: URL(fileURLWithPath: trainingConfig)))
                try c.validate()
                return c
            } catch { throw ValidationError("--training-config \(trainingConfig): \(error)") }
        }
        var c = TrainingConfig()
        (c.run, c.seed, c.steps, c.batch, c.bnGroup, c.arch, c.width, c.mode) = (run, seed, steps, batch, bnGroup, arch, width, mode)
        if let epochs {
            guard epochs > 0, epochs.isFinite else { throw ValidationError("--epochs \(epochs): give a positive number of passes") }
            c.steps = max(1, Int((epochs * Double(images) / Double(batch)).rounded(.up)))
        }
        if let initWeights {
            do { c.initWeights = try InitialWeights.describe(initWeights) } catch {
                throw ValidationError("--init-weights \(initWeights): \(error)")
            }
        }
        c.pairings = pairings.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        do { c.weights = try TrainingConfig.weights(parsing: weights) } catch { throw ValidationError("\(error)") }
        (c.tau, c.kMin, c.splThreshold, c.rho0, c.learningRate, c.weightDecay) = (tau, kMin, splThreshold, rho0, lr, weightDecay)
        (c.lrSchedule, c.warmupSteps, c.prefetch, c.checkpointEvery) = (lrSchedule, lrWarmupSteps, prefetch, checkpointEvery)
        c.recipe = try recipeJSON()
        do { try c.validate() } catch { throw ValidationError("\(error)") }
        return c
    }

    /// The recipe is checked and resolved here, so a bad one stops the run before any work, and
    /// its full JSON travels with every request and is saved with the config.
    func recipeJSON() throws -> String {
        guard !recipe.isEmpty else { return "" }
        do { return try Recipe.load(recipe).json() } catch { throw ValidationError("--recipe \(recipe): \(error)") }
    }
}

extension ResNetArch: ExpressibleByArgument {}
extension TrainingMode: ExpressibleByArgument {}
extension SPLThreshold: ExpressibleByArgument {}
extension Balance: ExpressibleByArgument {}
extension LearningRateSchedule: ExpressibleByArgument {}
