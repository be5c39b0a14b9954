import ArgumentParser
import Datasets
import Foundation
import Synthetic

/// The synthetic benchmark the demo and the ablation train and evaluate on.
enum SyntheticBenchmark {
    /// `folder`'s dataset (an EyeQ-format labels.csv beside images/), written first when the
    /// folder is absent or empty; a folder with other files and no labels.csv is refused rather
    /// than written into.
    static func ensure(_ folder: URL, images: Int, size: Int, seed: UInt64) throws -> Manifest {
        let labels = folder.appendingPathComponent("labels.csv")
        if !FileManager.default.fileExists(atPath: labels.path) {
            let present = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            guard present.isEmpty else {
                throw ValidationFailure("\(folder.path) has no labels.csv (EyeQ format, images/ beside it) and is not empty: the synthetic benchmark is only written into a new or empty folder")
            }
            var config = SyntheticDataset.Config(count: images)
            (config.size, config.seed) = (size, seed)
            let dataset: SyntheticDataset
            do { dataset = try SyntheticDataset(config) } catch { throw ValidationError("\(error)") }
            print("== writing the synthetic benchmark: \(images) fundus images of \(size) px -> \(folder.path)")
            let start = Date()
            try dataset.write(to: folder, threads: ProcessInfo.processInfo.activeProcessorCount) { done in
                if done % max(1, images / 10) == 0 { print("  \(done)/\(images) images"); fflush(nil) }
            }
            print(String(format: "  done in %.1f s", Date().timeIntervalSince(start)))
        }
        do { return try Manifest.load(ManifestOptions(format: .eyeq, labels: labels.path)) } catch { throw ValidationFailure("\(error)") }
    }
}
