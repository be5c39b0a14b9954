import ImageOps

/// The last entry of a recipe: per-channel (x - mean) / std, giving the float32 [3, H, W] tensor
/// the encoder reads (torchvision ToTensor + Normalize). Without it a view is sent as 8-bit RGB.
public struct Normalize: RecipeEntry, Equatable {
    public static let name = "normalize"
    /// Prior work (Huang et al. 2021, config.py): the channel statistics of their EyePACS set.
    public var mean: [Float] = [0.425753653049469, 0.29737451672554016, 0.21293757855892181]
    public var std: [Float] = [0.27670302987098694, 0.20240527391433716, 0.1686241775751114]

    public init() {}

    public init(mean: [Float], std: [Float]) { (self.mean, self.std) = (mean, std) }

    public init(_ parameters: inout OpParameters) throws {
        mean = try parameters.numbers("mean", default: mean.map(Double.init), count: 3, check: \.isFinite, rule: "three finite numbers")
            .map(Float.init)
        std = try parameters.numbers(
            "std", default: std.map(Double.init), count: 3, check: { $0 > 0 && $0.isFinite }, rule: "three positive numbers"
        ).map(Float.init)
    }

    public var parameters: [String: JSONValue] { ["mean": .numbers(mean.map(Double.init)), "std": .numbers(std.map(Double.init))] }

    /// Channel-first normalised values of `image`: one pass over the pixels, through pointers
    /// (per-element array access here was an eighth of the augmenter's time, perf).
    public func planes(_ image: FloatImage) -> [Float] {
        let n = image.pixelCount
        let (m0, m1, m2, s0, s1, s2) = (mean[0], mean[1], mean[2], std[0], std[1], std[2])
        return [Float](unsafeUninitializedCapacity: 3 * n) { out, count in
            image.pixels.withUnsafeBufferPointer { pixels in
                let (red, green, blue) = (out.baseAddress!, out.baseAddress! + n, out.baseAddress! + 2 * n)
                for i in 0..<n {
                    red[i] = (pixels[3 * i] - m0) / s0
                    green[i] = (pixels[3 * i + 1] - m1) / s1
                    blue[i] = (pixels[3 * i + 2] - m2) / s2
                }
            }
            count = 3 * n
        }
    }
}
