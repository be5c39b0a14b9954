import Foundation
import Launcher
import ServiceKit

/// Samples the resources of every process of a local run (and of `comcl` itself) as training
/// goes, appends each sample to a CSV as it is taken (a soak that dies still leaves its data),
/// and keeps each process's trend for the verdict. The trends live in `comcl` itself, about
/// 40 bytes a sample (a 1000-step soak: ~100 KB), which the `comcl` row of the verdict counts.
final class SoakRecorder {
    private(set) var trends: [String: ResourceTrend] = [:]
    private let csv: FileHandle
    private let started = Date()
    /// When each process was first seen (the clock its first second of life is measured on).
    private var firstSeen: [Int32: Date] = [:]

    init(csv url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("seconds,step,process,pid,resident_kib,open_files,threads\n".utf8).write(to: url)
        csv = try FileHandle(forWritingTo: url)
        try csv.seekToEnd()
    }

    deinit { try? csv.close() }

    func sample(stepsDone: Int, members: [LocalCluster.Member]) {
        // A process younger than a second is still starting its program (CI sampled one 0.03 s
        // after its spawn at 4 KiB resident, before the program's pages were in): not yet the
        // service, sampled from the next round on.
        let now = Date()
        let running = members.filter(\.process.isRunning).filter { member in
            let pid = member.process.processIdentifier
            if firstSeen[pid] == nil { firstSeen[pid] = now }
            return now.timeIntervalSince(firstSeen[pid]!) >= 1
        }
        let processes = [("comcl", getpid())] + running.map { ($0.name, $0.process.processIdentifier) }
        var lines = ""
        for (name, pid) in processes {
            // A process exiting between the check and the read is not a sample, nor an error.
            guard let resources = try? ProcessResources.sample(pid: pid) else { continue }
            trends[name, default: ResourceTrend(name: name)].samples.append(.init(step: stepsDone, resources: resources))
            lines +=
                String(format: "%.2f", Date().timeIntervalSince(started))
                + ",\(stepsDone),\(name),\(pid),\(resources.residentKiB),\(resources.openFiles),\(resources.threads)\n"
        }
        // A write that fails (a full disk) loses these rows of the file, not the run or its verdict.
        try? csv.write(contentsOf: Data(lines.utf8))
    }

    /// How many samples of `name` were taken once `warmupSteps` steps were done.
    func samples(of name: String, from warmupSteps: Int) -> Int {
        trends[name]?.settled(warmupSteps: warmupSteps).count ?? 0
    }

    /// Every process's summary, in the order they were started ("comcl" first).
    func summaries(warmupSteps: Int, residentToleranceKiB: Int) -> [(name: String, summary: ResourceTrend.Summary?)] {
        let order = ["comcl", "coordinator", "detector-cropper"]
        return trends.keys.sorted { (order.firstIndex(of: $0) ?? order.count, $0) < (order.firstIndex(of: $1) ?? order.count, $1) }
            .map { ($0, trends[$0]!.summary(warmupSteps: warmupSteps, residentToleranceKiB: residentToleranceKiB)) }
    }
}
