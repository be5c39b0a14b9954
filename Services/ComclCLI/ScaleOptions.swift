import ArgumentParser
import Augmentation
import Basics
import Datasets
import Encoder
import Evaluation
import Foundation
import Launcher
import Training

/// The size of a `comcl demo` or `comcl ablation` run: data, pre-training, classifier, processes.
/// Defaults: the smallest configuration the method's reference runs saw pay off on 2 cores
/// (docs/method.md, run 4: 960 images, ResNet-18 x0.25, 1,500 steps of 128 patches on 64-px
/// views, a 20-epoch fine-tune at 192 px); README, "What the main job does", gives its time.
struct ScaleOptions: ParsableArguments {
    @Option(help: "Synthetic images to write when the data is absent.") var images = 960
    @Option(help: "Their side in pixels (the paper works at 512; smaller keeps runs short).") var size = 384
    @Option(help: "The classifier's input side (the reference's CPU run: 192).") var imageSize = 192
    @Option(help: "Pre-training steps (fewer than 1,000 sat on the contrastive plateau or collapsed in the reference runs).") var steps =
        1500
    @Option(help: "Patches per step, a multiple of 4 and of --bn-group (the paper: 400).") var batch = 128
    @Option(help: "Patches per batch-norm group (32: Hoffer et al. 2017's ghost batch).") var bnGroup = 32
    @Option(help: "Encoder: resnet18, resnet34, resnet50.") var arch = ResNetArch.resnet18
    @Option(help: "Width multiplier of the encoder.") var width = 0.25
    @Option(help: "K_min, the floor of the hard negatives each anchor keeps as K_t falls (docs/method.md section 4: 1).")
    var kMin = TrainingConfig().kMin
    @Option(help: "Augmentation recipe: a preset (\(Recipe.presetNames)) or a JSON file (docs/augmentation.md says why small-views).")
    var recipe = "small-views"
    @Option(help: "finetune (every weight; the reference protocol) or linear (a linear layer on the frozen encoder; the fast check).")
    var transfer = Transfer.finetune
    @Option(help: "Classifier training epochs (the reference protocol: 20; 16 keeps the demo under 10 minutes).") var epochs = 16
    @Option(help: "The classifier head's learning rate (default: finetune 1e-3, linear 0.1; docs/evaluation.md).") var lr: Double?
    @Option(
        help:
            "Lesion detector: truth (the dataset's lesions.csv, the true boxes the synthetic benchmark writes), builtin, boxes:FILE or remote:ENDPOINT."
    )
    var detector = "truth"
    @Option(help: "Augmenter processes.") var augmenters = 2
    @Option(help: "Embedding worker processes.") var embeddingWorkers = 2
    @Option(help: "First of five loopback TCP ports.") var basePort = 5570

    func validate() throws {
        guard images >= 40, size >= 128 else {
            throw ValidationError("--images must be at least 40 and --size at least 128 (a patch is 128 px)")
        }
        guard imageSize >= 32 else { throw ValidationError("--image-size must be at least 32 (a ResNet's input)") }
        // Steps, batch, batch-norm groups, width and recipe: the one rule set every run obeys.
        _ = try trainingConfig(run: "check", seed: 0)
        guard augmenters >= 1, embeddingWorkers >= 1, (1024...65530).contains(basePort) else {
            throw ValidationError("--augmenters and --embedding-workers must be at least 1, --base-port in 1024...65530")
        }
    }

    /// A pre-training run of this size; the final weights are its only checkpoint.
    func trainingConfig(run: String, seed: UInt64) throws -> TrainingConfig {
        var config = TrainingConfig()
        (config.run, config.seed, config.steps, config.batch, config.bnGroup) = (run, seed, steps, batch, bnGroup)
        (config.arch, config.width, config.checkpointEvery, config.kMin) = (arch, width, steps, kMin)
        do { config.recipe = try Recipe.load(recipe).json() } catch { throw ValidationError("--recipe \(recipe): \(error)") }
        do { try config.validate() } catch { throw ValidationError("\(error)") }
        return config
    }

    func evaluationConfig(seed: UInt64) throws -> EvaluationConfig {
        var config = EvaluationConfig()
        (config.transfer, config.imageSize, config.epochs, config.seed) = (transfer, imageSize, epochs, seed)
        config.learningRate = lr ?? EvaluationConfig.learningRate(for: transfer)
        return config
    }

    func localTraining(_ config: TrainingConfig, folder: URL, manifest: Manifest) throws -> LocalTraining {
        var local = LocalTraining(config: config, folder: folder, manifest: manifest)
        (local.augmenters, local.embeddingWorkers, local.basePort, local.detector) = (
            augmenters, embeddingWorkers, basePort, try detectorArgument(manifest)
        )
        return local
    }

    /// `--detector` as the detector/cropper takes it. `truth` cuts lesion patches around the
    /// dataset's true boxes, as the method's reference runs did (docs/method.md): on the synthetic
    /// benchmark the built-in detector finds 79-91 % of lesions on high-quality images but 14 % on
    /// low-quality ones (`comcl bench detector`, docs/detection.md), so most L~ patches would be
    /// random windows.
    func detectorArgument(_ manifest: Manifest) throws -> String {
        guard detector == "truth" else { return detector }
        let boxes = URL(fileURLWithPath: manifest.labelFile).deletingLastPathComponent().appendingPathComponent("lesions.csv")
        guard FileManager.default.fileExists(atPath: boxes.path) else {
            throw ValidationError(
                "--detector truth: \(boxes.path) does not exist (the synthetic benchmark writes it); give --detector builtin or boxes:FILE")
        }
        return "boxes:\(boxes.path)"
    }

    /// Fills the detection cache on every core first when the built-in detector runs (an outside
    /// detector's boxes cost nothing to read).
    func warmDetections(_ cache: URL, for manifest: Manifest) throws {
        if detector == "builtin" { try DetectionWarmup.fill(cache, for: manifest) }
    }

    /// Removes an earlier demo's or ablation's outputs; refuses folders that are not that.
    static func clear(_ folders: [URL]) throws {
        for folder in folders where FileManager.default.fileExists(atPath: folder.path) {
            let ours = ["config.json", "results.json", "report.md", "logs"].contains {
                FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
            }
            guard ours else { throw Problem("\(folder.path) exists and is not an earlier run's output: give another --out") }
            try FileManager.default.removeItem(at: folder)
        }
    }
}
