import Datasets
import Images

/// A lesion detector f_det (docs/method.md section 2): boxes with confidences for one image. The
/// identity (name and version) is part of the detection cache key, so changing the detector or
/// its settings never reuses stale boxes.
public protocol LesionDetector: Sendable {
    var identity: String { get }
    func detect(_ image: RGBImage, imageID: String) throws -> [LesionBox]
}

/// Dark (red) lesions and bright ones: a detector that only sees intensity can tell these two
/// families apart but not, say, a microaneurysm from a small haemorrhage.
public enum LesionFamily: String, Sendable {
    case dark, bright

    public init?(className: String) {
        switch className {
        case "dark", "microaneurysm", "haemorrhage", "hemorrhage", "neovascularisation": self = .dark
        case "bright", "hard_exudate", "exudate", "cotton_wool", "soft_exudate": self = .bright
        default: return nil
        }
    }
}
