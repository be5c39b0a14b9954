import ArgumentParser
import Encoder
import Foundation
import ServiceKit

/// `comcl bench encoder`: the encoder's speed against PyTorch, printed (a benchmark, not a test;
/// README, Performance).
struct BenchEncoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder",
        abstract:
            "Benchmark the encoder: each convolution on oneDNN, and the training step against PyTorch (NCHW and channels_last), with peak memory.",
        discussion: "PyTorch comes from --python (default: .cache/torch-venv, made by scripts/torch-venv.sh, else python3).")

    @Option(help: "Architectures for the training-step table.") var archs = "resnet18,resnet50"
    @Option(help: "Batch sizes for the training-step table.") var batches = "32,64"
    @Option(help: "Image side (CoMCL patches are 128x128).") var size = 128
    @Option(help: "Width multiplier of the training-step table's encoders (the demo's: 0.25).") var width = 1.0
    @Option(help: "Threads for oneDNN, our loops, OpenBLAS and PyTorch.") var threads = 2
    @Option(help: "Timed training steps per measurement (after 2 warm-up steps).") var steps = 5
    @Option(help: "Rounds of each (ours, PyTorch NCHW, PyTorch channels_last) comparison, back to back, to show the noise.") var repeats = 2
    @Option(help: "Batch for the per-convolution table.") var convBatch = 32
    @Flag(help: "Skip the per-convolution table.") var noConvTable = false
    @Flag(help: "Skip PyTorch.") var noTorch = false
    @Option(help: "The Python interpreter with torch and torchvision.") var python: String?
    @Option(help: .hidden) var single: String?

    func validate() throws {
        if let problem = ModelConfig.widthProblem(width) { throw ValidationError("--\(problem)") }
        guard size >= 32, threads >= 1, steps >= 1, repeats >= 1, convBatch >= 1 else {
            throw ValidationError("--size must be at least 32; --threads, --steps, --repeats and --conv-batch at least 1")
        }
    }

    func run() throws {
        let choice = BLASCore.select()
        EngineThreads.set(threads)
        if let single { return try runSingle(single) }
        let peak = MachinePeak.measure(threads: threads)
        print("engine: \(EngineInfo.summary); \(threads) threads; \(choice)")
        print(String(format: "machine fp32 peak, measured: %.0f GFLOP/s (%d threads of %d-float FMAs)", peak.gflops, threads, peak.width))
        if !noConvTable {
            for arch in [ResNetArch.resnet18, .resnet50] { convTable(arch, peak: peak.gflops) }
        }
        stepTable(peak: peak.gflops)
    }

    /// One training-step measurement in this (child) process, so its peak memory is its own.
    func runSingle(_ spec: String) throws {
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let arch = ResNetArch(rawValue: String(parts[0])), let batch = Int(parts[1]) else {
            throw ValidationError("--single wants ARCH:BATCH")
        }
        let timer = TrainingStepTimer(config: .contrastive(arch: arch, width: width), batch: batch, size: size)
        let (seconds, split) = timer.run(steps: steps)
        let line: [String: Any] = [
            "seconds_per_step": seconds, "images_per_second": Double(batch) / seconds,
            "gflops": timer.flopsPerStep / seconds / 1e9, "peak_rss_mb": peakResidentMB(), "split": split,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: line), as: UTF8.self))
    }

    func convTable(_ arch: ResNetArch, peak: Double) {
        let net = ResNet(arch: arch)
        print(
            "\n\(arch.rawValue) @\(size)x\(size), batch \(convBatch): each convolution, forward + backward (data and weights; the stem has no data gradient)"
        )
        print("  conv (in->out, k, stride, input)          GFLOP/s  % peak   oneDNN implementation (forward, weights, data)")
        func key(_ conv: Conv2d, _ input: Shape4) -> String {
            "\(conv.inChannels)->\(conv.outChannels) k\(conv.kernel) s\(conv.stride) \(input.h)x\(input.w)"
        }
        let convolutions = net.convolutionInputs(height: size, width: size)
        let counts = Dictionary(convolutions.map { (key($0.conv, $0.input), 1) }, uniquingKeysWith: +)
        var seen = Set<String>()
        var time = 0.0, flops = 0.0
        for (index, (conv, one)) in convolutions.enumerated() {
            let key = key(conv, one), count = counts[key]!
            guard seen.insert(key).inserted else { continue }
            let input = Shape4(n: convBatch, h: one.h, w: one.w, c: one.c)
            let stem = index == 0, passes = stem ? 2.0 : 3.0
            let fresh = Conv2d(conv.inChannels, conv.outChannels, kernel: conv.kernel, stride: conv.stride, padding: conv.padding)
            let seconds = timeConv(fresh, input, inputGradient: !stem)
            let f = passes * 2 * conv.forwardMACs(input)
            time += seconds * Double(count); flops += f * Double(count)
            let rate = f / seconds / 1e9
            print(
                "  " + "\(key) x\(count)".padding(toLength: 42, withPad: " ", startingAt: 0)
                    + String(format: " %7.1f %6.0f%%   ", rate, 100 * rate / peak) + fresh.implementations(input).joined(separator: ", "))
        }
        print(
            String(
                format: "  all convolutions of one step: %.0f ms, %.1f GFLOP/s, %.0f%% of peak", 1000 * time, flops / time / 1e9,
                100 * flops / time / 1e9 / peak))
    }

    /// Best of 3 forward + backward passes of one convolution.
    func timeConv(_ conv: Conv2d, _ input: Shape4, inputGradient: Bool) -> Double {
        let x = Tensor4(shape: input, values: (0..<input.count).map { Float($0 % 13) * 0.01 })
        let out = conv.outputShape(input)
        let dy = Tensor4(shape: out, values: Array(repeating: 0.01, count: out.count))
        return best(of: 3) {
            _ = conv.forward(x); _ = conv.backward(dy, needInputGradient: inputGradient)
        }
    }

    func best(of runs: Int, _ body: () -> Void) -> Double {
        body()  // warm-up (creates the primitives)
        return (0..<runs).map { _ in
            let t = Date(); body(); return Date().timeIntervalSince(t)
        }.min()!
    }

    func stepTable(peak: Double) {
        let python = noTorch ? nil : torchPython()
        print(
            "\nTraining step (forward, backward, Adam), contrastive model, width \(width), \(size)x\(size), \(threads) threads, mean of \(steps) steps;"
                + " each round runs ours, then PyTorch NCHW, then PyTorch channels_last, back to back")
        if let python {
            print("  PyTorch: \(python.version) (\(python.path))")
        } else if !noTorch {
            print("  PyTorch not found: scripts/torch-venv.sh makes .cache/torch-venv, or pass --python")
        }
        print(
            "  model      batch round | ours img/s GFLOP/s %peak  RSS MB | torch NCHW img/s RSS MB | torch CL img/s RSS MB | ours/best torch"
        )
        let configs = archs.split(separator: ",").flatMap { a in batches.split(separator: ",").map { (String(a), String($0)) } }
        for (arch, batch) in configs {
            for round in 1...max(1, repeats) {
                guard
                    let ours = childJSON(
                        CommandLine.arguments[0],
                        [
                            "bench", "encoder", "--single", "\(arch):\(batch)", "--size", "\(size)", "--width", "\(width)",
                            "--threads", "\(threads)", "--steps", "\(steps)",
                        ])
                else {
                    print("  \(arch):\(batch): our benchmark child failed"); continue
                }
                let rate = ours["images_per_second"] as? Double ?? 0, gflops = ours["gflops"] as? Double ?? 0
                var line =
                    "  " + arch.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + String(
                        format: " %5d %5d | %10.1f %7.1f %4.0f%% %7.0f", Int(batch) ?? 0, round, rate, gflops, 100 * gflops / peak,
                        ours["peak_rss_mb"] as? Double ?? 0)
                if let python {
                    var best = 0.0
                    for layout in ["nchw", "channels_last"] {
                        let t = childJSON(
                            python.path,
                            [torchScript, width == 1 ? arch : "\(arch):\(width)", batch, "\(size)", "\(threads)", "\(steps)", layout])
                        let torchRate = t?["images_per_second"] as? Double ?? 0
                        best = max(best, torchRate)
                        line +=
                            t == nil
                            ? " | (PyTorch failed)          "
                            : String(format: " | %16.1f %6.0f", torchRate, t?["peak_rss_mb"] as? Double ?? 0)
                    }
                    line += best > 0 ? String(format: " | %6.2fx", rate / best) : ""
                }
                print(line)
                if let split = ours["split"] as? [String: Double] {
                    print(
                        String(
                            format: "                              ours: forward %.0f ms, backward %.0f ms, Adam %.0f ms",
                            1000 * (split["forward"] ?? 0), 1000 * (split["backward"] ?? 0), 1000 * (split["optimizer"] ?? 0)))
                }
            }
        }
        print("  (%peak: of the measured peak above; RSS: each process's peak resident memory)")
    }

    var repositoryFolder: URL? {
        // This binary sits in the repository's build folder (.build/<config>/comcl).
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("scripts/bench_torch.py").path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    var torchScript: String { repositoryFolder?.appendingPathComponent("scripts/bench_torch.py").path ?? "scripts/bench_torch.py" }

    /// The interpreter that imports torch, and torch's version: --python, the repository's
    /// .cache/torch-venv, or python3 on PATH.
    func torchPython() -> (path: String, version: String)? {
        var candidates: [String] = []
        if let python { candidates.append(python) }
        if let repo = repositoryFolder { candidates.append(repo.appendingPathComponent(".cache/torch-venv/bin/python").path) }
        candidates.append("/usr/bin/python3")
        for path in candidates where FileManager.default.isExecutableFile(atPath: path) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: path)
            p.arguments = ["-c", "import torch; print(torch.__version__)"]
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = FileHandle.nullDevice
            guard (try? p.run()) != nil else { continue }
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            if p.terminationStatus == 0 {
                return (path, "torch " + String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        return nil
    }

    func childJSON(_ executable: String, _ arguments: [String]) -> [String: Any]? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        guard (try? p.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }
}

/// Peak resident memory of this process (VmHWM), in MB.
func peakResidentMB() -> Double {
    Double(ProcessResources.status(pid: getpid())?["VmHWM"] ?? 0) / 1024
}
