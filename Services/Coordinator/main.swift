import ArgumentParser
import Basics
import Coordination
import Datasets
import Evaluation
import Foundation
import Logging
import ServiceCommandLine
import ServiceKit
import Training
import Transport
import Wire

/// comcl-coordinator: the miner/loss coordinator (the hub all workers connect to).
struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comcl-coordinator",
        abstract: "The miner/loss coordinator: binds one ZeroMQ ROUTER per worker role plus a control link.")

    @Option(help: "Control link; worker links default to the next four ports (detector-cropper, augmenter, embedding-worker, evaluator).")
    var control = "tcp://127.0.0.1:5570"

    @Option(help: "Link for detector/cropper workers (default: control port + 1).")
    var detectorCropper: String?
    @Option(help: "Link for augmenter workers (default: control port + 2).")
    var augmenter: String?
    @Option(help: "Link for embedding workers (default: control port + 3).")
    var embeddingWorker: String?
    @Option(help: "Link for evaluators (default: control port + 4).")
    var evaluator: String?

    @Option(help: "Heartbeat period in seconds (zguide Paranoid Pirate: 1 s).")
    var heartbeat = 1.0

    @Option(
        help:
            "The run this coordinator serves: workers must say the same token in Ready or are refused (both sides log it). Default: $\(RunToken.environment), else any worker is accepted."
    )
    var runToken: String?

    @Option(
        help:
            "Largest incoming message in bytes (ZMQ_MAXMSGSIZE): a peer sending more is disconnected before it is read. It must hold a step's embeddings and gradients."
    )
    var maxMessageBytes = WireLimits.defaultMaxMessageBytes

    @Option(
        help:
            "CurveZMQ: file with the coordinator's key pair (public, secret; Z85). Turns encryption on; created if absent. Default: $\(CurveEnvironment.coordinatorKeyFile)."
    )
    var curveKeyFile: String?

    @Option(
        help:
            "CurveZMQ: file of the client public keys allowed to connect, one Z85 key per line (# comments); any other is refused and logged. Needs --curve-key-file. Default: $\(CurveEnvironment.clients)."
    )
    var curveClients: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @OptionGroup(title: "Training (with --run-folder and --labels; without them the coordinator only serves its links)")
    var training: TrainingOptions

    @Option(help: "Label file of the training images (see comcl manifest); their paths are relative to the croppers' --data-root.")
    var labels: String?
    @Option(help: "Format of the label file: \(ManifestFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: ManifestFormat = .eyeq
    @Option(help: "ChestX-ray14: the quality CSV.")
    var quality: String?
    @Option(
        help:
            "Folder the label file's image paths are relative to, as the launcher resolved it (only used to rewrite ../ and absolute paths as the croppers' data root sees them; default as comcl manifest)."
    )
    var images: String?
    @Flag(help: "Leave out bad rows of the label file (as the launcher did), instead of stopping.")
    var skipBad = false

    @Option(
        help:
            "Evaluation job (JSON, docs/evaluation.md): when training ends (or at once, without --run-folder), an evaluator scores the encoders it names."
    )
    var evaluation: String?

    func links() throws -> Links {
        guard let portText = control.split(separator: ":").last, let port = Int(portText) else {
            throw ValidationError(
                "--control \(control): expected tcp://host:port to derive the worker links; give each link explicitly otherwise")
        }
        var links = Links.derived(host: String(control.dropLast(portText.count + 1)), basePort: port)
        let explicit: [(Role, String?)] = [
            (.detectorCropper, detectorCropper), (.augmenter, augmenter), (.embeddingWorker, embeddingWorker), (.evaluator, evaluator),
        ]
        for case let (role, endpoint?) in explicit { links.workers[role] = endpoint }
        return links
    }

    func run() throws {
        LogSetup.bootstrap(level: logLevel)
        HeapTuning.keepLargeAllocations()
        let logger = Logger(label: "comcl.coordinator")
        let stop = StopSignal()
        var options = SocketOptions()
        options.maxMessageBytes = Int64(maxMessageBytes)
        let curveKeyFile = CurveEnvironment.value(curveKeyFile, CurveEnvironment.coordinatorKeyFile)
        let curveClients = CurveEnvironment.value(curveClients, CurveEnvironment.clients)
        if let curveKeyFile {
            if !FileManager.default.fileExists(atPath: curveKeyFile) {
                try CurveKeyFile.save(try CurveKeyPair.generate(), to: curveKeyFile)
            }
            let keys = try CurveKeyFile.load(curveKeyFile)
            options.curve = .server(keys)
            logger.info("CurveZMQ on; coordinator public key \(keys.publicKey)")
        }
        var allowed: [String]?
        if let curveClients {
            guard curveKeyFile != nil else { throw ValidationError("--curve-clients needs --curve-key-file (CURVE on)") }
            allowed = try CurveKeyFile.publicKeys(curveClients)
            logger.info("CurveZMQ clients: \(allowed!.count) listed keys in \(curveClients); any other is refused")
        }
        let run = try trainingRun(logger: logger)
        let metrics = try metricsEndpoint(for: run, logger: logger)
        defer { metrics?.stop() }
        let candidates: [(any CoordinatorDriver)?] = [run, try evaluationStage(after: run?.config, logger: logger)]
        let stages = candidates.compactMap { $0 }
        let driver = stages.isEmpty ? nil : DriverSequence(stages)
        let service = try CoordinatorService(
            name: "coordinator@\(ProcessInfo.processInfo.hostName):\(getpid())", links: try links(),
            config: DistributorConfig(heartbeatInterval: heartbeat, runToken: RunToken.resolved(runToken)), options: options,
            logger: logger, driver: driver, allowedClients: allowed)
        try service.run(shouldStop: { stop.isSet })
        if let failure = driver?.failure {
            logger.critical("\(failure)")
            throw ExitCode(2)
        }
        if let driver, !driver.finished { throw ExitCode(3) }  // stopped by a signal: resume with --resume
    }

    /// The evaluation asked for with --evaluation: its job file, checked now, sent when training
    /// (`run`, if any) ends.
    func evaluationStage(after run: TrainingConfig?, logger: Logger) throws -> EvaluationStage? {
        guard let evaluation else { return nil }
        let job: EvaluationJob
        do { job = try JSONDecoder().decode(EvaluationJob.self, from: try Data(contentsOf: URL(fileURLWithPath: evaluation))) } catch {
            throw ValidationError("--evaluation \(evaluation): not an evaluation job: \(error)")
        }
        do { try job.config.validate() } catch { throw ValidationError("--evaluation \(evaluation): \(error)") }
        // After the run's last step; item 0 is the first attempt (EvaluationStage numbers the rest).
        let id = WorkID(run: run?.run ?? "evaluation", step: UInt64(run?.steps ?? 0), item: 0)
        // The run folder keeps the table and where the report is (the evaluator writes the rest).
        let summary = training.runFolder.map { URL(fileURLWithPath: $0).appendingPathComponent("evaluation.md") }
        return EvaluationStage(request: job.request(id: id), logger: logger) { result in
            guard let summary else { return }
            try AtomicFile.write(Data("\(result.table)\nreport: \(result.report)\n".utf8), to: summary)
        }
    }

    /// Prometheus's /metrics, when asked for (--metrics-port): the run's state after every step.
    func metricsEndpoint(for run: TrainingRun?, logger: Logger) throws -> HTTPTextEndpoint? {
        guard let port = training.metricsPort else { return nil }
        guard (1...65535).contains(port) else { throw ValidationError("--metrics-port \(port): give a TCP port, 1-65535") }
        let endpoint = try HTTPTextEndpoint(
            bind: "tcp://0.0.0.0:\(port)", path: "/metrics", contentType: "text/plain; version=0.0.4; charset=utf-8", logger: logger)
        endpoint.update("# comcl: no step taken yet\n")
        run?.publish = { endpoint.update($0) }
        logger.info("Prometheus metrics at http://\(ProcessInfo.processInfo.hostName):\(port)/metrics")
        return endpoint
    }

    /// The training run, when asked for (--run-folder with --labels).
    func trainingRun(logger: Logger) throws -> TrainingRun? {
        guard let folder = training.runFolder else {
            if labels != nil { throw ValidationError("--labels needs --run-folder (where the run writes)") }
            return nil
        }
        guard let labels else { throw ValidationError("--run-folder needs --labels (the training images)") }
        var options = ManifestOptions(format: format, labels: labels, images: images, quality: quality, skipBad: skipBad)
        options.checkFiles = false  // the croppers read the images; a missing one is re-planned
        let manifest: Manifest
        do { manifest = try Manifest.load(options) } catch { throw ValidationError("\(error)") }
        do {
            return try TrainingRun(
                config: try training.resolved(images: manifest.entries.count), entries: manifest.entries.map { ($0.image, $0.level) },
                folder: URL(fileURLWithPath: folder), resume: training.resume, minWorkers: training.minWorkers, balance: training.balance,
                exportViews: training.exportViews.map { URL(fileURLWithPath: $0) }, logger: logger)
        } catch let error as TrainingError {
            throw ValidationError("\(error)")
        }
    }
}

CoordinatorCommand.main(LayeredArguments.forProcess(CoordinatorCommand.self))
