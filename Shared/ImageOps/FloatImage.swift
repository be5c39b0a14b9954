import Images

/// RGB pixels as Float in [0, 1], row-major, interleaved: the working format of every
/// photometric and blur operation (8-bit rounding only at the end, as torchvision's
/// float pipeline does).
public struct FloatImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, fill: (r: Float, g: Float, b: Float) = (0, 0, 0)) {
        precondition(width > 0 && height > 0, "image of \(width)x\(height)")
        (self.width, self.height) = (width, height)
        pixels = [Float](repeating: 0, count: width * height * 3)
        // Black (most callers' canvas) is the zeroed array already: no second pass.
        guard fill != (0, 0, 0) else { return }
        for i in stride(from: 0, to: pixels.count, by: 3) { (pixels[i], pixels[i + 1], pixels[i + 2]) = fill }
    }

    public init(_ image: RGBImage) {
        (width, height) = (image.width, image.height)
        // A table of the 256 quotients: the same values as dividing each byte, without a
        // division per value (the augmenter converts every patch it gets).
        let values = Self.byteValues
        pixels = [Float](unsafeUninitializedCapacity: image.pixels.count) { out, count in
            image.pixels.withUnsafeBufferPointer { bytes in
                values.withUnsafeBufferPointer { table in for i in 0..<bytes.count { out[i] = table[Int(bytes[i])] } }
            }
            count = image.pixels.count
        }
    }

    private static let byteValues: [Float] = (0...255).map { Float($0) / 255 }

    /// A 16-bit image at its full precision.
    public init(_ image: RGB16Image) {
        (width, height) = (image.width, image.height)
        pixels = image.pixels.map { Float($0) / 65535 }
    }

    /// Rounds to 8 bits, clamping to [0, 255].
    public func rgbImage() -> RGBImage {
        let bytes = pixels.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) }
        // Sizes are valid by construction.
        return try! RGBImage(width: width, height: height, pixels: bytes)
    }

    public var pixelCount: Int { width * height }

    /// Luma by ITU-R 601-2, the weights torchvision's rgb_to_grayscale uses.
    @inline(__always) public func luma(at index: Int) -> Float {
        0.299 * pixels[3 * index] + 0.587 * pixels[3 * index + 1] + 0.114 * pixels[3 * index + 2]
    }

    /// Blends pixel `index` toward `colour` by `alpha` in [0, 1].
    @inline(__always) public mutating func blend(at index: Int, toward colour: (Float, Float, Float), alpha: Float) {
        let i = 3 * index
        pixels[i] += alpha * (colour.0 - pixels[i])
        pixels[i + 1] += alpha * (colour.1 - pixels[i + 1])
        pixels[i + 2] += alpha * (colour.2 - pixels[i + 2])
    }
}
