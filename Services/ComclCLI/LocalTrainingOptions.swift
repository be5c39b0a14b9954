import ArgumentParser
import Foundation
import Launcher
import ServiceCommandLine
import ServiceKit
import Training

/// The options of a training run on this machine (`comcl train`, `comcl soak`): the dataset,
/// the training settings, and how many local processes of each service to start.
struct LocalTrainingOptions: ParsableArguments {
    @OptionGroup(title: "Dataset (the training images)") var dataset: DatasetOptions
    @OptionGroup(title: "Training") var training: TrainingOptions

    @Option(help: "Augmenter processes.") var augmenters = 2
    @Option(
        help:
            "Where patches and views travel: auto (fetched from the croppers' and augmenters' data endpoints) or off (through the coordinator, as before the data plane; for comparisons)."
    )
    var dataPlane = "auto"
    @Option(help: "Embedding worker processes (data-parallel replicas).") var embeddingWorkers = 2
    @Option(help: "Threads per embedding worker (default: cores / workers).") var workerThreads: Int?
    @Option(
        help:
            "Embedding workers started elsewhere that every step waits for as well (e.g. Examples/pytorch-worker on a GPU); the run prints the command that joins one."
    )
    var externalWorkers = 0
    @Option(
        help:
            "Lesion detector of the detector/cropper: builtin, boxes:FILE (an outside tool's boxes; a synthetic set's lesions.csv gives the true ones) or remote:ENDPOINT."
    )
    var detector = "builtin"
    @Option(
        help: "The detector's confidence threshold: boxes scoring above it are lesions (default: the detector/cropper's, prior work's 0.5)."
    )
    var detectorConf: Double?
    @Option(help: "Detection cache folder (default: <run folder>/detections); runs on the same images can share one.")
    var detectionCache: String?
    @Option(help: "First of five loopback TCP ports (control, detector-cropper, augmenter, embedding-worker, evaluator).")
    var basePort = 5570

    func validate() throws {
        guard training.runFolder != nil else {
            throw ValidationError("--run-folder is required (config, metrics and checkpoints go there)")
        }
        guard augmenters >= 1, embeddingWorkers >= 0, externalWorkers >= 0, embeddingWorkers + externalWorkers >= 1 else {
            throw ValidationError("--augmenters must be at least 1, and --embedding-workers plus --external-workers at least 1")
        }
        guard (1024...65530).contains(basePort) else { throw ValidationError("--base-port must be in 1024...65530") }
        guard ["auto", "off"].contains(dataPlane) else { throw ValidationError("--data-plane \(dataPlane): give auto or off") }
        if let detectorConf, !(0...1).contains(detectorConf) {
            throw ValidationError("--detector-conf \(detectorConf): must lie in [0, 1]")
        }
    }

    func localTraining() throws -> LocalTraining {
        let manifest = try dataset.load()
        var local = LocalTraining(
            config: try training.resolved(images: manifest.entries.count), folder: URL(fileURLWithPath: training.runFolder!),
            manifest: manifest, quality: dataset.quality)
        (local.augmenters, local.embeddingWorkers, local.workerThreads) = (augmenters, embeddingWorkers, workerThreads)
        (local.externalWorkers, local.balance) = (externalWorkers, training.balance.rawValue)
        local.dataPlane = dataPlane
        (local.detectionCache, local.basePort, local.resume, local.exportViews) = (
            detectionCache, basePort, training.resume, training.exportViews
        )
        (local.detector, local.detectorConfidence, local.metricsPort) = (detector, detectorConf, training.metricsPort)
        // The settings this command printed join the run folder once the run has made it.
        local.started = { LayeredArguments.keepSettings() }
        return local
    }
}
