import Basics
import Foundation
import Training

/// What the console of a local run says beyond the progress lines: a warning when most lesion
/// patches are random crops (the detector finds nothing), a notice when no step has finished for a
/// while (with the coordinator's latest complaints), and the totals of what the run worked around.
public final class RunWatch {
    /// Steps before the detection share is judged: the first steps' images are a small sample.
    public static let judgeAfterSteps = 5
    /// Seconds without a finished step before the console says so (a step of the demo takes
    /// ~0.25 s, the paper's batch on ResNet-50 here about 30 s; startup and the first step's
    /// detections take longer).
    public static let stallSeconds = 90.0

    private(set) var totals = PatchSources()
    private var steps = 0
    private var warnedDetections = false
    private var lastProgress = Date()
    private var lastStallNotice = Date.distantPast
    private let coordinatorLog: LineFollower
    private var complaints: [String] = []
    /// Items re-planned because their image failed, shown on the console up to this many (the
    /// rest are counted in the summary; every one is in logs/coordinator.log).
    public static let skipsShown = 5
    private var skipsSeen = 0

    public init(coordinatorLog: URL) { self.coordinatorLog = LineFollower(coordinatorLog) }

    /// Takes a finished step's record; returns lines to print.
    public func recorded(_ record: StepRecord) -> [String] {
        steps += 1
        lastProgress = Date()
        if let sources = record.sources { totals += sources }
        guard !warnedDetections, steps >= Self.judgeAfterSteps, totals.lesionPatches > 0, totals.lesionFallback * 2 > totals.lesionPatches
        else { return [] }
        warnedDetections = true
        let share = Int((Double(totals.lesionFallback) / Double(totals.lesionPatches) * 100).rounded())
        return [
            "warning: \(share) % of the lesion patches so far are random crops: the detector found no lesion above its confidence on most lesion images, so CoMCL's lesion levels see no lesions."
                + " Lower the detector's confidence (--detector-conf), use a better detector (--detector remote:ENDPOINT), or give the boxes (--detector boxes:FILE)."
        ]
    }

    /// Called between records; returns lines to print: the first images skipped, and a notice
    /// when no step has finished for a while.
    public func idle() -> [String] {
        var lines: [String] = []
        for line in coordinatorLog.newLineData().compactMap({ String(data: $0, encoding: .utf8) }) where Self.isComplaint(line) {
            complaints = Array((complaints + [line]).suffix(3))
            guard let at = line.range(of: "; re-planned from ") else { continue }
            skipsSeen += 1
            if skipsSeen <= Self.skipsShown, let start = line.range(of: "step ") {
                lines.append(
                    "skipped: " + line[start.lowerBound..<at.lowerBound]
                        + (skipsSeen == Self.skipsShown ? " (further ones: logs/coordinator.log)" : ""))
            }
        }
        let now = Date()
        guard now.timeIntervalSince(lastProgress) > Self.stallSeconds, now.timeIntervalSince(lastStallNotice) > Self.stallSeconds else {
            return lines
        }
        lastStallNotice = now
        let waited = Int(now.timeIntervalSince(lastProgress))
        let latest = complaints.isEmpty ? ["(the coordinator logged no warning)"] : complaints.map { "  " + $0 }
        return lines + ["no step has finished for \(waited) s; the coordinator's latest warnings:"] + latest
    }

    /// The run's totals, for the closing lines.
    public var summary: String { "\(steps) steps; \(totals.summary)" }

    public static func isComplaint(_ line: String) -> Bool {
        line.contains(" warning ") || line.contains(" error ") || line.contains(" critical ")
    }
}
