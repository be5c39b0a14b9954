import Datasets
import ImageOps
import Images

extension Modality {
    /// The modality of a dataset, from its label format where that says it (EyeQ: fundus;
    /// ChestX-ray14: X-ray), else from its images: grey images are taken for X-rays.
    public static func of(_ manifest: Manifest) -> Modality {
        switch manifest.format {
        case .eyeq: return .fundus
        case .chestxray: return .xray
        case .generic:
            // A few images spread over the set; an unreadable one says nothing.
            let step = max(1, manifest.entries.count / sampleImages)
            let sample = stride(from: 0, to: manifest.entries.count, by: step).prefix(sampleImages)
            let images = sample.compactMap { try? ImageDecoder.decode(contentsOf: manifest.url(of: manifest.entries[$0]).path) }
            return !images.isEmpty && images.allSatisfy(isGrey) ? .xray : .fundus
        }
    }

    /// Images looked at to tell a generic label file's modality.
    static let sampleImages = 8

    /// Every channel equal within 2 grey levels on a grid of pixels (JPEG chroma noise stays below).
    static func isGrey(_ image: RGBImage) -> Bool {
        let count = image.width * image.height
        return stride(from: 0, to: count, by: max(1, count / 4096)).allSatisfy { i in
            let (r, g, b) = (Int(image.pixels[3 * i]), Int(image.pixels[3 * i + 1]), Int(image.pixels[3 * i + 2]))
            return abs(r - g) <= 2 && abs(g - b) <= 2
        }
    }
}
