import ArgumentParser
import Evaluation
import Foundation

/// `comcl demo`: the README's main job. Synthesises the benchmark if absent, pre-trains CoMCL
/// with every service as a local process, then has the evaluator service score it against a
/// classifier trained from scratch at the data's low-quality share and at 100 %. Its defaults are
/// the smallest run the method's reference saw pay off (ScaleOptions; README, "What the main job does").
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Pre-train CoMCL on the synthetic benchmark and score it against a from-scratch baseline as images get worse; every service a local process.",
        discussion:
            "Ctrl-C stops every process it started. Outputs: <out>/pretrain (the run), <out>/evaluation (results.json, report.md, plots).")

    @Option(help: "Output folder.") var out = "runs/demo"
    @Option(help: "Dataset folder; the synthetic benchmark is written there if it has no labels.csv (default: <out>/data).") var data:
        String?
    @Option(help: "The run's one seed: data, plans, views, weights, split and classifiers.") var seed: UInt64 = 0
    @Option(help: "Low-quality shares of the sweep, comma-separated (each costs two fine-tunes; the paper adds 0.7).") var sweep = "1"
    @Option(help: "Patches per level in the report's t-SNE picture; 0: none.") var embeddingPatches = 40
    @OptionGroup(title: "Scale") var scale: ScaleOptions

    func run() throws {
        let started = Date()
        let root = URL(fileURLWithPath: out)
        let dataFolder = data.map { URL(fileURLWithPath: $0) } ?? root.appendingPathComponent("data")
        let manifest = try SyntheticBenchmark.ensure(dataFolder, images: scale.images, size: scale.size, seed: seed)
        let runFolder = root.appendingPathComponent("pretrain"), evaluationFolder = root.appendingPathComponent("evaluation")
        try ScaleOptions.clear([runFolder, evaluationFolder])

        var evaluation = try scale.evaluationConfig(seed: seed)
        evaluation.sweep = try EvaluationOptions.shares(sweep)
        do { try evaluation.validate() } catch { throw ValidationError("\(error)") }
        var job = EvaluationJob(
            labels: manifest.labelFile,
            models: [EvaluationJob.Model(name: "comcl", path: runFolder.path), EvaluationJob.Model(name: "scratch")],
            output: evaluationFolder.path)
        (job.arch, job.width, job.config, job.embeddingPatches) = (scale.arch, scale.width, evaluation, embeddingPatches)
        try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
        let jobFile = runFolder.appendingPathComponent("evaluation-job.json")
        try EvaluationJob.encoder.encode(job).write(to: jobFile)

        // Pre-training sees the evaluation's training split only.
        let pretraining = try SyntheticBenchmark.trainingSplit(manifest, testShare: evaluation.testShare, seed: seed)
        print(
            "== pre-training CoMCL on the \(pretraining.entries.count) training images of \(manifest.entries.count) (\(pretraining.labelFile)), then the evaluator scores it against a from-scratch classifier"
        )
        // Detection runs once per image; the cache outlives the cleared run folder, so a second
        // demo in the same --out skips it.
        let detections = root.appendingPathComponent("detections")
        try scale.warmDetections(detections, for: pretraining)
        var local = try scale.localTraining(try scale.trainingConfig(run: "demo", seed: seed), folder: runFolder, manifest: pretraining)
        local.evaluation = jobFile
        local.detectionCache = detections.path
        try local.run()

        let table = try String(contentsOf: runFolder.appendingPathComponent("evaluation.md"), encoding: .utf8)
        print("\n== results (\(Self.duration(Date().timeIntervalSince(started))))\n\(table)")
    }

    static func duration(_ seconds: Double) -> String {
        String(format: "%d min %02d s", Int(seconds) / 60, Int(seconds) % 60)
    }
}
