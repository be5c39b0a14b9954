/// 16-bit RGB samples, row-major, 3 per pixel: an image whose source has more than 8 bits (a
/// DICOM radiograph, a 16-bit PNG), kept at full precision from decoding to the augmenter's
/// normalisation. An 8-bit copy would keep 256 of a radiograph's 4,096 to 65,536 grey levels.
public struct RGB16Image: Equatable, Sendable, RGBRaster {
    public let width: Int
    public let height: Int
    public let pixels: [UInt16]

    public init(width: Int, height: Int, pixels: [UInt16]) throws {
        guard width > 0, height > 0, pixels.count == width * height * 3 else {
            throw ImageError.invalidSize("\(pixels.count) samples for \(width)x\(height) RGB")
        }
        (self.width, self.height, self.pixels) = (width, height, pixels)
    }

    /// The same image at 8 bits, each sample rounded to the nearest of 256 levels.
    public func rounded8() -> RGBImage {
        // 65535 = 255 * 257: v / 257 maps the two ranges end to end.
        try! RGBImage(width: width, height: height, pixels: pixels.map { UInt8((UInt32($0) * 2 + 257) / 514) })
    }
}

/// Row-major interleaved RGB of any unsigned sample width: what resizing and cropping need to
/// treat 8- and 16-bit images alike.
public protocol RGBRaster: Sendable {
    associatedtype Sample: FixedWidthInteger & UnsignedInteger & Sendable
    var width: Int { get }
    var height: Int { get }
    var pixels: [Sample] { get }
    init(width: Int, height: Int, pixels: [Sample]) throws
}

extension RGBImage: RGBRaster {}
