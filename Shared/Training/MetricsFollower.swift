import Basics
import Foundation

/// Reads the step records a run appends to metrics.jsonl since the last call.
public final class MetricsFollower {
    private let lines: LineFollower

    public init(_ url: URL) { lines = LineFollower(url) }

    public func newRecords() -> [StepRecord] {
        lines.newLineData().compactMap { try? StepRecord.decoder.decode(StepRecord.self, from: $0) }
    }
}
