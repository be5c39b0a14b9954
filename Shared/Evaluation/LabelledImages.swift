import Basics
import Datasets
import Encoder
import Foundation
import ImageOps
import Images

/// A split's images, decoded and resized to one square side, held as 8-bit RGB (a quarter of
/// the memory of floats), with what the classifier must predict for each.
public struct LabelledImages: Sendable {
    public let names: [String]
    /// The split's share of low-quality images (its manifest's).
    public let lowQualityShare: Double
    public let size: Int
    /// Grading: the grade of each image. Multi-label: empty.
    public let grades: [Int]
    /// Multi-label: one flag per label of the task for each image. Grading: empty.
    public let positives: [[Bool]]
    let pixels: [[UInt8]]

    public var count: Int { names.count }

    public static func load(_ manifest: Manifest, task: DiagnosisTask, size: Int, threads: Int) throws -> LabelledImages {
        let entries = manifest.entries
        let pixels = try Parallel.map(entries.count, threads: threads) { index -> [UInt8] in
            let entry = entries[index]
            let decoded: RGBImage
            do { decoded = try ImageDecoder.decode(contentsOf: manifest.url(of: entry).path) } catch {
                throw EvaluationError.data("\(manifest.url(of: entry).path): \(error)")
            }
            // Squashed to a square when not square (fundus photos are cropped square; the
            // classifier sees every image whole).
            return Resize.bilinear(decoded, width: size, height: size).pixels
        }
        var grades: [Int] = [], positives: [[Bool]] = []
        switch task {
        case .grading: grades = entries.map { $0.grade! }
        case .multiLabel(let labels):
            positives = entries.map { entry in
                let found = Set(DiagnosisTask.positives(entry))
                return labels.map(found.contains)
            }
        }
        return LabelledImages(
            names: entries.map(\.image), lowQualityShare: manifest.lowQualityShare, size: size, grades: grades, positives: positives,
            pixels: pixels)
    }

    /// Images `indices` as a normalised NHWC batch, each transformed by `transforms[i]` when given
    /// (training augmentation); images are written in parallel.
    public func batch(_ indices: [Int], normalization: Normalization, transforms: [ImageTransform]? = nil, threads: Int = 1) -> Tensor4 {
        let x = Tensor4(shape: Shape4(n: indices.count, h: size, w: size, c: 3))
        nonisolated(unsafe) let target = x
        _ = try? Parallel.map(indices.count, threads: threads) { slot in
            (transforms?[slot] ?? .identity).write(pixels[indices[slot]], into: target, index: slot, normalization: normalization)
        }
        return x
    }

    /// The images' per-channel mean and standard deviation of pixel / 255: the normalisation a
    /// classifier trained on them uses unless given one (the reference protocol's).
    public func channelStatistics() -> Normalization {
        var sum = [Double](repeating: 0, count: 3), square = sum
        for image in pixels {
            for i in stride(from: 0, to: image.count, by: 3) {
                for k in 0..<3 { let v = Double(image[i + k]) / 255; sum[k] += v; square[k] += v * v }
            }
        }
        let n = Double(max(pixels.reduce(0) { $0 + $1.count / 3 }, 1))
        let mean = sum.map { $0 / n }
        let std = zip(mean, square).map { m, sq in max(max(sq / n - m * m, 0).squareRoot(), 1e-3) }
        return Normalization(mean: mean.map(Float.init), std: std.map(Float.init))
    }
}
