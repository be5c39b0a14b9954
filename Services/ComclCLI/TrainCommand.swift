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
        let folder = URL(fileURLWithPath: training.runFolder!)
        let config = try training.resolved()
        let manifest = try dataset.load()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let configFile = folder.appendingPathComponent("config.json")
        try config.save(to: configFile)

        let cluster = try LocalCluster(logDirectory: folder.appendingPathComponent("logs"))
        let links = Links.loopback(basePort: basePort)
        let threads = workerThreads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / embeddingWorkers)
        var coordinatorArguments = [
            "--control", links.control, "--run-folder", folder.path, "--config", configFile.path, "--labels", dataset.labels,
            "--format", dataset.format.rawValue, "--min-workers", "\(embeddingWorkers)",
        ]
        if let quality = dataset.quality { coordinatorArguments += ["--quality", quality] }
        if training.resume { coordinatorArguments.append("--resume") }
        let coordinator = try cluster.start("coordinator", executable: "comcl-coordinator", arguments: coordinatorArguments)
        try cluster.start(
            "detector-cropper", executable: "comcl-detector-cropper",
            arguments: ["--coordinator", links.workers[.detectorCropper]!, "--data-root", manifest.imageRoot, "--cache", detectionCache ?? folder.appendingPathComponent("detections").path])
        for i in 1...augmenters {
            try cluster.start("augmenter-\(i)", executable: "comcl-augmenter", arguments: ["--coordinator", links.workers[.augmenter]!, "--worker-id", "augmenter-\(i)"])
        }
        for i in 1...embeddingWorkers {
            try cluster.start(
                "embedding-worker-\(i)", executable: "comcl-embedding-worker",
                arguments: ["--coordinator", links.workers[.embeddingWorker]!, "--worker-id", "embedding-worker-\(i)", "--threads", "\(threads)"])
        }
        print("\(config.model), \(config.mode.rawValue), batch \(config.batch), \(config.steps) steps; \(augmenters) augmenters, \(embeddingWorkers) embedding workers x \(threads) threads")
        print("run folder \(folder.path) (logs/, metrics.jsonl, checkpoints/); comcl status --control \(links.control)")

        let metrics = MetricsFollower(folder.appendingPathComponent("metrics.jsonl"))
        // Ctrl-C or SIGTERM: stop the coordinator first (it tells every worker to stop), then
        // whatever is left, so no process outlives the command.
        let stop = StopSignal()
        var stepsShown = 0
        while coordinator.process.isRunning {
            if stop.isSet {
                _ = cluster.stop(coordinator, timeout: 15)
                for member in cluster.members { _ = cluster.stop(member, timeout: 10) }
                throw ValidationFailure("stopped after step \(stepsShown): continue with --resume (from the last checkpoint)")
            }
            for record in metrics.newRecords() {
                print(record.progressLine)
                stepsShown = record.step + 1
            }
            fflush(nil)  // progress appears as it happens, also in a pipe or a log file
            // A worker that exits cleanly was told to by the coordinator (it is stopping); one that
            // fails would leave the run stalled here, so stop everything and show why.
            if let (member, tail) = cluster.crashed(where: { $0.name != "coordinator" && $0.process.terminationStatus != 0 }) {
                cluster.killAll()
                throw ValidationFailure("\(member.name) exited with status \(member.process.terminationStatus):\n\(tail)")
            }
            Thread.sleep(forTimeInterval: 0.3)
        }
        for record in metrics.newRecords() { print(record.progressLine) }
        let status = coordinator.process.terminationStatus
        for member in cluster.members where member.name != "coordinator" { _ = cluster.stop(member, timeout: 10) }
        guard status == 0 else {
            let tail = (try? String(contentsOf: coordinator.log, encoding: .utf8))?.split(separator: "\n").suffix(5).joined(separator: "\n") ?? ""
            throw ValidationFailure("the coordinator exited with status \(status) (continue with --resume):\n\(tail)")
        }
        print("done: checkpoints in \(Checkpoint.folder(folder).path)")
    }
}

/// Reads the records a run appends to metrics.jsonl since the last call.
final class MetricsFollower {
    let url: URL
    private var offset: UInt64 = 0
    private var partial = Data()

    init(_ url: URL) { self.url = url }

    func newRecords() -> [StepRecord] {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return [] }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd() else { return [] }
        offset += UInt64(data.count)
        partial += data
        var records: [StepRecord] = []
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            let line = partial[partial.startIndex..<newline]
            partial = partial[(newline + 1)...]
            if let record = try? StepRecord.decoder.decode(StepRecord.self, from: line) { records.append(record) }
        }
        return records
    }
}
