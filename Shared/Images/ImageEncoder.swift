import CImageCodec
import CTurboJPEG

public enum PNGEncoder {
    /// A PNG of `pixels` (row-major, `channels` = 1, 3 or 4 bytes per pixel).
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int = 3) throws -> [UInt8] {
        guard width > 0, height > 0, pixels.count == width * height * channels else {
            throw ImageError.invalidSize("\(pixels.count) bytes for \(width)x\(height)x\(channels)")
        }
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = pixels.withUnsafeBufferPointer {
            comcl_png_encode($0.baseAddress, UInt32(width), UInt32(height), Int32(channels), &output, &size, &message, message.count)
        }
        guard status == 0, let output else {
            throw ImageError.invalidSize(cText(message))
        }
        defer { comcl_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }

    public static func encode(_ image: RGBImage) throws -> [UInt8] {
        try encode(pixels: image.pixels, width: image.width, height: image.height, channels: 3)
    }
}

public enum JPEGEncoder {
    /// A baseline JPEG with 4:2:0 chroma subsampling (what cameras and EyeQ's files use). Quality
    /// 95 by default: the synthetic benchmark's microaneurysms are a few pixels wide and lower
    /// qualities smear them into the background.
    public static func encode(_ image: RGBImage, quality: Int = 95) throws -> [UInt8] {
        guard (1...100).contains(quality) else { throw ImageError.invalidSize("JPEG quality \(quality) is not in 1-100") }
        guard let handle = tjInitCompress() else { throw ImageError.corruptJPEG("cannot start TurboJPEG") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer {
            tjCompress2(
                handle, $0.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue), &output, &size,
                Int32(TJSAMP_420.rawValue), Int32(quality), 0)
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output else { throw ImageError.corruptJPEG(String(cString: tjGetErrorStr2(handle))) }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }
}
