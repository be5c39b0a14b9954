/// 8-bit RGB pixels, row-major, 3 bytes per pixel (the layout a Patch carries).
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0, pixels.count == width * height * 3 else {
            throw ImageError.invalidSize("\(pixels.count) bytes for \(width)x\(height) RGB")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}

public enum ImageError: Error, Equatable, CustomStringConvertible, Sendable {
    case unreadable(path: String, reason: String)
    case unknownFormat
    case unsupportedFormat(name: String, advice: String)
    case corruptPNG(String)
    case corruptJPEG(String)
    case corruptDICOM(String)
    case tooLarge(width: Int, height: Int, limit: Int)
    case invalidSize(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        case .unknownFormat: "not a PNG, JPEG or DICOM file (unrecognised signature)"
        case let .unsupportedFormat(name, advice): "a \(name) file: this version reads PNG, JPEG and DICOM images only; \(advice)"
        case let .corruptPNG(reason): "corrupt or unsupported PNG: \(reason)"
        case let .corruptJPEG(reason): "corrupt or unsupported JPEG: \(reason)"
        case let .corruptDICOM(reason): "unreadable or unsupported DICOM: \(reason)"
        case let .tooLarge(width, height, limit): "image of \(width)x\(height) exceeds the limit of \(limit) pixels"
        case let .invalidSize(reason): "invalid image size: \(reason)"
        }
    }
}
