/// A decoded file as the pipeline uses it: its 8-bit RGB rendering (what detection, the field of
/// view, overlays and the evaluator read) and, when the source has more than 8 bits a sample, the
/// same image at 16 bits (what the cropper cuts and the augmenter normalises).
public struct DecodedImage: Sendable, Equatable {
    public var rgb: RGBImage
    public var wide: RGB16Image?
    /// How a DICOM's grey values were mapped to the display range; nil for PNG and JPEG.
    public var window: DisplayWindow?

    public init(rgb: RGBImage, wide: RGB16Image? = nil, window: DisplayWindow? = nil) {
        (self.rgb, self.wide, self.window) = (rgb, wide, window)
    }
}
