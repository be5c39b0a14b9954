/// Flips and crops of float images (torchvision's hflip, vflip and crop).
extension FloatImage {
    public func flippedHorizontally() -> FloatImage {
        var out = self
        for y in 0..<height {
            for x in 0..<width {
                let from = 3 * (y * width + width - 1 - x), to = 3 * (y * width + x)
                for c in 0..<3 { out.pixels[to + c] = pixels[from + c] }
            }
        }
        return out
    }

    public func flippedVertically() -> FloatImage {
        var out = self
        let row = 3 * width
        for y in 0..<height {
            let from = (height - 1 - y) * row
            out.pixels.replaceSubrange(y * row..<(y + 1) * row, with: pixels[from..<from + row])
        }
        return out
    }

    /// A window of the image; it must lie inside.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> FloatImage {
        precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height, "crop outside the image")
        var out = FloatImage(width: w, height: h)
        for row in 0..<h {
            let from = 3 * ((y + row) * width + x)
            out.pixels.replaceSubrange(3 * row * w..<3 * (row + 1) * w, with: pixels[from..<from + 3 * w])
        }
        return out
    }
}
