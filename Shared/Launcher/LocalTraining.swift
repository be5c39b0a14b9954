import Basics
import Coordination
import Datasets
import Foundation
import ServiceKit
import Training

/// A training run (and, when given an evaluation job, its evaluation) on one machine: the
/// coordinator, a detector/cropper, the augmenters, the embedding workers and an evaluator as
/// local processes on loopback. Shows a progress line per step from metrics.jsonl and the
/// evaluator's progress from its log; Ctrl-C or SIGTERM stops every process it started.
public struct LocalTraining {
    public var config: TrainingConfig
    public var folder: URL
    /// The training images; the coordinator reads the label file again itself.
    public var manifest: Manifest
    public var quality: String?
    public var augmenters = 2
    /// Every worker's --data-endpoint: auto (patches and views fetched from the croppers and
    /// augmenters, gradients summed among the embedding workers) or off (all through the
    /// coordinator, as before the data plane; for comparisons).
    public var dataPlane = "auto"
    public var embeddingWorkers = 2
    /// Embedding workers started elsewhere (another engine, a GPU) that the run waits for too.
    public var externalWorkers = 0
    /// How the step's batch-norm blocks are shared among the workers (the coordinator's --balance).
    public var balance = "auto"
    public var workerThreads: Int?
    public var detectionCache: String?
    /// The detector/cropper's --detector: builtin, boxes:FILE or remote:ENDPOINT.
    public var detector = "builtin"
    /// The detector/cropper's --conf (nil: its default).
    public var detectorConfidence: Double?
    /// The coordinator's --export-views folder (ViewExport).
    public var exportViews: String?
    /// The coordinator's --metrics-port (Prometheus), if any.
    public var metricsPort: Int?
    public var basePort = 5570
    public var resume = false
    /// An EvaluationJob file: the coordinator has it run by an evaluator when training ends.
    public var evaluation: URL?
    /// Print every n-th step's progress line (and the last); runs of runs (the ablation) show fewer.
    public var progressEvery = 1
    /// Called about every 0.3 s while training runs, with the steps recorded so far and the
    /// processes started (`comcl soak` samples their resources).
    public var observe: ((_ stepsDone: Int, _ members: [LocalCluster.Member]) -> Void)?

    /// Called once the run folder holds the run's config (`comcl train` keeps its settings there).
    public var started: (() -> Void)?

    public init(config: TrainingConfig, folder: URL, manifest: Manifest, quality: String? = nil) {
        (self.config, self.folder, self.manifest, self.quality) = (config, folder, manifest, quality)
    }

    public func run() throws {
        // Every refusal the services would give comes first, so a refused command writes nothing.
        do { try Checkpoint.checkStart(folder, config: config, resume: resume) } catch { throw Problem("\(error)") }
        try PortCheck.requireFree(basePort: basePort)
        try RunFolder.requireWritable(folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let configFile = folder.appendingPathComponent("config.json")
        try config.save(to: configFile)
        started?()
        let cluster = try LocalCluster(logDirectory: folder.appendingPathComponent("logs"))
        let links = Links.loopback(basePort: basePort)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = workerThreads ?? max(1, cores / max(1, embeddingWorkers))
        var coordinatorArguments = [
            "--control", links.control, "--run-folder", folder.path, "--training-config", configFile.path, "--labels", manifest.labelFile,
            "--images", manifest.imageRoot, "--format", manifest.format.rawValue, "--min-workers", "\(embeddingWorkers + externalWorkers)",
            "--balance", balance,
        ]
        if let quality { coordinatorArguments += ["--quality", quality] }
        if !manifest.skipped.isEmpty { coordinatorArguments.append("--skip-bad") }
        if resume { coordinatorArguments.append("--resume") }
        if let exportViews { coordinatorArguments += ["--export-views", exportViews] }
        if let metricsPort { coordinatorArguments += ["--metrics-port", "\(metricsPort)"] }
        if let evaluation { coordinatorArguments += ["--evaluation", evaluation.path] }
        let coordinator = try cluster.start("coordinator", executable: "comcl-coordinator", arguments: coordinatorArguments)
        try cluster.start(
            "detector-cropper", executable: "comcl-detector-cropper",
            arguments: [
                "--coordinator", links.workers[.detectorCropper]!, "--data-root", manifest.imageRoot,
                "--cache", detectionCache ?? folder.appendingPathComponent("detections").path, "--detector", detector,
                "--data-endpoint", dataPlane,
            ] + (detectorConfidence.map { ["--conf", "\($0)"] } ?? []))
        for i in 1...augmenters {
            try cluster.start(
                "augmenter-\(i)", executable: "comcl-augmenter",
                arguments: [
                    "--coordinator", links.workers[.augmenter]!, "--worker-id", "augmenter-\(i)", "--data-endpoint", dataPlane,
                ])
        }
        for i in stride(from: 1, through: embeddingWorkers, by: 1) {
            try cluster.start(
                "embedding-worker-\(i)", executable: "comcl-embedding-worker",
                arguments: [
                    "--coordinator", links.workers[.embeddingWorker]!, "--worker-id", "embedding-worker-\(i)", "--threads", "\(threads)",
                    "--data-endpoint", dataPlane,
                ])
        }
        // It idles until training ends, then has the machine to itself.
        let evaluator = try evaluation.map { _ in
            try cluster.start(
                "evaluator", executable: "comcl-evaluator",
                arguments: ["--coordinator", links.workers[.evaluator]!, "--worker-id", "evaluator-1", "--threads", "\(cores)"])
        }
        print(
            "\(config.model), \(config.mode.rawValue), batch \(config.batch), \(config.steps) steps; \(augmenters) augmenters, \(embeddingWorkers) embedding workers x \(threads) threads"
                + (evaluator == nil ? "" : "; an evaluator"))
        print("run folder \(folder.path) (logs/, metrics.jsonl, checkpoints/); comcl status --control \(links.control)")
        if externalWorkers > 0 {
            // What joins them: docs/embedding-worker.md (the contract), Examples/pytorch-worker.
            print(
                "waiting for \(externalWorkers) more embedding worker\(externalWorkers == 1 ? "" : "s") at \(links.workers[.embeddingWorker]!) with run token \(cluster.runToken), e.g.: scripts/pytorch-worker.sh --coordinator \(links.workers[.embeddingWorker]!) --run-token \(cluster.runToken)"
            )
        }

        let metrics = MetricsFollower(folder.appendingPathComponent("metrics.jsonl"))
        let watch = RunWatch(coordinatorLog: coordinator.log)
        var restarts: [String: Int] = [:]
        let evaluatorLog = evaluator.map { LineFollower($0.log) }
        let stop = StopSignal()
        var stepsShown = 0
        func show() {
            for record in metrics.newRecords() {
                stepsShown = record.step + 1
                if stepsShown % progressEvery == 0 || stepsShown == config.steps { print(record.progressLine) }
                for line in watch.recorded(record) { print(line) }
            }
            for line in watch.idle() { print(line) }
            for line in evaluatorLog?.newLines() ?? [] { if let shown = Self.evaluatorProgress(line) { print(shown) } }
            fflush(nil)  // progress appears as it happens, also in a pipe or a log file
        }
        while coordinator.process.isRunning {
            // Ctrl-C or SIGTERM: stop the coordinator first (it tells every worker to stop), then
            // whatever is left, so no process outlives the command.
            if stop.isSet {
                _ = cluster.stop(coordinator, timeout: 15)
                for member in cluster.members { _ = cluster.stop(member, timeout: 10) }
                throw Problem("stopped after step \(stepsShown): continue with --resume (from the last checkpoint)")
            }
            show()
            observe?(stepsShown, cluster.members)
            // A worker that exits cleanly was told to by the coordinator (it is stopping). One that
            // fails is started again, as an orchestrator would: the coordinator re-issues its items
            // and the run goes on bit for bit. A worker that keeps failing stops the run.
            if let (member, tail) = cluster.crashed(where: { $0.name != "coordinator" && $0.process.terminationStatus != 0 }) {
                let how = member.process.terminationReason == .uncaughtSignal ? "was killed by signal" : "exited with status"
                restarts[member.name, default: 0] += 1
                guard restarts[member.name]! <= Self.maxRestarts else {
                    cluster.killAll()
                    throw Problem(
                        "\(member.name) \(how) \(member.process.terminationStatus) after \(Self.maxRestarts) restarts; the run stops:\n\(tail)"
                    )
                }
                print(
                    "\(member.name) \(how) \(member.process.terminationStatus); restarting it (\(restarts[member.name]!) of \(Self.maxRestarts))"
                )
                try cluster.restart(member)
            }
            Thread.sleep(forTimeInterval: 0.3)
        }
        show()
        print(
            watch.summary
                + (restarts.isEmpty
                    ? "" : "; restarted: " + restarts.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")))
        let status = coordinator.process.terminationStatus
        for member in cluster.members where member.name != "coordinator" { _ = cluster.stop(member, timeout: 10) }
        guard status == 0 else {
            let tail =
                (try? String(contentsOf: coordinator.log, encoding: .utf8))?.split(separator: "\n").suffix(5).joined(separator: "\n") ?? ""
            throw Problem("the coordinator exited with status \(status) (continue with --resume):\n\(tail)")
        }
    }

    /// Restarts of one worker before the run gives up: enough for a machine's hiccups (an OOM
    /// kill, an operator's mistake), few enough that a worker failing at start-up stops the run fast.
    public static let maxRestarts = 3

    /// The message of an evaluator log line about the evaluation (not its transport's chatter).
    public static func evaluatorProgress(_ line: String) -> String? {
        guard let range = line.range(of: "comcl.comcl-evaluator: ") else { return nil }
        var message = line[range.upperBound...]
        if message.hasPrefix("[") {
            guard message.hasPrefix("[comcl_evaluator] "), let close = message.firstIndex(of: "]") else { return nil }
            message = message[message.index(close, offsetBy: 2)...]
        }
        return "evaluator: " + message
    }
}
