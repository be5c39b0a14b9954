import ArgumentParser
import Basics
import Datasets
import Evaluation
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
                throw Problem(
                    "\(folder.path) has no labels.csv (EyeQ format, images/ beside it) and is not empty: the synthetic benchmark is only written into a new or empty folder"
                )
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
        do { return try Manifest.load(ManifestOptions(format: .eyeq, labels: labels.path)) } catch { throw Problem("\(error)") }
    }

    /// The evaluation's training split for `seed` as its own label file beside `manifest`'s
    /// (`labels-train-seed<N>.csv`, the same rows): what pre-training may see. A run that
    /// pre-trained on every image would have seen the test images' levels, which come from their
    /// grades, and its encoder would score above what it learned.
    static func trainingSplit(_ manifest: Manifest, testShare: Double, seed: UInt64) throws -> Manifest {
        let train = DataSplit.split(manifest, testShare: testShare, seed: seed).train
        let source = URL(fileURLWithPath: manifest.labelFile)
        let lines = try String(contentsOf: source, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let kept = Set(train.entries.map(\.line))
        // Line numbers are 1-based; line 1 is the header.
        let rows = lines.enumerated().filter { $0.offset == 0 || kept.contains($0.offset + 1) }.map(\.element)
        let file = source.deletingLastPathComponent().appendingPathComponent("labels-train-seed\(seed).csv")
        do { try AtomicFile.write(Data((rows.joined(separator: "\n") + "\n").utf8), to: file) } catch {
            throw Problem("cannot write the pre-training label file \(file.path): \(error)")
        }
        let written: Manifest
        do { written = try Manifest.load(ManifestOptions(format: manifest.format, labels: file.path, images: manifest.imageRoot)) } catch {
            throw Problem("\(error)")
        }
        precondition(written.entries.map(\.image) == train.entries.map(\.image), "the training split's label file lost rows")
        return written
    }
}
