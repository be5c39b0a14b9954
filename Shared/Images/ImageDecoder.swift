import CImageCodec
import CTurboJPEG
import Foundation

/// Decodes PNG, JPEG and DICOM files. `decode` gives 8-bit RGB (what detection, overlays and
/// the evaluator read); `decodeImage` also keeps a 16-bit copy of a deeper source (DICOM,
/// 16-bit PNG) for the training path. Every failure is a thrown `ImageError`, never a crash:
/// libpng's longjmp stays inside C (png_codec.c), GDCM's exceptions inside C++
/// (dicom_codec.cpp), and TurboJPEG stops on warnings, so a truncated file is an error rather
/// than a half-grey image.
public enum ImageDecoder {
    /// Refuse larger images before allocating: EyeQ photos are at most about 4000 x 3000
    /// (12 Mpx) and ChestX-ray14 images 1024 x 1024, so 64 Mpx only stops absurd headers.
    public static let defaultMaxPixels = 64 << 20

    public static func decode(contentsOf path: String, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        try decodeImage(contentsOf: path, maxPixels: maxPixels).rgb
    }

    public static func decode(_ bytes: [UInt8], maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        try decodeImage(bytes, maxPixels: maxPixels).rgb
    }

    public static func decodeImage(contentsOf path: String, maxPixels: Int = defaultMaxPixels) throws -> DecodedImage {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? error.localizedDescription : "no such file"
            throw ImageError.unreadable(path: path, reason: reason)
        }
        return try decodeImage([UInt8](data), maxPixels: maxPixels)
    }

    public static func decodeImage(_ bytes: [UInt8], maxPixels: Int = defaultMaxPixels) throws -> DecodedImage {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try decodePNGImage(bytes, maxPixels: maxPixels) }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            return DecodedImage(
                rgb: ExifOrientation.apply(ExifOrientation.of(jpeg: bytes), to: try decodeJPEG(bytes, maxPixels: maxPixels)))
        }
        // A DICOM file: a 128-byte preamble, then "DICM" (PS3.10 section 7.1); or an older file
        // without them that starts with its first element, group 0002 or 0008 little-endian.
        let preamble = bytes.count >= 132 && Array(bytes[128..<132]) == Array("DICM".utf8)
        let bare = bytes.count >= 8 && (bytes[0] == 0x02 || bytes[0] == 0x08) && bytes[1] == 0 && bytes[3] == 0
        if preamble || bare { return try DicomDecoder.decode(bytes, maxPixels: maxPixels) }
        if let known = FileSignature.recognise(bytes) { throw ImageError.unsupportedFormat(name: known.name, advice: known.advice) }
        throw ImageError.unknownFormat
    }

    /// A PNG at 8 bits (16-bit samples keep their high byte, as Pillow reads them).
    public static func decodePNG(_ bytes: [UInt8], maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        try decodePNG(bytes, maxPixels: maxPixels, keep16: false).rgb
    }

    /// A PNG, with its 16-bit samples kept when it has them.
    public static func decodePNGImage(_ bytes: [UInt8], maxPixels: Int = defaultMaxPixels) throws -> DecodedImage {
        try decodePNG(bytes, maxPixels: maxPixels, keep16: true)
    }

    private static func decodePNG(_ bytes: [UInt8], maxPixels: Int, keep16: Bool) throws -> DecodedImage {
        var pixels: UnsafeMutablePointer<UInt8>?
        var width: UInt32 = 0
        var height: UInt32 = 0
        var depth: Int32 = 8
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer {
            comcl_png_decode_rgb(
                $0.baseAddress, $0.count, UInt64(maxPixels), keep16 ? 1 : 0, &pixels, &width, &height, &depth, &message, message.count)
        }
        if status == Int32(COMCL_PNG_TOO_LARGE) { throw ImageError.tooLarge(width: Int(width), height: Int(height), limit: maxPixels) }
        guard status == 0, let pixels else { throw ImageError.corruptPNG(cText(message)) }
        defer { comcl_free(pixels) }
        let count = Int(width) * Int(height) * 3
        guard depth == 16 else {
            return DecodedImage(
                rgb: try RGBImage(width: Int(width), height: Int(height), pixels: Array(UnsafeBufferPointer(start: pixels, count: count))))
        }
        let samples = pixels.withMemoryRebound(to: UInt16.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
        let wide = try RGB16Image(width: Int(width), height: Int(height), pixels: samples)
        // The 8-bit rendering keeps the high byte, as the 8-bit decode and Pillow do.
        return DecodedImage(rgb: try RGBImage(width: wide.width, height: wide.height, pixels: samples.map { UInt8($0 >> 8) }), wide: wide)
    }

    public static func decodeJPEG(_ bytes: [UInt8], maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        guard let handle = tjInitDecompress() else { throw ImageError.corruptJPEG("cannot start TurboJPEG") }
        defer { tjDestroy(handle) }
        func failure() -> ImageError { .corruptJPEG(String(cString: tjGetErrorStr2(handle))) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let size = UInt(bytes.count)
        guard
            bytes.withUnsafeBufferPointer({ tjDecompressHeader3(handle, $0.baseAddress, size, &width, &height, &subsampling, &colorspace) })
                == 0
        else {
            throw failure()
        }
        guard width > 0, height > 0 else { throw ImageError.corruptJPEG("header declares \(width)x\(height)") }
        guard Int(width) * Int(height) <= maxPixels else {
            throw ImageError.tooLarge(width: Int(width), height: Int(height), limit: maxPixels)
        }
        // Default flags = accurate integer IDCT and fancy upsampling, as Pillow decodes.
        let flags = TJFLAG_STOPONWARNING
        let cmyk = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        let (format, channels) = cmyk ? (TJPF_CMYK, 4) : (TJPF_RGB, 3)
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        let status = bytes.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                tjDecompress2(handle, source.baseAddress, size, target.baseAddress, width, 0, height, Int32(format.rawValue), flags)
            }
        }
        guard status == 0 else { throw failure() }
        return try RGBImage(width: Int(width), height: Int(height), pixels: cmyk ? rgb(fromAdobeCMYK: pixels) : pixels)
    }

    /// RGB of CMYK JPEG samples as Adobe software stores them (inverted: 255 is no ink), the
    /// way Pillow converts them (Convert.c cmyk2rgb): R = (255 - K) - C (255 - K) / 255 in ink
    /// terms, with its rounding; no colour management, as Pillow without ImageCms.
    static func rgb(fromAdobeCMYK samples: [UInt8]) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: samples.count / 4 * 3)
        for pixel in 0..<(samples.count / 4) {
            let noInk = Int(samples[pixel * 4 + 3])  // 255 - K
            for channel in 0..<3 {
                let ink = 255 - Int(samples[pixel * 4 + channel])
                let product = ink * noInk + 128
                rgb[pixel * 3 + channel] = UInt8(clamping: noInk - (((product >> 8) + product) >> 8))
            }
        }
        return rgb
    }
}

/// The text of a C message buffer, up to its first NUL.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
