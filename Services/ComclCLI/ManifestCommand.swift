import ArgumentParser
import Datasets
import Foundation
import ServiceCommandLine
import ServiceKit

/// `comcl manifest`: read a dataset's labels, assign the four levels, print a summary.
struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract:
            "Read a dataset's label file, assign the levels L, L~, H, H~ (docs/method.md section 1) and print counts per level and label.")

    @OptionGroup var dataset: DatasetOptions
    @Flag(help: "Print JSON instead of a table.") var json = false
    @Flag(help: "With --skip-bad: list every skipped row and its reason.") var listSkipped = false

    func run() throws {
        let manifest = try dataset.load()
        let summary = ManifestSummary(manifest)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(summary.text)
        }
        if listSkipped { for problem in manifest.skipped { print("skipped: \(problem)") } }
    }
}
