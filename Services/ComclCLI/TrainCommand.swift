import ArgumentParser
import Coordination
import Foundation
import ServiceKit
import Training

/// `comcl train`: pre-trains CoMCL on one machine. Starts the coordinator, a detector/cropper,
/// the augmenters and the embedding workers as local processes on loopback, shows a progress
/// line per step from the run's metrics.jsonl, and stops everything at the end.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Pre-train an encoder with CoMCL: every service as a local process, progress per step, checkpoints in the run folder.",
        discussion: "Kill it (or the coordinator) at any point and run the same command with --resume: the run ends with the weights of an uninterrupted one.")

    @OptionGroup(title: "Dataset (the training images)") var dataset: DatasetOptions
    @OptionGroup(title: "Training") var training: TrainingOptions

    @Option(help: "Augmenter processes.") var augmenters = 2
    @Option(help: "Embedding worker processes (data-parallel replicas).") var embeddingWorkers = 2
    @Option(help: "Threads per embedding worker (default: cores / workers).") var workerThreads: Int?
    @Option(help: "Detection cache folder (default: <run folder>/detections); runs on the same images can share one.")
    var detectionCache: String?
    @Option(help: "First of five loopback TCP ports (control, detector-cropper, augmenter, embedding-worker, evaluator).")
    var basePort = 5570

    func validate() throws {
        guard training.runFolder != nil else { throw ValidationError("--run-folder is required (config, metrics and checkpoints go there)") }
        guard augmenters >= 1, embeddingWorkers >= 1 else { throw ValidationError("--augmenters and --embedding-workers must be at least 1") }
        guard (1024...65530).contains(basePort) else { throw ValidationError("--base-port must be in 1024...65530") }
    }

    func run() throws {
        var local = LocalTraining(
            config: try training.resolved(), folder: URL(fileURLWithPath: training.runFolder!), manifest: try dataset.load(), quality: dataset.quality)
        (local.augmenters, local.embeddingWorkers, local.workerThreads) = (augmenters, embeddingWorkers, workerThreads)
        (local.detectionCache, local.basePort, local.resume) = (detectionCache, basePort, training.resume)
        try local.run()
        print("done: checkpoints in \(Checkpoint.folder(local.folder).path)")
    }
}
