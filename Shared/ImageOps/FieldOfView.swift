import Images

/// The imaged field of a fundus photo: the bright disc inside the black surround. Degradations
/// act only inside it (Shen et al. 2020 apply theirs under the same mask), and random crops of
/// healthy images must lie mostly on it (docs/method.md section 2).
public struct FieldOfView: Sendable {
    /// 1 inside the field, 0 outside, one value per pixel.
    public let mask: [Float]
    public let width: Int
    public let height: Int

    /// Pixels brighter than this (max of R, G, B) count as field: the surround of a fundus photo
    /// is black up to JPEG noise (about 10/255), the darkest retina well above 20/255.
    public static let defaultThreshold: Float = 20 / 255

    public init(of image: FloatImage, threshold: Float = defaultThreshold) {
        (width, height) = (image.width, image.height)
        var mask = [Float](repeating: 0, count: image.pixelCount)
        for i in 0..<image.pixelCount {
            let p = 3 * i
            if max(image.pixels[p], image.pixels[p + 1], image.pixels[p + 2]) > threshold { mask[i] = 1 }
        }
        self.mask = mask
    }

    /// The same mask from 8-bit pixels, without a float copy of the image (a byte b is field when
    /// b / 255 > threshold, as the float path decides it).
    public init(of image: RGBImage, threshold: Float = defaultThreshold) {
        (width, height) = (image.width, image.height)
        var mask = [Float](repeating: 0, count: image.width * image.height)
        let bright = Self.onField(threshold)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<mask.count where bright[Int(max(p[3 * i], p[3 * i + 1], p[3 * i + 2]))] { mask[i] = 1 }
        }
        self.mask = mask
    }

    public var area: Int { mask.reduce(0) { $0 + Int($1) } }

    /// `FieldOfView(of: image).coverage(...)` of one window, read from the window's own pixels:
    /// a cropper's random cut asks about a few windows of each image it cuts, and building the
    /// whole image's mask for them was 40 % of the demo's cropper.
    public static func coverage(
        of image: RGBImage, x: Int, y: Int, width w: Int, height h: Int, threshold: Float = defaultThreshold
    ) -> Double {
        let bright = onField(threshold)
        var inside = 0
        image.pixels.withUnsafeBufferPointer { p in
            for row in max(0, y)..<min(image.height, y + h) {
                for column in max(0, x)..<min(image.width, x + w) {
                    let i = 3 * (row * image.width + column)
                    if bright[Int(max(p[i], p[i + 1], p[i + 2]))] { inside += 1 }
                }
            }
        }
        return Double(inside) / Double(max(1, w * h))
    }

    /// For each byte value, whether a pixel whose brightest channel has it lies on the field.
    private static func onField(_ threshold: Float) -> [Bool] { (0...255).map { Float($0) / 255 > threshold } }

    /// Share of the window's pixels that lie on the field.
    public func coverage(x: Int, y: Int, width w: Int, height h: Int) -> Double {
        // Pixels outside the image count as off the field.
        var inside = 0
        for row in max(0, y)..<min(height, y + h) {
            for column in max(0, x)..<min(width, x + w) { inside += Int(mask[row * width + column]) }
        }
        return Double(inside) / Double(max(1, w * h))
    }

    /// Centre of mass and the radius of a disc of the same area: where a halo ring goes.
    public var disc: (x: Double, y: Double, radius: Double) {
        var sx = 0.0, sy = 0.0, n = 0.0
        for row in 0..<height {
            for column in 0..<width where mask[row * width + column] > 0 {
                sx += Double(column)
                sy += Double(row)
                n += 1
            }
        }
        guard n > 0 else { return (Double(width) / 2, Double(height) / 2, Double(min(width, height)) / 2) }
        return (sx / n, sy / n, (n / Double.pi).squareRoot())
    }
}
