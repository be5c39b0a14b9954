import Foundation
import Testing
import TestSupport

/// `comcl evaluate` as a user runs it, on the synthetic benchmark written by `comcl synth`: a
/// run folder's checkpoint and a from-scratch baseline through the sweep, every output file;
/// and bad input answered with a clear message.
@Suite(.serialized) struct EvaluateCommandTests {
    let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-evaluate-cli-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// Small enough for a debug build: 20 images, a 1/8-width ResNet-18 on 32-px images, one epoch.
    var quick: [String] {
        [
            "--arch", "resnet18", "--width", "0.125", "--image-size", "32", "--epochs", "1", "--batch", "4", "--sweep", "1",
            "--embedding-patches", "2",
        ]
    }

    func synth(size: Int = 128) throws -> String {
        let data = folder.appendingPathComponent("data").path
        let (code, log) = try ChildProcess.run("comcl", ["synth", "--count", "20", "--size", "\(size)", "--seed", "2", "--out", data])
        try #require(code == 0, "\(log)")
        return data + "/labels.csv"
    }

    @Test func evaluatesAndWritesEveryFile() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let labels = try synth()
        let out = folder.appendingPathComponent("out")
        let (code, log) = try ChildProcess.run(
            "comcl", ["evaluate", "--labels", labels, "--scratch", "--out", out.path] + quick, timeout: 300)
        try #require(code == 0, "\(log)")
        #expect(log.contains("| scratch |"), "the results table: \(log)")
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("results.json"))) as! [String: Any]
        let runs = results["runs"] as! [[String: Any]]
        #expect(runs.count == 2, "the data as it is and 100 %")
        #expect(runs.allSatisfy { ($0["grading"] as? [String: Any])?["quadratic_kappa"] != nil })
        for file in [
            "report.md", "truth.csv", "predictions/scratch-data.csv", "predictions/scratch-100.csv", "plots/classifier-loss.png",
            "plots/confusion-data.png", "plots/embeddings.png", "data/100/test/labels.csv",
        ] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
        }
        // The written predictions re-score through `comcl score` to the same accuracy.
        let (scoreCode, scored) = try ChildProcess.run(
            "comcl",
            [
                "score", "--pred", out.appendingPathComponent("predictions/scratch-data.csv").path,
                "--truth", out.appendingPathComponent("truth.csv").path,
            ])
        try #require(scoreCode == 0, "\(scored)")
        let accuracy = ((runs[0]["grading"] as! [String: Any])["accuracy"] as! NSNumber).doubleValue
        #expect(scored.contains("\"accuracy\" : \(accuracy)"), "\(scored) vs accuracy \(accuracy)")
    }

    /// Images smaller than a patch cannot give the embeddings picture: the report says so and
    /// the results stand.
    @Test func imagesSmallerThanAPatchLeaveOnlyThePictureOut() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let labels = try synth(size: 64)
        let out = folder.appendingPathComponent("out")
        let (code, log) = try ChildProcess.run(
            "comcl", ["evaluate", "--labels", labels, "--scratch", "--out", out.path] + quick + ["--sweep", ""], timeout: 300)
        try #require(code == 0, "\(log)")
        #expect(log.contains("patch embeddings left out of the report") && log.contains("smaller than a 128-px patch"), "\(log)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("results.json").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.md").path))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("plots/embeddings.png").path))
    }

    @Test func badModelsAreRefusedWithTheirReason() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let labels = try synth()
        let out = folder.appendingPathComponent("out").path
        let garbage = folder.appendingPathComponent("garbage.safetensors")
        try Data("not a safetensors file".utf8).write(to: garbage)
        let cases: [([String], String)] = [
            (["--model", "x=/nonexistent/run"], "does not exist"),
            (["--model", "x=\(folder.path)"], "holds no checkpoint"),
            (["--model", "x=\(garbage.path)"], "garbage.safetensors"),
            (["--model", "no-equals-sign"], "expected NAME=PATH"),
            ([], "at least one --model"),
            (["--scratch", "--sweep", "0.7,2"], "sweep shares must lie in [0, 1]"),
        ]
        for (arguments, message) in cases {
            let (code, log) = try ChildProcess.run("comcl", ["evaluate", "--labels", labels, "--out", out] + quick + arguments)
            #expect(code != 0 && code != nil, "\(arguments): exit \(String(describing: code))")
            #expect(log.contains(message), "\(arguments): \(log)")
            #expect(!log.contains("Fatal error"), "\(arguments) crashed: \(log)")
        }
    }
}
