import ArgumentParser

/// `comcl bench ...`: the benchmarks, apart from the tests (README, Performance).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: the encoder against PyTorch, the training step, and each service's throughput.",
        subcommands: [
            BenchEncoderCommand.self, BenchTrainCommand.self, BenchCropperCommand.self, BenchAugmenterCommand.self,
            BenchDetectorCommand.self,
        ])
}
