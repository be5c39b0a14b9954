import Foundation
import Testing
import TestSupport

/// `comcl demo` and the evaluator service as real processes on loopback: the whole main job at a
/// toy scale (debug builds), Ctrl-C leaving no process behind, and a job the evaluator cannot
/// run ending the coordinator with the evaluator's reason.
@Suite(.serialized) struct DemoCommandTests {
    static func folder(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("comcl-demo-\(name)-\(UUID().uuidString)")
    }

    /// 40 images of 128 px, a 1/8-width ResNet-18, batches of 8, a 2-epoch linear probe.
    static func demo(_ out: URL, port: Int, steps: Int) throws -> ChildProcess {
        try ChildProcess(
            "comcl",
            [
                "demo", "--out", out.path, "--images", "40", "--size", "128", "--image-size", "64", "--steps", "\(steps)", "--batch", "8",
                "--bn-group", "4",
                "--width", "0.125", "--epochs", "2", "--sweep", "1", "--embedding-patches", "3", "--augmenters", "1", "--embedding-workers",
                "1",
                "--base-port", "\(port)",
            ])
    }

    /// Processes whose command line names `path` (what the demo started with its folders).
    static func processes(naming path: String) -> [String] {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { Int($0) != nil } ?? []
        return ids.compactMap { id in
            guard let raw = FileManager.default.contents(atPath: "/proc/\(id)/cmdline") else { return nil }
            let line = String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(path) && !line.contains("swift") ? "\(id): \(line)" : nil
        }
    }

    @Test func runsTheWholeJob() throws {
        let out = Self.folder("whole")
        defer { try? FileManager.default.removeItem(at: out) }
        let child = try Self.demo(out, port: 6400, steps: 3)
        try #require(child.wait(timeout: 600) == 0, "\(child.output)")
        let log = child.output
        for expected in [
            "writing the synthetic benchmark", "step 3/3", "evaluator: comcl @ data", "evaluator: scratch @ 100", "== results", "| comcl |",
            "| scratch |", "report: ",
        ] {
            #expect(log.contains(expected), "\(expected) missing from: \(log)")
        }
        for file in [
            "data/labels.csv", "pretrain/evaluation.md", "pretrain/logs/evaluator.log", "evaluation/results.json", "evaluation/report.md",
            "evaluation/plots/pretraining-loss.png", "evaluation/plots/embeddings.png", "evaluation/predictions/comcl-100.csv",
        ] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
        }
        #expect(Self.processes(naming: out.path).isEmpty, "left behind: \(Self.processes(naming: out.path))")

        // Again on the same folder: the data is reused, the earlier run and evaluation replaced,
        // and the same seed predicts the same.
        let predictions = out.appendingPathComponent("evaluation/predictions/comcl-100.csv")
        let first = try String(contentsOf: predictions, encoding: .utf8)
        let again = try Self.demo(out, port: 6400, steps: 3)
        try #require(again.wait(timeout: 600) == 0, "\(again.output)")
        #expect(!again.output.contains("writing the synthetic benchmark"))
        #expect(try String(contentsOf: predictions, encoding: .utf8) == first)
    }

    @Test func ctrlCStopsEveryProcess() throws {
        let out = Self.folder("interrupt")
        defer { try? FileManager.default.removeItem(at: out) }
        let child = try Self.demo(out, port: 6410, steps: 500)
        let deadline = Date().addingTimeInterval(300)
        while !child.output.contains("step 2/500"), child.process.isRunning, Date() < deadline { usleep(100_000) }
        try #require(child.output.contains("step 2/500"), "\(child.output)")
        child.signal(SIGINT)
        let status = child.wait(timeout: 60)
        #expect(status != nil && status != 0, "exit \(String(describing: status))")
        #expect(child.output.contains("stopped after step"), "\(child.output)")
        #expect(Self.processes(naming: out.path).isEmpty, "left behind: \(Self.processes(naming: out.path))")
    }

    @Test func ablationTabulatesEveryRowOverSeeds() throws {
        let out = Self.folder("ablation")
        defer { try? FileManager.default.removeItem(at: out) }
        let arguments = [
            "ablation", "--out", out.path, "--images", "40", "--size", "128", "--image-size", "64", "--steps", "2", "--batch", "8",
            "--bn-group", "4",
            "--width", "0.125", "--epochs", "2", "--seeds", "3,4", "--modes", "no-spl,comcl", "--combinations", "L-H", "--sweep", "1",
            "--augmenters", "1", "--embedding-workers", "1", "--base-port", "6440",
        ]
        let child = try ChildProcess("comcl", arguments)
        try #require(child.wait(timeout: 600) == 0, "\(child.output)")
        let table = try String(contentsOf: out.appendingPathComponent("ablation.md"), encoding: .utf8)
        for row in ["| Baseline (from scratch) | ", "| w/o SPL | ", "| CoMCL | ", "| CoMCL, L-H only | "] {
            #expect(table.contains(row), "\(row) missing: \(table)")
        }
        #expect(table.contains("| method | kappa, data's share | kappa, 100 % | drop to 100 % | accuracy, data's share |"), "\(table)")
        let rows = table.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| method") }
        // Mean ± sd of kappa at both shares, of the drop, and of accuracy.
        #expect(rows.count == 4 && rows.allSatisfy { $0.components(separatedBy: " ± ").count == 5 }, "mean ± sd per cell: \(table)")
        #expect(table.contains("2 seeds (3,4)"))

        // Run again: every pre-training and evaluation is found done and kept, the table is the same.
        let again = try ChildProcess("comcl", arguments)
        try #require(again.wait(timeout: 600) == 0, "\(again.output)")
        #expect(again.output.contains("already pre-trained") && again.output.contains("already evaluated"), "\(again.output)")
        let tableAgain = try String(contentsOf: out.appendingPathComponent("ablation.md"), encoding: .utf8)
        #expect(tableAgain.split(separator: "\n").prefix(6) == table.split(separator: "\n").prefix(6))
        for seed in [3, 4] {
            for file in ["levels-LH/metrics.jsonl", "comcl/metrics.jsonl", "evaluation/results.json"] {
                #expect(
                    FileManager.default.fileExists(atPath: out.appendingPathComponent("seed-\(seed)/\(file)").path),
                    "seed \(seed): \(file) missing")
            }
        }
        #expect(Self.processes(naming: out.path).isEmpty, "left behind: \(Self.processes(naming: out.path))")
    }

    @Test func aFolderOfOtherFilesIsNotWrittenInto() throws {
        let folder = Self.folder("occupied")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        let (code, log) = try ChildProcess.run(
            "comcl", ["demo", "--data", folder.path, "--out", folder.appendingPathComponent("out").path])
        #expect(code != 0 && log.contains("has no labels.csv") && log.contains("is not empty"), "\(log)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["notes.txt"])
    }

    /// The evaluator killed mid-evaluation: the coordinator hands the request to the next one.
    @Test func anEvaluatorKilledMidwayIsReplaced() throws {
        let folder = Self.folder("replaced")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        try #require(try ChildProcess.run("comcl", ["synth", "--count", "40", "--size", "128", "--seed", "5", "--out", data.path]).0 == 0)
        let job = folder.appendingPathComponent("job.json")
        let config = #"{"transfer": "finetune", "imageSize": 64, "epochs": 20, "batch": 8, "sweep": []}"#
        try Data(
            #"{"labels": "\#(data.path)/labels.csv", "models": [{"name": "scratch"}], "output": "\#(folder.path)/eval", "width": 0.125, "embeddingPatches": 0, "config": \#(config)}"#
                .utf8
        ).write(to: job)
        let coordinator = try ChildProcess("comcl-coordinator", ["--control", "tcp://127.0.0.1:6480", "--evaluation", job.path])
        let first = try ChildProcess(
            "comcl-evaluator", ["--coordinator", "tcp://127.0.0.1:6484", "--worker-id", "first", "--threads", "1"], name: "first")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !first.output.contains("evaluating scratch") { usleep(50_000) }
        try #require(first.output.contains("evaluating scratch"), "\(first.output)")
        first.signal(SIGKILL)
        let second = try ChildProcess(
            "comcl-evaluator", ["--coordinator", "tcp://127.0.0.1:6484", "--worker-id", "second", "--threads", "1"], name: "second")
        let status = coordinator.wait(timeout: 300)
        #expect(status == 0, "exit \(String(describing: status)): \(coordinator.output)")
        #expect(
            coordinator.output.contains("asking the next evaluator") && coordinator.output.contains("asking second (attempt 2)"),
            "\(coordinator.output)")
        #expect(coordinator.output.contains("evaluation done by second"), "\(coordinator.output)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("eval/results.json").path))
        #expect(second.wait(timeout: 20) == 0)
    }

    /// A coordinator with only an evaluation (no training) and a job the evaluator must refuse.
    @Test func aJobTheEvaluatorCannotRunEndsWithItsReason() throws {
        let folder = Self.folder("refused")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let job = folder.appendingPathComponent("job.json")
        let missing = folder.appendingPathComponent("no-such-labels.csv").path
        try Data(#"{"labels": "\#(missing)", "models": [{"name": "scratch", "path": ""}], "output": "\#(folder.path)/eval"}"#.utf8).write(
            to: job)
        let coordinator = try ChildProcess("comcl-coordinator", ["--control", "tcp://127.0.0.1:6430", "--evaluation", job.path])
        let evaluator = try ChildProcess("comcl-evaluator", ["--coordinator", "tcp://127.0.0.1:6434", "--threads", "1"])
        let status = coordinator.wait(timeout: 60)
        #expect(status == 2, "exit \(String(describing: status)): \(coordinator.output)")
        #expect(
            coordinator.output.contains("the evaluator refused the evaluation") && coordinator.output.contains("no-such-labels.csv"),
            "\(coordinator.output)")
        #expect(evaluator.wait(timeout: 20) == 0, "the evaluator stays well and leaves when told: \(evaluator.output)")
    }
}
