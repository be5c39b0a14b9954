import Foundation

/// Separable Gaussian blur with reflected borders (torchvision's gaussian_blur pads with
/// "reflect"), on interleaved planes of any channel count.
public enum GaussianBlur {
    /// Normalised 1-D kernel, radius ceil(3 sigma) (99.7 % of the mass).
    public static func kernel(sigma: Double) -> [Float] {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var weights = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
        let total = weights.reduce(0, +)
        for i in weights.indices { weights[i] /= total }
        return weights
    }

    public static func apply(_ image: inout FloatImage, sigma: Double) {
        apply(&image.pixels, width: image.width, height: image.height, channels: 3, sigma: sigma)
    }

    /// Blurs `values` (height x width x channels) in place: along rows, then along columns.
    public static func apply(_ values: inout [Float], width: Int, height: Int, channels: Int, sigma: Double) {
        guard sigma > 0 else { return }
        let weights = kernel(sigma: sigma)
        var scratch = [Float](repeating: 0, count: values.count)
        let pixel = channels, row = width * channels
        pass(from: values, into: &scratch, weights: weights, length: width, step: pixel, lines: height, lineStep: row, channels: channels)
        pass(from: scratch, into: &values, weights: weights, length: height, step: row, lines: width, lineStep: pixel, channels: channels)
    }

    /// One 1-D pass: `lines` independent lines of `length` pixels, `step` floats apart.
    private static func pass(
        from source: [Float], into target: inout [Float], weights: [Float], length: Int, step: Int, lines: Int, lineStep: Int,
        channels: Int
    ) {
        let radius = weights.count / 2
        func reflect(_ i: Int) -> Int {
            guard length > 1 else { return 0 }
            var i = i
            while i < 0 || i >= length { i = i < 0 ? -i : 2 * (length - 1) - i }
            return i
        }
        source.withUnsafeBufferPointer { source in
            target.withUnsafeMutableBufferPointer { target in
                weights.withUnsafeBufferPointer { w in
                    for line in 0..<lines {
                        let base = line * lineStep
                        for i in 0..<length {
                            let interior = i >= radius && i + radius < length
                            for c in 0..<channels {
                                var sum: Float = 0
                                if interior {
                                    var at = base + (i - radius) * step + c
                                    for k in 0..<w.count { sum += w[k] * source[at]; at += step }
                                } else {
                                    for k in 0..<w.count { sum += w[k] * source[base + reflect(i + k - radius) * step + c] }
                                }
                                target[base + i * step + c] = sum
                            }
                        }
                    }
                }
            }
        }
    }
}
