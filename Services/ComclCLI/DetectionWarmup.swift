import Basics
import Cropping
import Datasets
import Detection
import Foundation
import Wire

/// Runs the built-in detector over a dataset's lesion images on every core before the services
/// start, filling the detection cache the detector/cropper reads. A run otherwise detects each
/// image the first time a step draws it, in one cropper process while the encoder waits.
enum DetectionWarmup {
    static func fill(_ cache: URL, for manifest: Manifest) throws {
        let detector = ClassicalDetector()
        let cropper = Cropper(
            dataRoot: URL(fileURLWithPath: manifest.imageRoot), detector: detector,
            cache: DetectionCache(folder: cache, detectorIdentity: detector.identity), memoryBytes: 0)
        // Healthy images are cut at random; only lesion images are detected.
        let entries = manifest.entries.filter { $0.level == .lesionHigh || $0.level == .lesionLow }
        let started = Date()
        _ = try Parallel.map(entries.count, threads: ProcessInfo.processInfo.activeProcessorCount) { i in
            try cropper.handle(
                PatchRequest(
                    id: WorkID(run: "warm", step: 0, item: UInt64(i)), imageID: entries[i].image, path: entries[i].image,
                    level: entries[i].level, seed: 0))
        }
        print(
            String(
                format: "== lesions detected in %d images in %.1f s (cached in %@)", entries.count, Date().timeIntervalSince(started),
                cache.path))
    }
}
