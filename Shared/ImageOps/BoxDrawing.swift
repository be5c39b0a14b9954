import Images

/// Rectangle outlines on an 8-bit image, for pictures a person looks at (detections vs truth).
public enum BoxDrawing {
    public static func outline(
        _ image: inout RGBImage, x: Double, y: Double, width: Double, height: Double, colour: (UInt8, UInt8, UInt8), thickness: Int = 1
    ) {
        var pixels = image.pixels
        let (w, h) = (image.width, image.height)
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        let x1 = Int((x + width).rounded(.up)) - 1, y1 = Int((y + height).rounded(.up)) - 1
        func set(_ px: Int, _ py: Int) {
            guard px >= 0, py >= 0, px < w, py < h else { return }
            let i = 3 * (py * w + px)
            (pixels[i], pixels[i + 1], pixels[i + 2]) = colour
        }
        for t in 0..<thickness {
            for px in (x0 - t)...(x1 + t) { set(px, y0 - t); set(px, y1 + t) }
            for py in (y0 - t)...(y1 + t) { set(x0 - t, py); set(x1 + t, py) }
        }
        // Sizes are unchanged, so this cannot fail.
        image = try! RGBImage(width: w, height: h, pixels: pixels)
    }
}
