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
/// 3. Local maxima over space and scale are candidates. Those that are not round (vessel bends:
///    one eigenvalue far below the other), that a dark line runs through (vessel crossings), or
///    that lie on the optic disc, the fovea or near the field's edge (a clipped field's straight
///    edge too) are dropped; overlapping boxes are merged (non-maximum suppression).
/// 4. Scores are relative to the image itself: a candidate's response in robust standard
///    deviations above the image's typical blob response (median and MAD over its candidates),
///    mapped to [0, 1]. So `conf` means the same on a synthetic image, a sharp real photo and a
///    dim one, where an absolute response scale tuned on synthetic images finds nothing on real
///    photos (docs/detection.md has the figures).
public struct ClassicalDetector: LesionDetector {
    public struct Settings: Sendable, Equatable {
        /// Blob scales in pixels at a 512-px image (microaneurysms ~1.5 px, haemorrhages to ~10 px).
        public var scales: [Double] = [1.5, 2.5, 4, 6.5, 10]
        /// Background averaging sigma, as a fraction of the image side.
        public var background = 0.04
        /// Robust z-scores giving a score of 1 - 1/e, per family: conf 0.5 keeps candidates about
        /// 12.5 MADs above the image's typical response. Set on real photos (a normal eye gives
        /// nothing above 0.5, the two HRF microaneurysms 0.80 and 0.61, the next blob 0.27) and
        /// checked on the synthetic benchmark (docs/detection.md). One value serves both families
        /// since the ring test removes the bright look-alikes between vessels.
        public var darkScoreScale: Float = 18
        public var brightScoreScale: Float = 18
        /// The least spread a score is measured in: the texture of real photos (the MAD of blob
        /// responses on the two real photos we have, 0.0045-0.0058), so an unnaturally smooth
        /// image (a synthetic one, a heavily denoised one) does not make every faint blob a lesion.
        public var spreadFloor: Float = 0.0045
        /// The smaller Hessian eigenvalue must be at least this share of the larger: a round blob
        /// has about 1, a vessel bend or a vessel's edge much less.
        public var isotropy: Float = 0.25
        /// Detections below this score are not reported at all.
        public var minimumScore: Float = 0.05
        public var maximumBoxes = 300
        public init() {}
    }

    public let settings: Settings
    public init(settings: Settings = Settings()) { self.settings = settings }

    public var identity: String {
        "classical-hessian-2 scales=\(settings.scales.map { String($0) }.joined(separator: "/")) bg=\(settings.background) z=\(settings.darkScoreScale)/\(settings.brightScoreScale) iso=\(settings.isotropy) floor=\(settings.spreadFloor)"
    }

    public func detect(_ rgb: RGBImage, imageID: String) throws -> [LesionBox] {
        // Hessians need a pixel on each side.
        guard rgb.width >= 3, rgb.height >= 3 else { return [] }
        let image = FloatImage(rgb)
        let (w, h) = (image.width, image.height)
        let scale = Double(min(w, h)) / 512
        let anatomy = FundusAnatomyMask(image: image)
        let mask = anatomy.mask
        let green = (0..<(w * h)).map { image.pixels[3 * $0 + 1] }
        // Background by normalised convolution: blur(green * mask) / blur(mask).
        var weighted = zip(green, anatomy.field).map { $0 * $1 }, weights = anatomy.field
        let sigmaBackground = settings.background * Double(min(w, h))
        GaussianBlur.apply(&weighted, width: w, height: h, channels: 1, sigma: sigmaBackground)
        GaussianBlur.apply(&weights, width: w, height: h, channels: 1, sigma: sigmaBackground)
        var contrast = [Float](repeating: 0, count: w * h)
        for i in 0..<(w * h) where anatomy.field[i] > 0 && weights[i] > 1e-3 {
            let background = weighted[i] / weights[i]
            if background > 1e-3 { contrast[i] = green[i] / background - 1 }
        }

        var best = [[Float]](repeating: [Float](repeating: 0, count: w * h), count: 2)
        var bestSigma = [[Double]](repeating: [Double](repeating: 0, count: w * h), count: 2)
        for s in settings.scales.map({ $0 * scale }) {
            let (dark, bright) = BlobResponse.compute(contrast, width: w, height: h, sigma: s, isotropy: settings.isotropy)
            for (f, response) in [dark, bright].enumerated() {
                for i in 0..<(w * h) where response[i] > best[f][i] { (best[f][i], bestSigma[f][i]) = (response[i], s) }
            }
        }
        var boxes: [LesionBox] = []
        for (f, family) in [LesionFamily.dark, .bright].enumerated() {
            let (best, bestSigma) = (best[f], bestSigma[f])
            var maxima: [(x: Int, y: Int, sigma: Double, response: Float)] = []
            for y in 1..<(h - 1) {
                for x in 1..<(w - 1) {
                    let i = y * w + x, v = best[i]
                    guard v > 0, mask[i] > 0 else { continue }
                    var isMaximum = true
                    for dy in -1...1 { for dx in -1...1 where (dx, dy) != (0, 0) && best[i + dy * w + dx] > v { isMaximum = false } }
                    if isMaximum { maxima.append((x, y, bestSigma[i], v)) }
                }
            }
            // The image's own yardstick: its typical candidate and the spread around it.
            let typical = RobustLevel(maxima.map(\.response), floor: settings.spreadFloor)
            let scoreScale = family == .dark ? settings.darkScoreScale : settings.brightScoreScale
            for c in maxima {
                let z = typical.z(c.response)
                let score = 1 - exp(-max(0, z) / scoreScale)
                guard score >= settings.minimumScore else { continue }
                // A dark line through a dark candidate is a vessel crossing; dark lines on two sides
                // of a bright one make it the retina between vessels. Neither is a lesion.
                if VesselCrossing.among(contrast, width: w, height: h, x: c.x, y: c.y, sigma: c.sigma, family: family) { continue }
                let r = 1.6 * c.sigma + 1
                boxes.append(
                    LesionBox(
                        x: Double(c.x) + 0.5 - r, y: Double(c.y) + 0.5 - r, width: 2 * r, height: 2 * r, score: Double(score),
                        lesionClass: family.rawValue))
            }
        }
        boxes = NonMaximumSuppression.apply(boxes.sorted { $0.score > $1.score }, overlap: 0.3)
        return Array(boxes.prefix(settings.maximumBoxes)).map { $0.clipped(width: Double(w), height: Double(h)) }
    }
}

/// Median and MAD of a set of responses: robust to the few lesions among many texture blobs.
struct RobustLevel {
    let median: Float
    let spread: Float

    init(_ values: [Float], floor: Float) {
        guard !values.isEmpty else {
            (median, spread) = (0, 1)
            return
        }
        let sorted = values.sorted()
        let median = sorted[sorted.count / 2]
        let deviations = values.map { abs($0 - median) }.sorted()
        // 1.4826 MAD estimates a standard deviation.
        (self.median, spread) = (median, max(1.4826 * deviations[deviations.count / 2], floor))
    }

    func z(_ value: Float) -> Float { (value - median) / spread }
}

/// Whether a candidate sits among vessels: dark samples on a ring around it in two directions at
/// least 90 degrees apart. For a dark candidate "dark" means as dark as its own centre (a vessel
/// passing through darkens the ring on opposite sides; a lesion beside a vessel only on one);
/// for a bright one, darker than the background by a vessel's contrast (the bright retina between
/// converging vessels near the disc is ringed by them).
enum VesselCrossing {
    static let directions = 16
    /// Contrast of a large vessel against its background in green (thin ones ~ -0.05, large ~ -0.3):
    /// exudates often lie beside thin vessels, the gaps near the disc lie between large ones.
    static let vesselContrast: Float = -0.12

    static func among(_ contrast: [Float], width w: Int, height h: Int, x: Int, y: Int, sigma: Double, family: LesionFamily) -> Bool {
        let centre = contrast[y * w + x]
        let limit: Float
        switch family {
        case .dark:
            guard centre < 0 else { return false }
            limit = 0.5 * centre
        case .bright:
            limit = vesselContrast
        }
        return [2.5, 4].contains { ring in
            var dark: [Int] = []
            let radius = max(2, ring * sigma)
            for k in 0..<directions {
                let angle = 2 * Double.pi * Double(k) / Double(directions)
                let (px, py) = (Int((Double(x) + radius * cos(angle)).rounded()), Int((Double(y) + radius * sin(angle)).rounded()))
                guard px >= 0, py >= 0, px < w, py < h else { continue }
                if contrast[py * w + px] < limit { dark.append(k) }
            }
            return dark.contains { a in dark.contains { b in min(abs(a - b), directions - abs(a - b)) >= directions / 4 } }
        }
    }
}

/// Where lesions are looked for on a fundus photo: the field of view with a margin off its edge
/// (the rim's and a clipped field's step edges are strong false blobs), without the optic disc
/// (a bright blob with a dark rim of vessels) and the fovea (a dark blob every eye has).
struct FundusAnatomyMask {
    /// The field of view as found (1 inside).
    let field: [Float]
    /// Where candidates may lie.
    let mask: [Float]

    /// A field covering more of the image than this is taken for a crop. A whole fundus photo's
    /// round field covers at most pi/4 of a square image, and a clipped one about 0.85 of a 4:3 one.
    static let cropShare = 0.95

    init(image: FloatImage) {
        let (w, h) = (image.width, image.height)
        let view = FieldOfView(of: image)
        field = view.mask
        let radius = view.disc.radius
        // Erode the field by ~4 % of its radius: blur the mask and keep what stays near 1.
        var inner = view.mask
        GaussianBlur.apply(&inner, width: w, height: h, channels: 1, sigma: max(1, 0.02 * radius))
        var mask = inner.map { $0 > 0.98 ? Float(1) : 0 }
        let green = (0..<(w * h)).map { image.pixels[3 * $0 + 1] * view.mask[$0] }
        // A field that fills the image is a crop (no black surround): its brightest and darkest
        // regions are not the disc and the fovea, and masking them could hide a lesion.
        guard Double(view.area) < Self.cropShare * Double(w * h) else {
            self.mask = mask
            return
        }
        // The optic disc is about a seventh of the field across (radius ~0.14 R); a margin for its
        // rim and the vessels leaving it. The fovea lies within ~0.35 R of the centre.
        let disc = Self.extreme(green, mask: mask, width: w, height: h, sigma: 0.05 * radius, brightest: true, near: nil)
        Self.clear(&mask, width: w, height: h, around: disc, radius: 0.2 * radius)
        let centre = (x: view.disc.x, y: view.disc.y, within: 0.35 * radius)
        let fovea = Self.extreme(green, mask: mask, width: w, height: h, sigma: 0.04 * radius, brightest: false, near: centre)
        Self.clear(&mask, width: w, height: h, around: fovea, radius: 0.07 * radius)
        self.mask = mask
    }

    /// The brightest (or darkest) point of the blurred green inside the mask (and near a point).
    static func extreme(
        _ green: [Float], mask: [Float], width w: Int, height h: Int, sigma: Double, brightest: Bool,
        near: (x: Double, y: Double, within: Double)?
    ) -> (x: Double, y: Double)? {
        var smooth = zip(green, mask).map { $0 * $1 }, weight = mask
        GaussianBlur.apply(&smooth, width: w, height: h, channels: 1, sigma: max(1, sigma))
        GaussianBlur.apply(&weight, width: w, height: h, channels: 1, sigma: max(1, sigma))
        var found: (index: Int, value: Float)?
        for i in 0..<(w * h) where mask[i] > 0 && weight[i] > 0.5 {
            if let near, hypot(Double(i % w) - near.x, Double(i / w) - near.y) > near.within { continue }
            let value = smooth[i] / weight[i]
            if found == nil || (brightest ? value > found!.value : value < found!.value) { found = (i, value) }
        }
        return found.map { (Double($0.index % w), Double($0.index / w)) }
    }

    static func clear(_ mask: inout [Float], width w: Int, height h: Int, around point: (x: Double, y: Double)?, radius: Double) {
        guard let point else { return }
        for y in max(0, Int(point.y - radius))...min(h - 1, Int(point.y + radius)) {
            for x in max(0, Int(point.x - radius))...min(w - 1, Int(point.x + radius))
            where hypot(Double(x) - point.x, Double(y) - point.y) < radius {
                mask[y * w + x] = 0
            }
        }
    }
}

/// Scale-normalised Hessian blob response of one polarity.
enum BlobResponse {
    /// Dark-blob and bright-blob responses at one scale.
    /// `isotropy`: the smaller eigenvalue's least share of the larger (0 keeps every blob).
    static func compute(
        _ values: [Float], width w: Int, height h: Int, sigma: Double, isotropy: Float = 0
    ) -> (dark: [Float], bright: [Float]) {
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
                if mean - spread > 0, mean - spread >= isotropy * (mean + spread) { dark[i] = norm * (mean - spread) }
                if mean + spread < 0, -(mean + spread) >= isotropy * -(mean - spread) { bright[i] = -norm * (mean + spread) }
            }
        }
        return (dark, bright)
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
