import Basics
import Foundation
import Domain

/// What `comcl manifest` prints: counts per level and per label, and the low-quality share.
public struct ManifestSummary: Codable, Sendable, Equatable {
    public var format: String
    public var images: Int
    public var skipped: Int
    /// Keyed by the level's short name: L, L~, H, H~.
    public var levels: [String: Int]
    /// Keyed by label (DR grade or finding); "healthy" for images with no finding.
    public var labels: [String: Int]
    public var lowQualityShare: Double

    public init(_ manifest: Manifest) {
        format = manifest.format.rawValue
        images = manifest.entries.count
        skipped = manifest.skipped.count
        levels = Dictionary(
            uniqueKeysWithValues: Level.allCases.map { level in
                (level.description, manifest.entries.filter { $0.level == level }.count)
            })
        var labels: [String: Int] = [:]
        for entry in manifest.entries {
            for label in entry.labels.isEmpty ? ["healthy"] : entry.labels { labels[label, default: 0] += 1 }
        }
        self.labels = labels
        lowQualityShare = manifest.lowQualityShare
    }

    /// A plain-text table for terminals.
    public var text: String {
        var lines = ["\(images) images (\(format))" + (skipped > 0 ? ", \(skipped) rows skipped" : "")]
        lines.append(String(format: "low-quality share: %.1f %%", 100 * lowQualityShare))
        lines.append("level   images   share")
        for level in Level.allCases {
            let n = levels[level.description] ?? 0
            lines.append(level.description.padded(to: 6) + String(format: " %7d  %5.1f %%", n, 100 * Double(n) / Double(max(1, images))))
        }
        lines.append("label" + String(repeating: " ", count: 16) + "images")
        let ordered = labels.keys.sorted { (Int($0) ?? Int.max, $0) < (Int($1) ?? Int.max, $1) }
        for label in ordered { lines.append(label.padded(to: 20) + String(format: " %7d", labels[label]!)) }
        return lines.joined(separator: "\n")
    }
}
