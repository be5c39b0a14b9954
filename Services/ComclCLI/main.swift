import ArgumentParser
import ServiceKit

/// `comcl`: the command users type.
struct Comcl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comcl",
        abstract: "CoMCL-Swift: multi-level contrastive pre-training for low-quality medical images, as ZeroMQ services.",
        version: ComclVersion.string,
        subcommands: [DemoCommand.self, RunCommand.self, TrainCommand.self, StatusCommand.self, KeysCommand.self, KeygenCommand.self, ImageInfoCommand.self, EmbedCommand.self, BenchEncoderCommand.self,
            ManifestCommand.self, SynthCommand.self, DegradeCommand.self, BenchDetectorCommand.self, ShowDetectionsCommand.self,
            BenchCropperCommand.self, BenchAugmenterCommand.self, BenchTrainCommand.self, ShowViewsCommand.self, RecipeCommand.self, LossCommand.self, ScoreCommand.self, EvaluateCommand.self, AblationCommand.self, FuzzCommand.self, SoakCommand.self,
        ])
}

Comcl.main()
