import Basics
import Encoder
import Foundation

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
    public static func folder(_ run: URL) -> URL { run.appendingPathComponent("checkpoints") }

    public static func save(_ master: MasterModel, state: CheckpointState, run: URL) throws {
        let root = folder(run)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let name = String(format: "step-%06d", state.step)
        let final = root.appendingPathComponent(name)
        let temporary = root.appendingPathComponent(".\(name).tmp-\(getpid())")
        try? FileManager.default.removeItem(at: temporary)
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        let meta = ["step": "\(state.step)", "arch": state.config.arch.rawValue, "width": "\(state.config.width)", "run": state.config.run]
        try ModelState.save(master.model, to: temporary.appendingPathComponent("model.safetensors"), metadata: meta)
        try AtomicFile.write(
            master.optimizer.encodeState(names: master.model.parameters.map(\.name)), to: temporary.appendingPathComponent("optimizer.safetensors"))
        try AtomicFile.write(try TrainingConfig.json(state), to: temporary.appendingPathComponent("trainer.json"))
        try? FileManager.default.removeItem(at: final)  // a re-save of the same step (a resumed run)
        try FileManager.default.moveItem(at: temporary, to: final)
        AtomicFile.syncDirectory(root)
        try AtomicFile.write(Data((name + "\n").utf8), to: root.appendingPathComponent("latest"))
    }

    /// The newest checkpoint of a run folder, if any.
    public static func latest(_ run: URL) throws -> URL? {
        let pointer = folder(run).appendingPathComponent("latest")
        guard let text = try? String(contentsOf: pointer, encoding: .utf8) else { return nil }
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.hasPrefix("step-"), !name.contains("/") else { throw TrainingError.config("\(pointer.path) names \"\(name)\", not a checkpoint") }
        return folder(run).appendingPathComponent(name)
    }

    /// Loads a checkpoint into `master`; its config must equal `config` except the step count
    /// (a run may be extended). Returns the state.
    public static func load(_ checkpoint: URL, into master: MasterModel, config: TrainingConfig) throws -> CheckpointState {
        let state: CheckpointState
        do {
            state = try JSONDecoder().decode(CheckpointState.self, from: Data(contentsOf: checkpoint.appendingPathComponent("trainer.json")))
        } catch {
            throw TrainingError.config("\(checkpoint.path)/trainer.json: \(error)")
        }
        var saved = state.config, wanted = config
        (saved.steps, wanted.steps) = (0, 0)
        (saved.checkpointEvery, wanted.checkpointEvery, saved.prefetch, wanted.prefetch) = (0, 0, 0, 0)
        guard saved == wanted else {
            throw TrainingError.config("\(checkpoint.path) was written by another configuration; resume with the same options (saved: \(state.config))")
        }
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
