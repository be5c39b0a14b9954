/// One process's resources sampled over a long run, and whether they grow once it has warmed
/// up. A service that repeats the same step should hold the same memory, descriptors and threads
/// at step 1000 as at step 100; anything it keeps per step shows as growth here.
///
/// The judgement compares two windows of the settled run (the samples after `warmupSteps`):
/// its first tenth and its last tenth. Medians for resident memory (a sample can catch a
/// message being built); for descriptors and threads, the last window's fewest against the
/// first window's most, so a socket or file open for a moment at either end counts for nothing
/// while a handle kept per step shows within a few steps.
public struct ResourceTrend: Sendable {
    public struct Sample: Sendable {
        /// Steps done when it was taken.
        public var step: Int
        public var resources: ProcessResources
        public init(step: Int, resources: ProcessResources) { (self.step, self.resources) = (step, resources) }
    }

    public struct Summary: Sendable {
        public var name: String
        /// Samples in the settled run, and the steps they span.
        public var samples: Int
        public var steps: ClosedRange<Int>
        /// Median resident KiB of the first and last tenth of the settled run, and the peak.
        public var residentStart: Int, residentEnd: Int, residentPeak: Int
        /// Least-squares slope of resident memory over the settled run, in KiB per 1000 steps.
        public var residentSlope: Double
        public var filesStart: Int, filesEnd: Int, filesPeak: Int
        public var threadsStart: Int, threadsEnd: Int, threadsPeak: Int
        /// Why this process fails the soak; empty when it passes.
        public var problems: [String]

        public var residentGrowth: Int { residentEnd - residentStart }
    }

    public var name: String
    public var samples: [Sample] = []

    public init(name: String) { self.name = name }

    /// The samples taken once `warmupSteps` steps were done, in step order.
    public func settled(warmupSteps: Int) -> [Sample] {
        samples.filter { $0.step >= warmupSteps }.sorted { $0.step < $1.step }
    }

    /// The settled run's figures and the problems found: resident memory grown by more than
    /// `residentToleranceKiB`, or descriptors or threads grown at all. Nil when fewer than 10
    /// samples fall after the warm-up (too few to tell a trend from noise).
    public func summary(warmupSteps: Int, residentToleranceKiB: Int) -> Summary? {
        let settled = settled(warmupSteps: warmupSteps)
        guard settled.count >= 10 else { return nil }
        let window = max(3, settled.count / 10)
        let (first, last) = (settled.prefix(window).map(\.resources), settled.suffix(window).map(\.resources))
        let median = { (values: [Int]) in values.sorted()[values.count / 2] }
        var summary = Summary(
            name: name, samples: settled.count, steps: settled.first!.step...settled.last!.step,
            residentStart: median(first.map(\.residentKiB)), residentEnd: median(last.map(\.residentKiB)),
            residentPeak: settled.map(\.resources.residentKiB).max()!,
            residentSlope: Self.slope(settled.map { (Double($0.step), Double($0.resources.residentKiB)) }) * 1000,
            filesStart: first.map(\.openFiles).max()!, filesEnd: last.map(\.openFiles).min()!,
            filesPeak: settled.map(\.resources.openFiles).max()!,
            threadsStart: first.map(\.threads).max()!, threadsEnd: last.map(\.threads).min()!,
            threadsPeak: settled.map(\.resources.threads).max()!,
            problems: [])
        if summary.residentGrowth > residentToleranceKiB {
            summary.problems.append(
                "resident memory grew \(summary.residentGrowth) KiB (over \(residentToleranceKiB) KiB) between step \(summary.steps.lowerBound) and step \(summary.steps.upperBound)"
            )
        }
        if summary.filesEnd > summary.filesStart {
            summary.problems.append("open descriptors grew from \(summary.filesStart) to \(summary.filesEnd)")
        }
        if summary.threadsEnd > summary.threadsStart {
            summary.problems.append("threads grew from \(summary.threadsStart) to \(summary.threadsEnd)")
        }
        return summary
    }

    /// Ordinary least-squares slope of y on x (0 when x does not vary).
    static func slope(_ points: [(x: Double, y: Double)]) -> Double {
        let n = Double(points.count)
        let (mx, my) = (points.map(\.x).reduce(0, +) / n, points.map(\.y).reduce(0, +) / n)
        let sxx = points.map { ($0.x - mx) * ($0.x - mx) }.reduce(0, +)
        guard sxx > 0 else { return 0 }
        return points.map { ($0.x - mx) * ($0.y - my) }.reduce(0, +) / sxx
    }
}
