import ArgumentParser
import Basics
import Foundation
import ServiceKit

/// `comcl soak`: a long training run on this machine that watches every process for leaks:
/// resident memory, open descriptors and threads, sampled about every 0.3 s, must not grow
/// once the run has warmed up. `scripts/soak.sh` runs it for 1000 steps on synthetic data.
struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract:
            "Train like `comcl train` while sampling every process's resident memory, open descriptors and threads; fail if any grows after the warm-up.",
        discussion: "The samples go to <run folder>/soak.csv as they are taken. Exit status 1 names each process that grew and by how much."
    )

    @OptionGroup var options: LocalTrainingOptions
    @Option(help: "Steps left out of the judgement while pools, caches and the first checkpoint fill (default: a tenth of --steps).")
    var warmupSteps: Int?
    /// 8 MiB: the allocator's share. heaptrack shows the coordinator's live heap flat over a soak
    /// (6.3-6.7 MB between steps, 16-18 MB at its peaks), yet its resident size rose 1.2-3.7 MiB
    /// in 900 steps: glibc, told to keep freed memory (HeapTuning), lays those peaks over new
    /// pages now and then. 8 MiB is twice the most seen; a leak of 10 KiB a step (one small
    /// message kept per step) exceeds it within 1000 steps, and a longer soak sees smaller ones.
    @Option(help: "Resident memory a process may gain after the warm-up, in MiB (allocator slack; README, Reliability).")
    var residentToleranceMib = 8.0

    func validate() throws {
        guard residentToleranceMib >= 0 else { throw ValidationError("--resident-tolerance-mib must not be negative") }
        if let warmupSteps, warmupSteps < 0 { throw ValidationError("--warmup-steps must not be negative") }
    }

    func run() throws {
        var local = try options.localTraining()
        let warmup = warmupSteps ?? local.config.steps / 10
        guard local.config.steps - warmup >= 20 else {
            throw ValidationError(
                "--steps \(local.config.steps) leaves \(local.config.steps - warmup) steps after a warm-up of \(warmup): too few to see a trend (at least 20)"
            )
        }
        let csv = local.folder.appendingPathComponent("soak.csv")
        let recorder = try SoakRecorder(csv: csv)
        local.observe = { recorder.sample(stepsDone: $0, members: $1) }
        // About 100 progress lines: the samples, not the losses, are what a soak is for.
        local.progressEvery = max(1, local.config.steps / 100)
        try local.run()

        let tolerance = Int(residentToleranceMib * 1024)
        let summaries = recorder.summaries(warmupSteps: warmup, residentToleranceKiB: tolerance)
        print("\nsoak: steps \(warmup + 1)-\(local.config.steps) judged (the first \(warmup) are warm-up); samples in \(csv.path)")
        print(Self.table(summaries))
        // Samples come about every 0.3 s, so a quick run can end before 10 of them: it says so.
        let problems = summaries.flatMap { entry in
            entry.summary.map { $0.problems.map { "\(entry.name): \($0)" } }
                ?? [
                    "\(entry.name): \(recorder.samples(of: entry.name, from: warmup)) samples after the warm-up, fewer than the 10 a trend needs; run more --steps"
                ]
        }
        guard problems.isEmpty else { throw Problem("soak failed:\n" + problems.joined(separator: "\n")) }
        print("soak passed: no process grew by more than \(residentToleranceMib) MiB resident, and none gained a descriptor or a thread")
    }

    static func table(_ summaries: [(name: String, summary: ResourceTrend.Summary?)]) -> String {
        let mib = { (kib: Int) in String(format: "%.1f", Double(kib) / 1024) }
        var rows = [
            [
                "process", "samples", "RSS start MiB", "end", "peak", "growth", "slope MiB/1000 steps", "fds start/end/peak",
                "threads start/end/peak", "verdict",
            ]
        ]
        for (name, summary) in summaries {
            guard let s = summary else { rows.append([name, "<10", "", "", "", "", "", "", "", "too few samples"]); continue }
            rows.append([
                name, "\(s.samples)", mib(s.residentStart), mib(s.residentEnd), mib(s.residentPeak),
                (s.residentGrowth >= 0 ? "+" : "") + mib(s.residentGrowth),
                String(format: "%+.2f", s.residentSlope / 1024), "\(s.filesStart)/\(s.filesEnd)/\(s.filesPeak)",
                "\(s.threadsStart)/\(s.threadsEnd)/\(s.threadsPeak)",
                s.problems.isEmpty ? "flat" : "GREW",
            ])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        return rows.map { row in
            let line = zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
            return String(line.reversed().drop { $0 == " " }.reversed())
        }.joined(separator: "\n")
    }
}
