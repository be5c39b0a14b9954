import Datasets
import Foundation
import ImageOps
import Images

/// The built-in, weight-free lesion-candidate detector for fundus photos.
///
/// Classical multi-scale blob detection on the green channel (where red lesions and exudates have
/// the most contrast; Walter et al. 2002, Fleming et al. 2006):
/// 1. Divide green by a smooth background (a Gaussian average over the field only), so contrast
///    is relative and uneven illumination cancels.
/// 2. At each scale sigma, the Hessian of the smoothed contrast: at a dark blob both eigenvalues
///    are positive, along a vessel only one is, so the smaller eigenvalue (scale-normalised by
///    sigma^2, Lindeberg 1998) responds to blobs and not to vessels. Bright blobs: the mirror image.
/// 3. Local maxima over space and scale become boxes of radius ~1.6 sigma; overlapping boxes are
///    merged (non-maximum suppression); the optic disc, a large bright blob with vessels
///    converging on it, is masked out.
/// Score = 1 - exp(-response / scoreScale): a monotone map to [0, 1] so `conf` thresholds work.
public struct ClassicalDetector: LesionDetector {
    public struct Settings: Sendable, Equatable {
        /// Blob scales in pixels at a 512-px image (microaneurysms ~1.5 px, haemorrhages to ~10 px).
        public var scales: [Double] = [1.5, 2.5, 4, 6.5, 10]
        /// Background averaging sigma, as a fraction of the image side.
        public var background = 0.04
        /// Responses giving a score of 1 - 1/e, per family: set so that conf 0.5 sits near the best
        /// F1 on the synthetic benchmark's high-quality images (`comcl bench-detector` prints the
        /// sweep; docs/detection.md). Bright look-alikes (retina between vessels, drusen) are
        /// commoner than dark ones, so bright blobs need a stronger response.
        public var darkScoreScale: Float = 0.2
        public var brightScoreScale: Float = 0.32
        /// Detections below this score are not reported at all.
        public var minimumScore: Float = 0.05
        public var maximumBoxes = 300
        public init() {}
    }

    public let settings: Settings
    public init(settings: Settings = Settings()) { self.settings = settings }

    public var identity: String {
        "classical-hessian-1 scales=\(settings.scales.map { String($0) }.joined(separator: "/")) bg=\(settings.background) k=\(settings.darkScoreScale)/\(settings.brightScoreScale)"
    }

    public func detect(_ rgb: RGBImage, imageID: String) throws -> [LesionBox] {
        // Hessians need a pixel on each side.
        guard rgb.width >= 3, rgb.height >= 3 else { return [] }
        let image = FloatImage(rgb)
        let (w, h) = (image.width, image.height)
        let scale = Double(min(w, h)) / 512
        let field = FieldOfView(of: image)
        let disc = field.disc
        // Work inside 95 % of the field radius: the rim's step edge is a strong false blob.
        var mask = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w where field.mask[y * w + x] > 0 && hypot(Double(x) - disc.x, Double(y) - disc.y) < 0.95 * disc.radius {
                mask[y * w + x] = 1
            }
        }
        let green = (0..<(w * h)).map { image.pixels[3 * $0 + 1] }
        // Background by normalised convolution: blur(green * mask) / blur(mask).
        var weighted = zip(green, mask).map { $0 * $1 }, weights = mask
        let sigmaBackground = settings.background * Double(min(w, h))
        GaussianBlur.apply(&weighted, width: w, height: h, channels: 1, sigma: sigmaBackground)
        GaussianBlur.apply(&weights, width: w, height: h, channels: 1, sigma: sigmaBackground)
        var contrast = [Float](repeating: 0, count: w * h)
        for i in 0..<(w * h) where mask[i] > 0 && weights[i] > 1e-3 {
            let background = weighted[i] / weights[i]
            if background > 1e-3 { contrast[i] = green[i] / background - 1 }
        }
        let opticDisc = OpticDisc.locate(green: green, mask: mask, width: w, height: h, scale: scale)

        var candidates: [(x: Int, y: Int, sigma: Double, response: Float, family: LesionFamily)] = []
        var best = [[Float]](repeating: [Float](repeating: 0, count: w * h), count: 2)
        var bestSigma = [[Double]](repeating: [Double](repeating: 0, count: w * h), count: 2)
        for s in settings.scales.map({ $0 * scale }) {
            let (dark, bright) = BlobResponse.compute(contrast, width: w, height: h, sigma: s)
            for (f, response) in [dark, bright].enumerated() {
                for i in 0..<(w * h) where response[i] > best[f][i] { (best[f][i], bestSigma[f][i]) = (response[i], s) }
            }
        }
        for (f, family) in [LesionFamily.dark, .bright].enumerated() {
            let (best, bestSigma) = (best[f], bestSigma[f])
            let scoreScale = family == .dark ? settings.darkScoreScale : settings.brightScoreScale
            let floor = -scoreScale * log(1 - settings.minimumScore)
            for y in 1..<(h - 1) {
                for x in 1..<(w - 1) {
                    let i = y * w + x, v = best[i]
                    guard v > floor, mask[i] > 0 else { continue }
                    var isMaximum = true
                    for dy in -1...1 { for dx in -1...1 where (dx, dy) != (0, 0) && best[i + dy * w + dx] > v { isMaximum = false } }
                    guard isMaximum, !opticDisc.contains(Double(x), Double(y)) else { continue }
                    candidates.append((x, y, bestSigma[i], v / scoreScale, family))
                }
            }
        }
        var boxes = candidates.sorted { $0.response > $1.response }.map { c -> LesionBox in
            let r = 1.6 * c.sigma + 1
            return LesionBox(
                x: Double(c.x) + 0.5 - r, y: Double(c.y) + 0.5 - r, width: 2 * r, height: 2 * r,
                score: Double(1 - exp(-c.response)), lesionClass: c.family.rawValue)
        }
        boxes = NonMaximumSuppression.apply(boxes, overlap: 0.3)
        return Array(boxes.prefix(settings.maximumBoxes)).map { $0.clipped(width: Double(w), height: Double(h)) }
    }
}

/// Scale-normalised Hessian blob response of one polarity.
enum BlobResponse {
    /// Dark-blob and bright-blob responses at one scale.
    static func compute(_ values: [Float], width w: Int, height h: Int, sigma: Double) -> (dark: [Float], bright: [Float]) {
        var smooth = values
        GaussianBlur.apply(&smooth, width: w, height: h, channels: 1, sigma: sigma)
        var dark = [Float](repeating: 0, count: w * h), bright = dark
        let norm = Float(sigma * sigma)
        for y in 1..<(h - 1) {
            for x in 1..<(w - 1) {
                let i = y * w + x
                let xx = smooth[i - 1] - 2 * smooth[i] + smooth[i + 1]
                let yy = smooth[i - w] - 2 * smooth[i] + smooth[i + w]
                let xy = (smooth[i + w + 1] - smooth[i + w - 1] - smooth[i - w + 1] + smooth[i - w - 1]) / 4
                let mean = (xx + yy) / 2, spread = (((xx - yy) / 2) * ((xx - yy) / 2) + xy * xy).squareRoot()
                // Eigenvalues mean +- spread. Dark blob: both positive, respond with the smaller;
                // bright blob: both negative, respond with minus the larger.
                if mean - spread > 0 { dark[i] = norm * (mean - spread) }
                if mean + spread < 0 { bright[i] = -norm * (mean + spread) }
            }
        }
        return (dark, bright)
    }
}

/// The optic disc: the brightest large region of the field (Sinthanayothin et al. 1999 use the
/// same cue), masked out as a circle.
struct OpticDisc {
    let x: Double, y: Double, radius: Double

    func contains(_ px: Double, _ py: Double) -> Bool { hypot(px - x, py - y) < radius }

    static func locate(green: [Float], mask: [Float], width w: Int, height h: Int, scale: Double) -> OpticDisc {
        var bright = zip(green, mask).map { $0 * $1 }
        GaussianBlur.apply(&bright, width: w, height: h, channels: 1, sigma: 12 * scale)
        var best = 0
        for i in bright.indices where mask[i] > 0 && bright[i] > bright[best] { best = i }
        // A disc is about 1/7 of the field's diameter across (~35 px radius at 512); mask a margin.
        return OpticDisc(x: Double(best % w), y: Double(best / w), radius: 50 * scale)
    }
}

enum NonMaximumSuppression {
    /// Greedy NMS over boxes sorted by score: a box overlapping a kept one by more than
    /// `overlap` IoU, or whose centre lies inside it, is dropped.
    static func apply(_ boxes: [LesionBox], overlap: Double) -> [LesionBox] {
        var kept: [LesionBox] = []
        for box in boxes {
            let (cx, cy) = (box.x + box.width / 2, box.y + box.height / 2)
            let suppressed = kept.contains { k in
                k.lesionClass == box.lesionClass
                    && (k.iou(box) > overlap || (cx >= k.x && cx <= k.x + k.width && cy >= k.y && cy <= k.y + k.height))
            }
            if !suppressed { kept.append(box) }
        }
        return kept
    }
}
