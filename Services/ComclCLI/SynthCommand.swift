import ArgumentParser
import Foundation
import Synthetic

/// `comcl synth`: write the synthetic fundus benchmark.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract:
            "Write a synthetic DR-grading fundus set: images/, labels.csv (EyeQ format), lesions.csv (ground-truth boxes), synth.json.")

    @Option(help: "Number of images.") var count: Int
    @Option(help: "Image side in pixels (prior work resizes fundus photos to 512).") var size = 512
    @Option(help: "Seed: the same seed and options give byte-identical files.") var seed: UInt64 = 0
    @Option(help: "Output folder (created).") var out: String
    @Option(help: "Share of low-quality images (EyeQ's training split: 0.334).") var lowShare = 0.334
    @Option(help: "Shares of DR grades 0-4, comma-separated.") var grades = "0.4,0.15,0.2,0.125,0.125"
    @Option(help: "Image format: png or jpeg.") var imageFormat: SyntheticDataset.ImageFormat = .png
    @Option(help: "Threads drawing images (the output does not depend on it).") var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        var config = SyntheticDataset.Config(count: count)
        config.size = size
        config.seed = seed
        config.lowQualityShare = lowShare
        config.format = imageFormat
        config.gradeShares = grades.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        let dataset: SyntheticDataset
        do { dataset = try SyntheticDataset(config) } catch { throw ValidationError("\(error)") }
        let start = Date()
        let step = max(1, count / 20)
        try dataset.write(to: URL(fileURLWithPath: out), threads: threads) { done in
            if done % step == 0 { FileHandle.standardError.write(Data("\r\(done)/\(count) images".utf8)) }
        }
        let seconds = Date().timeIntervalSince(start)
        FileHandle.standardError.write(Data(String(format: "\r%d images of %dx%d in %.1f s -> %@\n", count, size, size, seconds, out).utf8))
    }
}

extension SyntheticDataset.ImageFormat: ExpressibleByArgument {}
