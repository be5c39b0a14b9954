import Foundation

/// A PngSuite `.sng` text dump (the `sng` tool's format), read just far enough to give
/// the expected pixels: IHDR size / bit depth / colour type, PLTE, and IMAGE hex rows.
struct SNGFile {
    var width = 0
    var height = 0
    var bitDepth = 8
    var colour = ""  // "grayscale", "grayscale alpha", "color", "color alpha", "color palette"
    var palette: [[UInt8]] = []
    var rows: [[UInt8]] = []

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var block = ""
        var inPixels = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if block.isEmpty {
                if line.hasSuffix("{") { block = String(line.dropLast()).trimmingCharacters(in: .whitespaces) }
                continue
            }
            if line.hasPrefix("}") || line.hasSuffix("}") {
                block = ""
                inPixels = false
                continue
            }
            switch block {
            case "IHDR":
                for field in line.split(separator: ";") {
                    let parts = field.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
                    if parts.count == 2, let value = Int(parts[1]) {
                        switch parts[0] {
                        case "width": width = value
                        case "height": height = value
                        case "bitdepth": bitDepth = value
                        default: break
                        }
                    } else if field.contains("using") {
                        colour = field.replacingOccurrences(of: "using", with: "").trimmingCharacters(in: .whitespaces)
                    }
                }
            case "PLTE":
                if let open = line.firstIndex(of: "("), let close = line.firstIndex(of: ")") {
                    palette.append(
                        line[line.index(after: open)..<close].split(separator: ",").map { UInt8($0.trimmingCharacters(in: .whitespaces))! })
                }
            case "IMAGE":
                if line == "pixels hex" { inPixels = true; continue }
                guard inPixels else { continue }
                let hex = Array(line.replacingOccurrences(of: " ", with: "").utf8)
                rows.append(
                    stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! })
            default: break
            }
        }
    }

    /// The pixels of a 16-bit image as 16-bit RGB (gray replicated, alpha dropped).
    func expectedRGB16() -> [UInt16] {
        precondition(bitDepth == 16, "a 16-bit image")
        let channels = ["grayscale": 1, "grayscale alpha": 2, "color": 3, "color alpha": 4][colour]!
        return rows.prefix(height).flatMap { row in
            (0..<width).flatMap { x in
                let sample = { (c: Int) in UInt16(row[(x * channels + c) * 2]) << 8 | UInt16(row[(x * channels + c) * 2 + 1]) }
                return channels >= 3 ? [sample(0), sample(1), sample(2)] : [sample(0), sample(0), sample(0)]
            }
        }
    }

    /// The pixels as 8-bit RGB by our decoder's rules: 16-bit samples keep the high byte,
    /// gray is replicated, palette indices are looked up, alpha is dropped.
    func expectedRGB() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(width * height * 3)
        let channels = ["grayscale": 1, "grayscale alpha": 2, "color": 3, "color alpha": 4, "color palette": 1][colour]!
        for row in rows.prefix(height) {
            for x in 0..<width {
                if colour == "color palette" {
                    let bit = x * bitDepth
                    let index = (Int(row[bit / 8]) >> (8 - bitDepth - bit % 8)) & ((1 << bitDepth) - 1)
                    out += palette[index]
                    continue
                }
                let step = bitDepth / 8  // bytes per sample; the high byte comes first
                let sample = { (c: Int) in row[(x * channels + c) * step] }
                out += channels >= 3 ? [sample(0), sample(1), sample(2)] : [sample(0), sample(0), sample(0)]
            }
        }
        return out
    }
}
