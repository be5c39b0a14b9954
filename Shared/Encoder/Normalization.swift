/// Per-channel input normalisation, `(pixel / 255 - mean) / std`, as torchvision's ToTensor +
/// Normalize compute it. Defaults: ImageNet's statistics (torchvision's pretrained models).
public struct Normalization: Sendable, Equatable {
    public var mean: [Float], std: [Float]
    public static let imageNet = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3 && std.allSatisfy { $0 > 0 }, "3 means and 3 positive stds")
        (self.mean, self.std) = (mean, std)
    }

    /// Writes interleaved 8-bit RGB pixels, normalised, as image `index` of a channels-last batch,
    /// mirrored left-right and/or top-bottom when asked (the evaluator's training flips).
    public func write(rgb pixels: [UInt8], into batch: Tensor4, index: Int, flipHorizontal: Bool = false, flipVertical: Bool = false) {
        write(pixels, top: 255, into: batch, index: index, flipHorizontal: flipHorizontal, flipVertical: flipVertical)
    }

    /// The same for 16-bit pixels (a patch cut from a DICOM or a 16-bit PNG): pixel / 65535.
    public func write(rgb16 pixels: [UInt16], into batch: Tensor4, index: Int) {
        write(pixels, top: 65535, into: batch, index: index, flipHorizontal: false, flipVertical: false)
    }

    private func write<Sample: BinaryInteger>(
        _ pixels: [Sample], top: Float, into batch: Tensor4, index: Int, flipHorizontal: Bool, flipVertical: Bool
    ) {
        let s = batch.shape
        precondition(pixels.count == s.h * s.w * 3 && s.c == 3 && index < s.n, "image does not fit the batch \(s)")
        let out = batch.pointer + index * s.h * s.w * 3
        let scale = std.map { 1 / (top * $0) }, shift = zip(mean, std).map { -$0 / $1 }
        for y in 0..<s.h {
            let sy = flipVertical ? s.h - 1 - y : y
            for x in 0..<s.w {
                let from = (sy * s.w + (flipHorizontal ? s.w - 1 - x : x)) * 3, to = (y * s.w + x) * 3
                for k in 0..<3 { out[to + k] = Float(pixels[from + k]) * scale[k] + shift[k] }
            }
        }
    }
}
