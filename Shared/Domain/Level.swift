/// The quality x disease levels of docs/method.md section 1. The raw values are the protocol's
/// numbers (Wire maps them), but nothing here knows of messages: the loss, the datasets and the
/// planner speak of levels without linking the wire code.
public enum Level: Int32, CaseIterable, Sendable, CustomStringConvertible {
    case lesionHigh = 1  // L
    case lesionLow  // L~
    case healthyHigh  // H
    case healthyLow  // H~

    public var description: String {
        switch self {
        case .lesionHigh: "L"
        case .lesionLow: "L~"
        case .healthyHigh: "H"
        case .healthyLow: "H~"
        }
    }

    public var isLesion: Bool { self == .lesionHigh || self == .lesionLow }
}

/// An image's quality label: EyeQ's Good is high; Usable and Reject are low.
public enum ImageQuality: String, Sendable, Codable { case high, low }
