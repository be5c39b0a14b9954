import Foundation

/// How a greyscale DICOM's modality values (stored values after the rescale slope and intercept)
/// map to the display range [0, 1]: the file's first VOI window (DICOM PS3.3 C.11.2.1.2, with its
/// LINEAR, LINEAR_EXACT and SIGMOID functions), or, when the file gives none or an invalid one,
/// the 0.5th to 99.5th percentile of the image's own values (a window that ignores the few
/// saturated and collimator pixels; our choice, stated in docs/datasets.md).
public struct DisplayWindow: Sendable, Equatable, CustomStringConvertible {
    public enum Function: String, Sendable { case linear = "LINEAR", linearExact = "LINEAR_EXACT", sigmoid = "SIGMOID" }
    public enum Source: String, Sendable { case file, percentile }

    public var centre: Double
    public var width: Double
    public var function: Function
    public var source: Source

    public init(centre: Double, width: Double, function: Function = .linear, source: Source = .file) {
        (self.centre, self.width, self.function, self.source) = (centre, width, function, source)
    }

    /// The file's window when the standard allows it (LINEAR needs a width of at least 1, the
    /// others a positive one); nil otherwise.
    public static func fromFile(centre: Double, width: Double, function text: String) -> DisplayWindow? {
        let function = Function(rawValue: text.uppercased()) ?? .linear
        guard centre.isFinite, width.isFinite, function == .linear ? width >= 1 : width > 0 else { return nil }
        return DisplayWindow(centre: centre, width: width, function: function)
    }

    /// The linear window from the 0.5th to the 99.5th percentile (lower and upper nearest ranks).
    public static func percentile(of values: [Float]) -> DisplayWindow {
        let sorted = values.sorted()
        let last = Double(max(sorted.count - 1, 0))
        let low = Double(sorted[Int((0.005 * last).rounded(.down))]), high = Double(sorted[Int((0.995 * last).rounded(.up))])
        return DisplayWindow(centre: (low + high) / 2, width: high - low, function: .linearExact, source: .percentile)
    }

    /// The display value in [0, 1] of modality value `x`.
    @inline(__always) public func apply(_ x: Float) -> Float {
        let x = Double(x)
        switch function {
        case .linear:
            // PS3.3 C.11.2.1.2.1: the centre and width of integer displays (c - 0.5, w - 1).
            let (c, w) = (centre - 0.5, width - 1)
            if x <= c - w / 2 { return 0 }
            if x > c + w / 2 { return 1 }
            return Float((x - c) / w + 0.5)
        case .linearExact:
            if x <= centre - width / 2 { return 0 }
            if x > centre + width / 2 { return 1 }
            return Float((x - centre) / width + 0.5)
        case .sigmoid:
            return Float(1 / (1 + exp(-4 * (x - centre) / width)))
        }
    }

    public var description: String {
        String(
            format: "%@ window centre %g width %g (%@)", function.rawValue, centre, width,
            source == .file ? "from the file" : "0.5-99.5 percentile")
    }
}
