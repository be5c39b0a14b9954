import ArgumentParser
import Basics
import Cropping
import Datasets
import Detection
import Foundation
import Training
import Wire

/// `comcl bench train`: runs `comcl train` for a few steps on a configuration and prints where a
/// step's time goes, the embedding workers' busy share and the coordinator's share.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract:
            "Time split of training steps with real processes: waiting for views, forward, loss, backward (with the workers' gradient sum and Adam), the wait for peers' parts; worker busy and coordinator shares."
    )

    enum Preset: String, ExpressibleByArgument, CaseIterable {
        /// The demo's scale: a quarter-width ResNet-18 on 128-px views, 32 patches a step.
        case demo
        /// The paper's batch on a full ResNet-18 (the distributed step's first benchmark).
        case resnet18_400 = "resnet18-400"

        var flags: [String] {
            switch self {
            case .demo: ["--arch", "resnet18", "--width", "0.25", "--batch", "32", "--bn-group", "8"]
            case .resnet18_400: ["--arch", "resnet18", "--width", "1", "--batch", "400", "--bn-group", "20"]
            }
        }
    }

    @Option(help: "Dataset folder with labels.csv and images/ (as `comcl synth` writes).") var data: String
    @Option(help: "Configurations: \(Preset.allCases.map(\.rawValue).joined(separator: ", ")), comma-separated.") var presets = "demo"
    @Option(help: "Steps per configuration; the first (no prefetch yet, first weights transfer) is left out of the averages.") var steps = 4
    @Option(help: "Augmenter processes.") var augmenters = 2
    @Option(help: "Embedding worker processes.") var embeddingWorkers = 2
    @Option(help: "First loopback port.") var basePort = 5670
    @Option(
        help:
            "Where patches and views travel: auto (from the croppers' and augmenters' data endpoints), off (through the coordinator), or both (each preset twice)."
    )
    var dataPlane = "auto"

    func run() throws {
        let chosen = try presets.split(separator: ",").map { name in
            guard let preset = Preset(rawValue: String(name)) else {
                throw ValidationError("unknown preset \(name); known: \(Preset.allCases.map(\.rawValue))")
            }
            return preset
        }
        guard steps >= 2 else { throw ValidationError("--steps must be at least 2 (the first is warm-up)") }
        let comcl = ThisProgram.sibling("comcl")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-bench-train-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        // Detection runs once per image and is cached; a long run pays it in its first pass only,
        // so the benchmark fills the cache first and measures the steady state.
        let manifest = try Manifest.load(
            ManifestOptions(format: .eyeq, labels: URL(fileURLWithPath: data).appendingPathComponent("labels.csv").path))
        try DetectionWarmup.fill(cache, for: manifest)
        print(
            "\(ProcessInfo.processInfo.activeProcessorCount) cores; \(augmenters) augmenters, \(embeddingWorkers) embedding workers; prior-work views of 128 px; steps 2-\(steps) averaged"
        )
        print(
            "preset          s/step   wait  forward (compute)   loss  backward (compute)   sum  other  ckpt   busy slowest  coord  patches/s  hub MB/step"
        )
        let modes = dataPlane == "both" ? ["off", "auto"] : [dataPlane]
        guard modes.allSatisfy({ ["auto", "off"].contains($0) }) else { throw ValidationError("--data-plane: auto, off or both") }
        for preset in chosen {
            for mode in modes {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-bench-train-\(UUID().uuidString)")
                let process = Process()
                process.executableURL = comcl
                process.arguments =
                    [
                        "train", "--labels", URL(fileURLWithPath: data).appendingPathComponent("labels.csv").path, "--run-folder",
                        folder.path,
                        "--steps", "\(steps)", "--augmenters", "\(augmenters)", "--embedding-workers", "\(embeddingWorkers)", "--base-port",
                        "\(basePort)",
                        "--checkpoint-every", "\(steps)", "--detection-cache", cache.path, "--data-plane", mode,
                    ] + preset.flags
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else {
                    let log = (try? String(contentsOf: folder.appendingPathComponent("logs/coordinator.log"), encoding: .utf8)) ?? ""
                    throw Problem(
                        "\(preset.rawValue): comcl train exited with \(process.terminationStatus); logs in \(folder.path)/logs\n\(log.split(separator: "\n").suffix(5).joined(separator: "\n"))"
                    )
                }
                defer { try? FileManager.default.removeItem(at: folder) }
                let records = MetricsFollower(folder.appendingPathComponent("metrics.jsonl")).newRecords().dropFirst()
                let n = Double(records.count)
                func mean(_ value: (StepRecord) -> Double) -> Double { records.reduce(0) { $0 + value($1) } / n }
                let t = { (k: KeyPath<StepRecord.Times, Double>) in mean { $0.times[keyPath: k] } }
                let steady = Double(records.reduce(0) { $0 + $1.batch }) / max(records.reduce(0) { $0 + $1.times.total }, 1e-9)
                print(
                    String(
                        format:
                            "%@ %7.2f %6.2f %8.2f %9.2f %6.3f %9.2f %9.2f %5.3f %6.3f %5.2f %5.1f%% %6.1f%% %5.2f%% %10.1f %12.2f",
                        (preset.rawValue + (modes.count > 1 ? " " + mode : "")).padding(toLength: 14, withPad: " ", startingAt: 0),
                        t(\.total), t(\.waitViews), t(\.forward),
                        t(\.forwardCompute), t(\.loss),
                        t(\.backward), t(\.backwardCompute), t(\.aggregate), t(\.other), t(\.checkpoint),
                        mean(\.workerBusy) * 100, mean { ($0.times.forwardCompute + $0.times.backwardCompute) / $0.times.total } * 100,
                        mean(\.coordinatorShare) * 100, steady, mean { Double($0.linkBytes?.values.reduce(0) { $0 + $1.total } ?? 0) } / 1e6
                    ))
                let links = Set(records.flatMap { $0.linkBytes?.keys.map { $0 } ?? [] }).sorted()
                let split = links.map { link in
                    String(
                        format: "%@ %.2f in / %.2f out", link, mean { Double($0.linkBytes?[link]?.received ?? 0) } / 1e6,
                        mean { Double($0.linkBytes?[link]?.sent ?? 0) } / 1e6)
                }
                print("                hub MB/step by link: " + split.joined(separator: "; "))
            }
        }
        print("(compute): the slowest worker's compute within the phase; the rest is transfers and decoding")
        print("sum: the longest a worker waited for its peers' gradient parts (within backward)")
        print("hub MB/step: bytes in and out of the coordinator on its worker links per step (10^6 bytes)")
        print("slowest: the slowest worker's busy share; busy is lower by the workers' spread (uneven CPU on a shared machine)")
        print(
            "busy: worker compute / (workers x step time), target >= 95 %; coord: the coordinator's CPU seconds / step time (checkpoint left out), target <= 3 %"
        )
    }
}
