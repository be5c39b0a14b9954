import ArgumentParser
import COpenBLAS
import Encoder
import Foundation
import ServiceKit

/// `comcl bench-encoder`: the encoder's speed, printed (a benchmark, not a test; README, Performance).
struct BenchEncoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-encoder",
        abstract: "Benchmark the encoder: conv layers vs raw cblas_sgemm, training step vs PyTorch, peak memory.")

    @Option(help: "Architectures for the training-step table.") var archs = "resnet18,resnet50"
    @Option(help: "Batch sizes for the training-step table.") var batches = "32,64"
    @Option(help: "Image side (CoMCL patches are 128x128).") var size = 128
    @Option(help: "Threads for OpenBLAS, our loops and PyTorch.") var threads = 2
    @Option(help: "Timed training steps per configuration (after 2 warm-up steps).") var steps = 5
    @Option(help: "Batch for the per-convolution table.") var convBatch = 32
    @Flag(help: "Skip the per-convolution table.") var noConvTable = false
    @Flag(help: "Skip PyTorch even if it is installed.") var noTorch = false
    @Option(help: "Column-buffer bytes per convolution chunk (tuning).") var columnBytes = ConvTuning.columnBytes
    @Option(help: "Minimum output pixels per convolution GEMM (tuning).") var minimumRows = ConvTuning.minimumRows
    @Option(help: .hidden) var single: String?

    func run() throws {
        let choice = BLASCore.select()
        EngineThreads.set(threads)
        (ConvTuning.columnBytes, ConvTuning.minimumRows) = (columnBytes, minimumRows)
        if let single { return try runSingle(single) }
        print("OpenBLAS: \(BLASInfo.summary); \(choice)")
        if !noConvTable {
            for arch in [ResNetArch.resnet18, .resnet50] { convTable(arch) }
        }
        stepTable()
    }

    /// One training-step configuration in this (child) process, so its peak memory is its own.
    func runSingle(_ spec: String) throws {
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let arch = ResNetArch(rawValue: String(parts[0])), let batch = Int(parts[1]) else {
            throw ValidationError("--single wants ARCH:BATCH")
        }
        let timer = TrainingStepTimer(config: .contrastive(arch: arch), batch: batch, size: size)
        let (seconds, split) = timer.run(steps: steps)
        let line: [String: Any] = [
            "seconds_per_step": seconds, "images_per_second": Double(batch) / seconds,
            "gflops": timer.flopsPerStep / seconds / 1e9, "peak_rss_mb": peakResidentMB(), "split": split,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: line), as: UTF8.self))
    }

    func convTable(_ arch: ResNetArch) {
        let net = ResNet(arch: arch)
        print("\n\(arch.rawValue) @\(size)x\(size), batch \(convBatch): convolution forward+backward vs cblas_sgemm on the same GEMMs")
        print("  conv (in->out, k, stride, input)            ours GFLOP/s   sgemm GFLOP/s   ratio")
        func key(_ conv: Conv2d, _ input: Shape4) -> String {
            "\(conv.inChannels)->\(conv.outChannels) k\(conv.kernel) s\(conv.stride) \(input.h)x\(input.w)"
        }
        let convolutions = net.convolutionInputs(height: size, width: size)
        let counts = Dictionary(convolutions.map { (key($0.conv, $0.input), 1) }, uniquingKeysWith: +)
        var seen = Set<String>()
        var ourTime = 0.0, gemmTime = 0.0, flops = 0.0
        for (conv, one) in convolutions {
            let key = key(conv, one), count = counts[key]!
            guard seen.insert(key).inserted else { continue }
            let input = Shape4(n: convBatch, h: one.h, w: one.w, c: one.c)
            let f = 3 * 2 * conv.forwardMACs(input)
            let ours = timeConv(Conv2d(conv.inChannels, conv.outChannels, kernel: conv.kernel, stride: conv.stride, padding: conv.padding), input)
            let out = conv.outputShape(input)
            let gemm = timeGEMMs(m: out.rows, n: conv.outChannels, k: conv.kernel * conv.kernel * conv.inChannels)
            ourTime += ours * Double(count); gemmTime += gemm * Double(count); flops += f * Double(count)
            print("  " + "\(key) x\(count)".padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: " %8.1f %15.1f %9.2f", f / ours / 1e9, f / gemm / 1e9, gemm / ours))
        }
        print(String(format: "  all convolutions of one step: ours %.1f GFLOP/s, sgemm %.1f GFLOP/s, ratio %.2f",
                     flops / ourTime / 1e9, flops / gemmTime / 1e9, gemmTime / ourTime))
    }

    /// Best of 3 forward + backward passes of one convolution.
    func timeConv(_ conv: Conv2d, _ input: Shape4) -> Double {
        let x = Tensor4(shape: input, values: (0..<input.count).map { Float($0 % 13) * 0.01 })
        let dy = Tensor4(shape: conv.outputShape(input), values: Array(repeating: 0.01, count: conv.outputShape(input).count))
        return best(of: 3) { _ = conv.forward(x); _ = conv.backward(dy) }
    }

    /// Best of 3 runs of the three GEMMs a convolution's forward + backward needs, unchunked.
    func timeGEMMs(m: Int, n: Int, k: Int) -> Double {
        let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k), b = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        a.initialize(repeating: 0.01, count: m * k); b.initialize(repeating: 0.01, count: n * k); c.initialize(repeating: 0.01, count: m * n)
        let (mi, ni, ki) = (Int32(m), Int32(n), Int32(k))
        return best(of: 3) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, mi, ni, ki, 1, a, ki, b, ki, 0, c, ni)  // forward
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ni, ki, mi, 1, c, ni, a, ki, 1, b, ki)  // weight grad
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, mi, ki, ni, 1, c, ni, b, ki, 0, a, ki)  // input grad
        }
    }

    func best(of runs: Int, _ body: () -> Void) -> Double {
        body()  // warm-up
        return (0..<runs).map { _ in let t = Date(); body(); return Date().timeIntervalSince(t) }.min()!
    }

    func stepTable() {
        let torch = noTorch ? false : torchAvailable()
        print("\nTraining step (forward, backward, Adam), contrastive model, \(size)x\(size), \(threads) threads, mean of \(steps) steps")
        print("  model      batch   ours img/s  GFLOP/s  %peak  peak RSS MB | PyTorch img/s  peak RSS MB | ours/PyTorch")
        let configs = archs.split(separator: ",").flatMap { a in batches.split(separator: ",").map { (a, $0) } }
        for (archName, batchText) in configs {
            let spec = "\(archName):\(batchText)"
            let self_ = CommandLine.arguments[0]
            guard let ours = childJSON(self_, ["bench-encoder", "--single", spec, "--size", "\(size)", "--threads", "\(threads)", "--steps", "\(steps)",
                                              "--column-bytes", "\(columnBytes)", "--minimum-rows", "\(minimumRows)"]) else {
                print("  \(spec): our benchmark child failed"); continue
            }
            let oursRate = ours["images_per_second"] as? Double ?? 0, gflops = ours["gflops"] as? Double ?? 0
            var line = "  " + String(archName).padding(toLength: 10, withPad: " ", startingAt: 0)
                + String(format: " %5d %12.1f %8.1f %5.0f%% %12.0f", Int(batchText) ?? 0, oursRate, gflops, 100 * gflops / 480,
                         ours["peak_rss_mb"] as? Double ?? 0)
            if torch, let t = childJSON("/usr/bin/python3", [torchScript, String(archName), String(batchText), "\(size)", "\(threads)", "\(steps)"]) {
                let rate = t["images_per_second"] as? Double ?? 0
                line += String(format: " | %13.1f %12.0f | %6.2fx", rate, t["peak_rss_mb"] as? Double ?? 0, oursRate / rate)
            } else if noTorch {
                line += " | (PyTorch skipped: --no-torch)"
            } else {
                line += " | (PyTorch not installed: apt-get install python3-torch python3-torchvision)"
            }
            print(line)
            if let split = ours["split"] as? [String: Double] {
                print(String(format: "             split of a step: forward %.0f ms, backward %.0f ms, Adam %.0f ms",
                             1000 * (split["forward"] ?? 0), 1000 * (split["backward"] ?? 0), 1000 * (split["optimizer"] ?? 0)))
            }
        }
        print("  (%peak: of 480 GFLOP/s, the 2-core AVX-512 fp32 peak named in issue 3)")
    }

    var torchScript: String {
        // The script sits in the repository beside this binary's build folder (.build/<config>/comcl).
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("scripts/bench_torch.py")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return "scripts/bench_torch.py"
    }

    func torchAvailable() -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", "import torch, torchvision"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
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
