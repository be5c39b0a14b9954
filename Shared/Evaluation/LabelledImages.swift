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
        return LabelledImages(names: entries.map(\.image), lowQualityShare: manifest.lowQualityShare, size: size, grades: grades, positives: positives, pixels: pixels)
    }

    /// Images `indices` as a normalised NHWC batch; `flips[i]` mirrors image i horizontally
    /// and/or vertically (training augmentation).
    public func batch(_ indices: [Int], normalization: Normalization, flips: [(horizontal: Bool, vertical: Bool)]? = nil) -> Tensor4 {
        let x = Tensor4(shape: Shape4(n: indices.count, h: size, w: size, c: 3))
        for (slot, index) in indices.enumerated() {
            let flip = flips?[slot] ?? (horizontal: false, vertical: false)
            normalization.write(rgb: pixels[index], into: x, index: slot, flipHorizontal: flip.horizontal, flipVertical: flip.vertical)
        }
        return x
    }
}
