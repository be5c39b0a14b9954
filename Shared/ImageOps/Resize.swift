import Images

/// Resampling with a triangle (bilinear) filter whose support widens when shrinking, as Pillow's
/// BILINEAR resize does (and torchvision's with antialias), so downscaling averages instead of
/// aliasing. Separable: rows, then columns.
public enum Resize {
    // Each generic function here is specialised for both sample widths: a generic call from
    // another module would otherwise convert every sample through protocol witnesses (the
    // evaluator's image loading ran 6x slower).
    /// 8- or 16-bit images alike: each output sample rounded to the nearest level.
    @_specialize(where Image == RGBImage)
    @_specialize(where Image == RGB16Image)
    public static func bilinear<Image: RGBRaster>(_ image: Image, width: Int, height: Int) -> Image {
        if width == image.width, height == image.height { return image }
        let out = resample(image.pixels.map(Float.init), from: (image.width, image.height), to: (width, height))
        let top = Float(Image.Sample.max)
        // Sizes are valid by construction.
        return try! Image(width: width, height: height, pixels: out.map { Image.Sample(max(0, min(top, $0.rounded()))) })
    }

    /// The same filter in float (torchvision's resize of a float tensor with antialias=True).
    public static func bilinear(_ image: FloatImage, width: Int, height: Int) -> FloatImage {
        if width == image.width, height == image.height { return image }
        var out = FloatImage(width: width, height: height)
        out.pixels = resample(image.pixels, from: (image.width, image.height), to: (width, height))
        return out
    }

    /// Separable resampling of interleaved RGB values: rows, then columns. Each output value sums
    /// its taps in index order (the order fixes the float result).
    private static func resample(_ source: [Float], from input: (width: Int, height: Int), to output: (width: Int, height: Int)) -> [Float]
    {
        precondition(output.width > 0 && output.height > 0, "resize to \(output.width)x\(output.height)")
        let (width, height) = output
        let horizontal = FlatTaps(weights(from: input.width, to: width))
        let vertical = FlatTaps(weights(from: input.height, to: height))
        var rows = [Float](repeating: 0, count: width * input.height * 3)
        source.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { dst in
                for y in 0..<input.height {
                    let line = y * input.width * 3
                    for x in 0..<width {
                        var (r, g, b): (Float, Float, Float) = (0, 0, 0)
                        for t in horizontal.range(x) {
                            let (p, w) = (line + horizontal.index[t] * 3, horizontal.weight[t])
                            r += w * src[p]; g += w * src[p + 1]; b += w * src[p + 2]
                        }
                        let o = (y * width + x) * 3
                        (dst[o], dst[o + 1], dst[o + 2]) = (r, g, b)
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: width * height * 3)
        rows.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                // Whole rows at a time, tap by tap (a loop the compiler vectorises): each value
                // still sums its taps in index order from zero, so the result is the same.
                let line = width * 3
                for y in 0..<height {
                    let row = dst.baseAddress! + y * line
                    for t in vertical.range(y) {
                        let (w, input) = (vertical.weight[t], src.baseAddress! + vertical.index[t] * line)
                        for x in 0..<line { row[x] += w * input[x] }
                    }
                }
            }
        }
        return out
    }

    /// The taps of every output index in flat arrays (no per-index array to retain in the loops).
    private struct FlatTaps {
        var index: [Int] = [], weight: [Float] = [], start: [Int] = [0]
        init(_ taps: [[(Int, Float)]]) {
            for list in taps {
                for (i, w) in list { index.append(i); weight.append(w) }
                start.append(index.count)
            }
        }
        @inline(__always) func range(_ o: Int) -> Range<Int> { start[o]..<start[o + 1] }
    }

    /// For each output index, the input indices and normalised triangle weights it reads.
    static func weights(from input: Int, to output: Int) -> [[(Int, Float)]] {
        let scale = Double(input) / Double(output)
        let support = max(1, scale)
        return (0..<output).map { o in
            let centre = (Double(o) + 0.5) * scale
            let lo = max(0, Int((centre - support).rounded(.down))), hi = min(input - 1, Int((centre + support).rounded(.up)))
            var taps: [(Int, Float)] = []
            for i in lo...hi {
                let w = max(0, 1 - abs((Double(i) + 0.5 - centre) / support))
                if w > 0 { taps.append((i, Float(w))) }
            }
            let total = taps.reduce(0) { $0 + $1.1 }
            return taps.map { ($0.0, $0.1 / total) }
        }
    }

    /// Shrinks (never enlarges) so the shorter side is at most `side`, keeping the aspect ratio.
    @_specialize(where Image == RGBImage)
    @_specialize(where Image == RGB16Image)
    public static func shorterSide<Image: RGBRaster>(_ image: Image, atMost side: Int) -> Image {
        let shorter = min(image.width, image.height)
        guard side > 0, shorter > side else { return image }
        let scale = Double(side) / Double(shorter)
        return bilinear(
            image, width: max(1, Int((Double(image.width) * scale).rounded())),
            height: max(1, Int((Double(image.height) * scale).rounded())))
    }

    /// A window of `image` (it must lie inside).
    @_specialize(where Image == RGBImage)
    @_specialize(where Image == RGB16Image)
    public static func crop<Image: RGBRaster>(_ image: Image, x: Int, y: Int, width: Int, height: Int) -> Image {
        precondition(x >= 0 && y >= 0 && x + width <= image.width && y + height <= image.height, "crop outside the image")
        var out = [Image.Sample]()
        out.reserveCapacity(width * height * 3)
        for row in y..<(y + height) {
            let start = (row * image.width + x) * 3
            out.append(contentsOf: image.pixels[start..<(start + width * 3)])
        }
        return try! Image(width: width, height: height, pixels: out)
    }

    /// Both renderings of a decoded image shrunk alike (shorterSide).
    public static func shorterSide(_ image: DecodedImage, atMost side: Int) -> DecodedImage {
        var out = image
        out.rgb = shorterSide(image.rgb, atMost: side)
        out.wide = image.wide.map { shorterSide($0, atMost: side) }
        return out
    }
}
