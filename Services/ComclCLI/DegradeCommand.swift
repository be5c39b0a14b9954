import ArgumentParser
import Foundation
import ImageOps
import Degradation
import ServiceCommandLine
import ServiceKit

/// `comcl degrade`: a copy of a dataset with more low-quality images.
struct DegradeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "degrade",
        abstract:
            "Write a copy of a dataset whose low-quality share is raised to --to by degrading high-quality images (the fundus or the X-ray degradation model) and relabelling them."
    )

    @OptionGroup var dataset: DatasetOptions
    @Option(help: "Target low-quality share, e.g. 0.7 or 1 (the paper's sweeps).") var to: Double
    @Option(help: "Output folder (created; the input is never changed).") var out: String
    @Option(help: "Seed choosing the images and their degradations.") var seed: UInt64 = 0
    @Option(
        help:
            "Degradation model: fundus, xray, or auto (EyeQ labels: fundus; ChestX-ray14: xray; a generic label file: xray if its images are grey)."
    )
    var modality = "auto"
    @Option(help: "Threads (the output does not depend on it).") var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard (0...1).contains(to) else { throw ValidationError("--to must lie in [0, 1], got \(to)") }
        guard modality == "auto" || Modality(rawValue: modality) != nil else {
            throw ValidationError("--modality \(modality): fundus, xray or auto")
        }
    }

    func run() throws {
        let manifest = try dataset.load()
        let output = URL(fileURLWithPath: out)
        guard
            output.standardizedFileURL.path != URL(fileURLWithPath: manifest.imageRoot).deletingLastPathComponent().standardizedFileURL.path
        else {
            throw ValidationError("--out must differ from the input dataset's folder")
        }
        let report = try DatasetDegrader(target: to, seed: seed, modality: Modality(rawValue: modality)).run(
            manifest, to: output, threads: threads)
        print(
            String(
                format: "%d images: low quality %d -> %d (%.1f %% -> %.1f %%), %d degraded (%@ model); written to %@", report.images,
                report.lowBefore, report.lowAfter, 100 * Double(report.lowBefore) / Double(report.images),
                100 * Double(report.lowAfter) / Double(report.images), report.degraded.count, report.modality.rawValue, out))
    }
}
