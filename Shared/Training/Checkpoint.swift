import Basics
import Encoder
import Foundation
import Logging
import Synchronization

/// What a checkpoint holds besides weights and optimizer: enough to continue exactly.
public struct CheckpointState: Codable, Sendable, Equatable {
    /// Steps done; the next step to run.
    public var step: Int
    public var config: TrainingConfig
    /// FNV-1a 64 of the weights (hex), to check a load.
    public var checksum: String
    /// Where the randomness lives: every plan, crop and view derives from (seed, step, item), so
    /// there is no generator state to carry; written out so a reader need not guess.
    public var rng = "stateless: plans, crops and views derive from (seed, step, item); init from seed"
    /// The SPL schedule is a function of (step, steps); its parameters, and K_t of the last step.
    public var spl: [String: Double] = [:]

    public init(step: Int, config: TrainingConfig, checksum: String) {
        (self.step, self.config, self.checksum) = (step, config, checksum)
    }
}

/// Checkpoints in a run folder: `checkpoints/step-000050/{model,optimizer}.safetensors` +
/// `trainer.json`, and `checkpoints/latest` naming the newest. A checkpoint is written into a
/// temporary folder, each file fsynced, then renamed into place, and only then does `latest`
/// move (atomically): a kill at any moment leaves the previous checkpoint usable.
public enum Checkpoint {
    public static func folder(_ run: URL) -> URL { CheckpointLayout.folder(run) }

    /// A checkpoint's files, encoded in memory: taking one is quick (a copy of the state), so the
    /// training loop can hand the slow part (writing, fsync) to a `CheckpointWriter`.
    public struct Snapshot: Sendable {
        public let step: Int
        let files: [(name: String, data: Data)]
        var name: String { String(format: "step-%06d", step) }
    }

    public static func snapshot(_ master: MasterModel, state: CheckpointState) throws -> Snapshot {
        let meta = ["step": "\(state.step)", "arch": state.config.arch.rawValue, "width": "\(state.config.width)", "run": state.config.run]
        return Snapshot(
            step: state.step,
            files: [
                ("model.safetensors", ModelState.encode(master.model, metadata: meta)),
                ("optimizer.safetensors", master.optimizer.encodeState(names: master.model.parameters.map(\.name))),
                ("trainer.json", try TrainingConfig.json(state)),
            ])
    }

    public static func save(_ master: MasterModel, state: CheckpointState, run: URL) throws {
        try write(try snapshot(master, state: state), run: run)
    }

    public static func write(_ snapshot: Snapshot, run: URL) throws {
        let root = folder(run)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let final = root.appendingPathComponent(snapshot.name)
        let temporary = root.appendingPathComponent(".\(snapshot.name).tmp-\(getpid())")
        try? FileManager.default.removeItem(at: temporary)
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        for file in snapshot.files { try AtomicFile.write(file.data, to: temporary.appendingPathComponent(file.name)) }
        try? FileManager.default.removeItem(at: final)  // a re-save of the same step (a resumed run)
        try FileManager.default.moveItem(at: temporary, to: final)
        AtomicFile.syncDirectory(root)
        try AtomicFile.write(Data((snapshot.name + "\n").utf8), to: root.appendingPathComponent("latest"))
    }

    /// Refuses, before anything is written, a start that would damage or misread the run folder:
    /// a fresh run over an earlier run's checkpoints, `--resume` with no checkpoint, `--resume`
    /// with other options. A launcher calls it up front; `TrainingRun` checks the same again.
    public static func checkStart(_ run: URL, config: TrainingConfig, resume: Bool) throws {
        let checkpoint = try latest(run)
        switch (resume, checkpoint) {
        case (true, nil):
            throw TrainingError.config("--resume: \(folder(run).path) has no checkpoint to continue; start the run without --resume")
        case (true, let checkpoint?):
            _ = try compatibleState(checkpoint, config: config)
        case (false, let checkpoint?):
            throw TrainingError.config(
                "\(run.path) holds an earlier run's checkpoints (\(checkpoint.lastPathComponent)): continue it with --resume, or give another run folder"
            )
        case (false, nil):
            return
        }
    }

    /// A checkpoint's recorded state, if its config equals `config` except the step count (a run
    /// may be extended) and the knobs that do not change the result.
    static func compatibleState(_ checkpoint: URL, config: TrainingConfig) throws -> CheckpointState {
        let state: CheckpointState
        do {
            state = try JSONDecoder().decode(
                CheckpointState.self, from: Data(contentsOf: checkpoint.appendingPathComponent("trainer.json")))
        } catch {
            throw TrainingError.config("\(checkpoint.path)/trainer.json: \(error)")
        }
        var saved = state.config, wanted = config
        (saved.steps, wanted.steps) = (0, 0)
        (saved.checkpointEvery, wanted.checkpointEvery, saved.prefetch, wanted.prefetch) = (0, 0, 0, 0)
        guard saved == wanted else {
            throw TrainingError.config(
                "\(checkpoint.path) was written by another configuration; resume with the same options (saved: \(state.config))")
        }
        return state
    }

    /// The newest checkpoint of a run folder, if any (CheckpointLayout; a bad pointer is a config error).
    public static func latest(_ run: URL) throws -> URL? {
        do { return try CheckpointLayout.latest(run) } catch { throw TrainingError.config("\(error)") }
    }

    /// Loads a checkpoint into `master`; its config must equal `config` except the step count
    /// (a run may be extended). Returns the state.
    public static func load(_ checkpoint: URL, into master: MasterModel, config: TrainingConfig) throws -> CheckpointState {
        let state = try compatibleState(checkpoint, config: config)
        try ModelState.load(contentsOf: checkpoint.appendingPathComponent("model.safetensors"), into: master.model)
        let optimizer = try SafeTensors(contentsOf: checkpoint.appendingPathComponent("optimizer.safetensors"))
        try master.optimizer.restoreState(optimizer, names: master.model.parameters.map(\.name))
        master.restored(version: UInt64(state.step))
        let checksum = String(master.checksum, radix: 16)
        guard checksum == state.checksum else {
            throw TrainingError.config("\(checkpoint.path): weights checksum \(checksum) after loading, the file records \(state.checksum)")
        }
        return state
    }
}

/// Writes checkpoints on a background queue, one at a time and in order, so the training loop
/// (and the heartbeats it serves) does not stall on the disk: a full ResNet-18 checkpoint with
/// fsync took 3.7 s here, 14 % of a batch-400 step. The first failure is kept for the loop to
/// report; `wait()` drains the queue before the run says it has finished.
final class CheckpointWriter: Sendable {
    private let queue = DispatchQueue(label: "checkpoint-writer")
    private let state = Mutex<(failure: String?, written: Int?)>((nil, nil))
    let run: URL

    init(run: URL) { self.run = run }

    func submit(_ snapshot: Checkpoint.Snapshot, logger: Logger) {
        queue.async { [self] in
            do {
                try Checkpoint.write(snapshot, run: run)
                state.withLock { $0.written = snapshot.step }
                logger.info("checkpoint step \(snapshot.step) written")
            } catch {
                state.withLock { $0.failure = $0.failure ?? "cannot write the checkpoint of step \(snapshot.step): \(error)" }
            }
        }
    }

    /// The first write that failed, if any.
    var failure: String? { state.withLock { $0.failure } }

    /// Blocks until every submitted checkpoint is on disk (or failed).
    func wait() { queue.sync {} }
}
