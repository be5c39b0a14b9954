import Wire

/// What the patch pipeline worked around, so a run shows it instead of hiding it: lesion patches
/// cut around a detected box against random crops of lesion images where the detector found
/// nothing above its confidence (docs/method.md's Omega falls back to RandC), and items re-planned
/// from another image, by reason.
public struct PatchSources: Codable, Sendable, Equatable {
    public var lesionFromDetection = 0
    public var lesionFallback = 0
    /// Re-planned items by reason ("missing", "unreadable", ...).
    public var skipped: [String: Int] = [:]

    public init() {}

    public var lesionPatches: Int { lesionFromDetection + lesionFallback }

    public static func += (total: inout PatchSources, step: PatchSources) {
        total.lesionFromDetection += step.lesionFromDetection
        total.lesionFallback += step.lesionFallback
        total.skipped.merge(step.skipped, uniquingKeysWith: +)
    }

    /// A short reason for a failed item, from its error code.
    static func reason(_ code: ErrorCode) -> String {
        switch code {
        case .notFound: "missing"
        case .badInput: "unreadable or too small"
        case .unavailable: "worker lost"
        case .malformed: "refused by a worker"
        default: "worker error"
        }
    }

    /// "lesion patches 60/64 from detections" (and what was re-planned, by reason), for a summary.
    public var summary: String {
        var text = "lesion patches \(lesionFromDetection)/\(lesionPatches) from detections"
        if !skipped.isEmpty {
            text +=
                "; patches re-planned from another image: "
                + skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        }
        return text
    }
}
