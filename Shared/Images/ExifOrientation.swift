/// The EXIF orientation of a JPEG (tag 0x0112 of IFD0 in the APP1 "Exif" segment): how the
/// stored pixels must be turned to appear upright. Cameras and phones write it instead of
/// rotating pixels; Pillow users apply it with ImageOps.exif_transpose, and so do we, so a
/// fundus photo taken on its side is not learned on its side.
public enum ExifOrientation {
    /// 1 (as stored) to 8; 1 when the file has no readable orientation.
    public static func of(jpeg bytes: [UInt8]) -> Int {
        var offset = 2  // after SOI
        while offset + 4 <= bytes.count, bytes[offset] == 0xFF {
            let marker = bytes[offset + 1]
            if marker == 0xDA || marker == 0xD9 { break }  // image data starts: no APP1 after it
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard length >= 2, offset + 2 + length <= bytes.count else { break }
            let segment = bytes[(offset + 4)..<(offset + 2 + length)]
            if marker == 0xE1, segment.starts(with: Array("Exif\0\0".utf8)) {
                return orientation(tiff: Array(segment.dropFirst(6))) ?? 1
            }
            offset += 2 + length
        }
        return 1
    }

    /// Tag 0x0112 of the first IFD of a TIFF structure.
    static func orientation(tiff: [UInt8]) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let little: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let a = u16(at), let b = u16(at + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard let ifd = u32(4), let count = u16(ifd) else { return nil }
        for entry in 0..<count {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at) else { return nil }
            if tag == 0x0112, let value = u16(at + 8), (1...8).contains(value) { return value }
        }
        return nil
    }

    /// `image` turned upright for `orientation` (EXIF 2.3, table of tag 0x0112).
    public static func apply(_ orientation: Int, to image: RGBImage) -> RGBImage {
        guard (2...8).contains(orientation) else { return image }
        let (w, h) = (image.width, image.height)
        let swaps = orientation >= 5  // 5-8 exchange rows and columns
        let (outW, outH) = swaps ? (h, w) : (w, h)
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { source in
            for y in 0..<outH {
                for x in 0..<outW {
                    // The stored pixel shown at (x, y) of the upright image.
                    let (sx, sy): (Int, Int)
                    switch orientation {
                    case 2: (sx, sy) = (w - 1 - x, y)  // mirrored
                    case 3: (sx, sy) = (w - 1 - x, h - 1 - y)  // upside down
                    case 4: (sx, sy) = (x, h - 1 - y)  // mirrored upside down
                    case 5: (sx, sy) = (y, x)  // transposed
                    case 6: (sx, sy) = (y, h - 1 - x)  // stored turned 90 degrees anticlockwise
                    case 7: (sx, sy) = (w - 1 - y, h - 1 - x)  // transversed
                    default: (sx, sy) = (w - 1 - y, x)  // 8: stored turned 90 degrees clockwise
                    }
                    let (to, from) = ((y * outW + x) * 3, (sy * w + sx) * 3)
                    pixels[to] = source[from]
                    pixels[to + 1] = source[from + 1]
                    pixels[to + 2] = source[from + 2]
                }
            }
        }
        return try! RGBImage(width: outW, height: outH, pixels: pixels)  // same pixel count, sides swapped
    }
}
