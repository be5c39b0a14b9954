import Foundation
import Testing
@testable import ServiceKit

/// The soak's instruments: /proc read right, and a trend judged flat or growing as it should be.
@Suite struct ResourceTrendTests {
    static func trend(
        steps: ClosedRange<Int> = 0...999, resident: (Int) -> Int, files: (Int) -> Int = { _ in 20 }, threads: (Int) -> Int = { _ in 6 }
    ) -> ResourceTrend {
        var trend = ResourceTrend(name: "p")
        for step in steps {
            trend.samples.append(
                .init(step: step, resources: ProcessResources(residentKiB: resident(step), openFiles: files(step), threads: threads(step))))
        }
        return trend
    }

    @Test func readsProcStatusFields() {
        let text = "Name:\tcomcl\nVmPeak:\t  123456 kB\nVmRSS:\t   51234 kB\nThreads:\t7\nSigQ:\t0/95000\n"
        let fields = ProcessResources.parseStatus(text)
        #expect(fields["VmRSS"] == 51234 && fields["Threads"] == 7 && fields["VmPeak"] == 123456)
        #expect(fields["Name"] == nil && fields["SigQ"] == nil)  // not numbers
    }

    @Test func samplesThisProcessAndSeesADescriptorOpen() throws {
        let before = try ProcessResources.sample(pid: getpid())
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/status"))
        let during = try ProcessResources.sample(pid: getpid())
        try handle.close()
        #expect(before.residentKiB > 1000 && before.threads >= 1)
        #expect(during.openFiles >= before.openFiles + 1)
    }

    @Test func aProcessThatIsGoneIsSaidSo() {
        #expect(throws: ProcessResources.SampleError.self) { try ProcessResources.sample(pid: Int32.max) }
    }

    @Test func noiseAndATransientPeakAreFlat() throws {
        // ±256 KiB of jitter, a 30 MiB peak mid-run (a checkpoint), a descriptor open for a moment.
        let trend = Self.trend(resident: { 50_000 + ($0 * 7919 % 512) - 256 + ($0 == 500 ? 30_000 : 0) }, files: { $0 == 600 ? 21 : 20 })
        let summary = try #require(trend.summary(warmupSteps: 100, residentToleranceKiB: 1024))
        #expect(summary.problems.isEmpty, "\(summary.problems)")
        #expect(summary.samples == 900 && summary.steps == 100...999)
        #expect(summary.residentPeak >= 79_000 && summary.filesPeak == 21)
        #expect(abs(summary.residentSlope) < 200)
    }

    @Test func warmUpGrowthIsNotJudged() throws {
        let trend = Self.trend(resident: { $0 < 100 ? 10_000 + 400 * $0 : 50_000 }, threads: { $0 < 50 ? 2 : 6 })
        #expect(try #require(trend.summary(warmupSteps: 100, residentToleranceKiB: 1024)).problems.isEmpty)
    }

    @Test func aSteadyLeakIsCaughtWithItsRate() throws {
        // 4 KiB a step: 3.5 MiB between the first and last tenth of 900 settled steps.
        let summary = try #require(Self.trend(resident: { 50_000 + 4 * $0 }).summary(warmupSteps: 100, residentToleranceKiB: 1024))
        #expect(summary.problems.count == 1 && summary.problems[0].hasPrefix("resident memory grew"))
        #expect(abs(summary.residentSlope - 4000) < 1)
    }

    @Test func aDescriptorOrThreadKeptPerStepIsCaught() throws {
        let files = try #require(
            Self.trend(resident: { _ in 50_000 }, files: { 20 + $0 / 300 }).summary(warmupSteps: 100, residentToleranceKiB: 1024))
        #expect(files.problems == ["open descriptors grew from 20 to 23"])
        let threads = try #require(
            Self.trend(resident: { _ in 50_000 }, threads: { 6 + $0 / 500 }).summary(warmupSteps: 100, residentToleranceKiB: 1024))
        #expect(threads.problems == ["threads grew from 6 to 7"])
    }

    @Test func tooFewSamplesGiveNoVerdict() {
        #expect(Self.trend(steps: 0...105, resident: { _ in 1 }).summary(warmupSteps: 100, residentToleranceKiB: 0) == nil)
    }
}
