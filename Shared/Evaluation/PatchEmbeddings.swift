import Basics
import Cropping
import Datasets
import Detection
import Domain
import Encoder
import Foundation
import Plots
import Wire

/// Patches of each level (L, L~, H, H~) cut exactly as the detector/cropper cuts them for
/// training, and an encoder's embeddings of them projected to 2-D: the paper's Figure 1 view of
/// whether an encoder keeps lesion patches together across quality.
public struct PatchSample {
    public let levels: [Level]
    let batch: Tensor4

    /// Up to `perLevel` images of each level from `manifest` (seeded), one patch each: a detected
    /// lesion window (Omega) for lesion images, a random window (RandC) for healthy ones.
    public static func cut(
        from manifest: Manifest, perLevel: Int, seed: UInt64, detectionCache: URL?, normalization: Normalization, threads: Int
    ) throws -> PatchSample {
        let detector = ClassicalDetector()
        let cropper = Cropper(
            dataRoot: URL(fileURLWithPath: manifest.imageRoot), detector: detector,
            cache: detectionCache.map { DetectionCache(folder: $0, detectorIdentity: detector.identity) })
        var chosen: [ManifestEntry] = []
        for (number, level) in Level.allCases.enumerated() {
            var members = manifest.entries.filter { $0.level == level }
            var g = SeededGenerator(seed: seed, 0x9A7C, UInt64(number))
            g.shuffle(&members)
            chosen += members.prefix(perLevel)
        }
        let picked = chosen
        let patches = try Parallel.map(picked.count, threads: threads) { i -> Patch in
            let entry = picked[i]
            let request = PatchRequest(
                id: WorkID(run: "embeddings", step: 0, item: UInt64(i)), imageID: entry.image, path: entry.image, level: entry.level,
                seed: seed)
            do { return try cropper.handle(request) } catch { throw EvaluationError.data("patch from \(entry.image): \(error)") }
        }
        let side = cropper.cutter.size
        let batch = Tensor4(shape: Shape4(n: patches.count, h: side, w: side, c: 3))
        for (i, patch) in patches.enumerated() {
            // A DICOM's patches come at 16 bits (docs/datasets.md).
            if let wide = patch.pixels.uint16s() {
                normalization.write(rgb16: wide, into: batch, index: i)
            } else {
                normalization.write(rgb: patch.pixels.data, into: batch, index: i)
            }
        }
        return PatchSample(levels: picked.map(\.level), batch: batch)
    }

    /// The encoder's pooled features of every patch (eval mode), projected by t-SNE.
    public func project(_ spec: ModelSpec, seed: UInt64) throws -> [(x: Double, y: Double, category: Int)] {
        let model = EncoderModel(ModelConfig(arch: spec.arch, width: spec.width), seed: seed)
        if let weights = spec.weights {
            do { try ModelState.load(contentsOf: URL(fileURLWithPath: weights), into: model, scope: .backbone) } catch {
                throw EvaluationError.model("\(weights): \(error)")
            }
        }
        model.training = false
        let f = model.forward(batch)
        let rows = (0..<f.rows).map { r in (0..<f.cols).map { Double(f.pointer[r * f.cols + $0]) } }
        var tsne = TSNE()
        tsne.seed = seed
        let projected = tsne.embed(rows).points
        return zip(projected, levels).map { p, level in (p.x, p.y, Level.allCases.firstIndex(of: level)!) }
    }

    /// Legend entries in `Level.allCases` order (the categories `project` returns).
    public static let categories: [(name: String, colour: Colour)] = Level.allCases.enumerated().map { i, level in
        (level.description, Colour.series(i))
    }
}
