import Foundation
import Testing
import TestSupport

/// `comcl soak` end to end on a short run: it trains, samples every process it started (and
/// itself) into soak.csv, and judges each one. The 1000-step soak is `scripts/soak.sh`; this
/// checks the instrument, so its memory allowance is wide (a debug build's first steps still
/// grow) while descriptors and threads must hold exactly. 60 steps: samples come about every
/// 0.3 s, and 20 settled steps once took under 3 s here (fewer than the 10 samples a verdict needs).
@Suite(.serialized) struct SoakCommandTests {
    @Test func samplesEveryProcessAndGivesAVerdict() throws {
        let run = TrainingIntegrationTests.folder("soak")
        defer { try? FileManager.default.removeItem(at: run) }
        let soak = try TrainingIntegrationTests.train(
            run, port: 6540, steps: 60, extra: ["--warmup-steps", "6", "--resident-tolerance-mib", "64"], command: "soak")
        try #require(soak.wait(timeout: 600) == 0, "\(soak.output.suffix(3000))")

        let processes = [
            "comcl", "coordinator", "detector-cropper", "augmenter-1", "augmenter-2", "embedding-worker-1", "embedding-worker-2",
        ]
        let rows = try String(contentsOf: run.appendingPathComponent("soak.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "seconds,step,process,pid,resident_kib,open_files,threads")
        var seen: [String: Int] = [:]
        for row in rows.dropFirst() {
            let fields = row.split(separator: ",")
            try #require(fields.count == 7, "\(row)")
            seen[String(fields[2]), default: 0] += 1
            #expect(Int(fields[4])! > 1000 && Int(fields[5])! > 3 && Int(fields[6])! >= 1, "\(row)")
        }
        for name in processes { #expect(seen[name, default: 0] >= 10, "\(name): \(seen[name, default: 0]) samples") }
        // The verdict table: a row per process, each flat, and the run's summary line.
        let output = soak.output
        for name in processes {
            #expect(output.split(separator: "\n").contains { $0.hasPrefix("\(name) ") && $0.hasSuffix(" flat") }, "\(name)")
        }
        #expect(output.contains("soak: steps 7-60 judged"), "\(output.suffix(1500))")
        #expect(output.contains("soak passed"))
    }

    @Test func refusesARunTooShortToJudge() throws {
        let labels = TrainingIntegrationTests.data.appendingPathComponent("labels16.csv").path
        let (code, output) = try ChildProcess.run(
            "comcl", ["soak", "--labels", labels, "--run-folder", TrainingIntegrationTests.folder("short").path, "--steps", "20"])
        #expect(code != 0 && output.contains("too few to see a trend"), "\(output)")
    }
}
