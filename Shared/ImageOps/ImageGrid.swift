import Images

/// Tiles images into one picture: rows top to bottom, each row left to right, separated by a
/// gap of background colour. Cells take the largest width and height among the images.
public enum ImageGrid {
    public static func compose(_ rows: [[RGBImage]], gap: Int = 4, background: (UInt8, UInt8, UInt8) = (255, 255, 255)) -> RGBImage {
        let cells = rows.flatMap { $0 }
        precondition(!cells.isEmpty, "an empty grid")
        let cellWidth = cells.map(\.width).max()!, cellHeight = cells.map(\.height).max()!
        let columns = rows.map(\.count).max()!
        let width = columns * cellWidth + (columns + 1) * gap, height = rows.count * cellHeight + (rows.count + 1) * gap
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) { (pixels[i], pixels[i + 1], pixels[i + 2]) = background }
        for (r, row) in rows.enumerated() {
            for (c, image) in row.enumerated() {
                let left = gap + c * (cellWidth + gap), top = gap + r * (cellHeight + gap)
                for y in 0..<image.height {
                    let from = y * image.width * 3, to = ((top + y) * width + left) * 3
                    pixels.replaceSubrange(to..<to + image.width * 3, with: image.pixels[from..<from + image.width * 3])
                }
            }
        }
        // Sizes are valid by construction.
        return try! RGBImage(width: width, height: height, pixels: pixels)
    }
}
