/// Image formats we do not decode, recognised by their first bytes so the message names the
/// format and says what to do, instead of "unrecognised signature".
enum FileSignature {
    struct Known: Sendable {
        let name: String
        let advice: String
        let matches: @Sendable ([UInt8]) -> Bool
    }

    static let known: [Known] = [
        Known(name: "TIFF", advice: "convert it to PNG first (e.g. ImageMagick: convert in.tif out.png)") {
            $0.starts(with: [0x49, 0x49, 0x2A, 0x00]) || $0.starts(with: [0x4D, 0x4D, 0x00, 0x2A])
        },
        Known(name: "JPEG 2000", advice: "convert it to PNG first (Debian's libopenjp2-tools: opj_decompress)") {
            $0.starts(with: [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]) || $0.starts(with: [0xFF, 0x4F, 0xFF, 0x51])
        },
        Known(name: "BMP", advice: "convert it to PNG first") { $0.starts(with: Array("BM".utf8)) && $0.count >= 26 },
        Known(name: "GIF", advice: "convert it to PNG first") { $0.starts(with: Array("GIF8".utf8)) },
        Known(name: "WebP", advice: "convert it to PNG first (Debian's webp: dwebp)") {
            $0.count >= 12 && $0.starts(with: Array("RIFF".utf8)) && Array($0[8..<12]) == Array("WEBP".utf8)
        },
        Known(name: "NIfTI", advice: "export the slices you want as PNG first") {
            $0.count >= 348 && (Array($0[344..<348]) == Array("n+1\0".utf8) || Array($0[344..<348]) == Array("ni1\0".utf8))
        },
    ]

    /// The format `bytes` start like, if it is one we know but do not read.
    static func recognise(_ bytes: [UInt8]) -> Known? { known.first { $0.matches(bytes) } }
}
