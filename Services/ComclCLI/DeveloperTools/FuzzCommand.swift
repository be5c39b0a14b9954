import ArgumentParser
import Foundation
import Fuzzing

/// `comcl fuzz`: the seeded mutation fuzzer over every network and file decoder
/// (README, Reliability). The tests run a bounded number of inputs; scripts/fuzz.sh runs this
/// long under AddressSanitizer and LeakSanitizer.
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Feed mutated inputs to the message, image, label-file and tensor-file decoders; a crash or a hang names the input.",
        discussion:
            "Input N of a target is a function of (seed, target, N), so --from N --inputs 1 --save DIR reproduces one input as a file.")

    @Option(help: "Targets, comma-separated (default: all): \(((try? FuzzTarget.all()) ?? []).map(\.name).joined(separator: ", ")).")
    var target: String?

    @Option(help: "Inputs per target.") var inputs = 100_000
    @Option(help: "First input number.") var from = 0
    @Option(help: "The run's seed.") var seed: UInt64 = 1
    @Option(help: "Seconds one input may take before it counts as a hang (the process then exits, naming it).") var hangSeconds = 10.0
    @Option(help: "Folder of extra seed files, taken by extension (.png, .jpg, .csv, .safetensors, .npy, .json, .pb).") var corpus: String?
    @Option(help: "Write each input run to this folder (as <target>-<number>.bin) instead of only decoding it.") var save: String?

    func validate() throws {
        guard inputs > 0, from >= 0 else { throw ValidationError("--inputs must be positive and --from not negative") }
    }

    func run() throws {
        var targets = try FuzzTarget.all()
        if let target {
            let wanted = target.split(separator: ",").map(String.init)
            for name in wanted where !targets.contains(where: { $0.name == name }) {
                throw ValidationError("no fuzz target \(name) (targets: \(targets.map(\.name).joined(separator: ", ")))")
            }
            targets = targets.filter { wanted.contains($0.name) }
        }
        if let corpus { targets = try targets.map { try $0.addingSeeds(from: URL(fileURLWithPath: corpus)) } }
        var runner = FuzzRunner(seed: seed)
        runner.hangSeconds = hangSeconds
        for target in targets {
            if let save {
                let folder = URL(fileURLWithPath: save)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for index in from..<(from + inputs) {
                    try Data(runner.input(target, number: index)).write(to: folder.appendingPathComponent("\(target.name)-\(index).bin"))
                }
            }
            print(runner.run(target, inputs: from..<(from + inputs)))
            fflush(nil)
        }
    }
}
