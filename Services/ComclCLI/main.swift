import ArgumentParser
import Foundation
import ServiceCommandLine
import ServiceKit

/// `comcl`: the command users type.
struct Comcl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comcl",
        abstract: "CoMCL-Swift: multi-level contrastive pre-training for low-quality medical images, as ZeroMQ services.",
        version: ComclVersion.string,
        subcommands: [
            DemoCommand.self, TrainCommand.self, EvaluateCommand.self, AblationCommand.self, StatusCommand.self,
            ManifestCommand.self, SynthCommand.self, DegradeCommand.self, ImageInfoCommand.self, EmbedCommand.self, ScoreCommand.self,
            ShowDetectionsCommand.self, ShowViewsCommand.self, RecipeCommand.self, KeysCommand.self, KeygenCommand.self, BenchCommand.self,
        ],
        groupedSubcommands: [
            CommandGroup(
                name: "Developer tools",
                subcommands: [CheckLinksCommand.self, LossCommand.self, FuzzCommand.self, SoakCommand.self])
        ])
}

// Parse errors show the usage (it helps); an error raised while running (a file that does not
// parse, a refused path) is one sentence: the banner would bury it.
var command: ParsableCommand
do {
    // The layered settings (file, COMCL_* environment, flags); the commands that make a run print
    // theirs in full and keep them in its folder.
    let runs: Set = ["train", "evaluate", "demo", "ablation", "soak"]
    let arguments = LayeredArguments.forProcess(Comcl.self, atExit: false) { runs.contains($0.commandPath.last!) }
    command = try Comcl.parseAsRoot(CommandLineValues.attachingNegativeNumbers(arguments))
} catch {
    Comcl.exit(withError: error)
}
do {
    try command.run()
    LayeredArguments.keepSettings()
} catch let error as ValidationError {
    FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
    exit(ExitCode.validationFailure.rawValue)
} catch {
    Comcl.exit(withError: error)
}
