import ArgumentParser
import Training

/// `comcl train`: pre-trains CoMCL on one machine. Starts the coordinator, a detector/cropper,
/// the augmenters and the embedding workers as local processes on loopback, shows a progress
/// line per step from the run's metrics.jsonl, and stops everything at the end.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Pre-train an encoder with CoMCL: every service as a local process, progress per step, checkpoints in the run folder.",
        discussion:
            "Kill it (or the coordinator) at any point and run the same command with --resume: the run ends with the weights of an uninterrupted one."
    )

    @OptionGroup var options: LocalTrainingOptions

    func run() throws {
        let local = try options.localTraining()
        try local.run()
        print("done: checkpoints in \(Checkpoint.folder(local.folder).path)")
    }
}
