import Basics
import Domain

/// One contrastive loss of docs/method.md section 3: anchors of some levels against negatives of
/// others, each anchor's positive being its own second view.
public struct Pairing: Sendable, Equatable, CustomStringConvertible {
    public var anchors: Set<Level>
    public var negatives: Set<Level>
    /// Its weight in the total (docs/method.md: default 1).
    public var weight: Double

    public init(anchors: Set<Level>, negatives: Set<Level>, weight: Double = 1) {
        (self.anchors, self.negatives, self.weight) = (anchors, negatives, weight)
    }

    /// `L-L~`, `L-H`, `L~-H~`, or `L+L~-H+H~` for merged levels.
    public var description: String { "\(Self.name(anchors))-\(Self.name(negatives))" }

    static func name(_ levels: Set<Level>) -> String {
        Level.allCases.filter(levels.contains).map(\.description).joined(separator: "+")
    }

    /// CoMCL's three pairings (docs/method.md section 3): L vs L~, L vs H, L~ vs H~.
    public static let comcl = [
        Pairing(anchors: [.lesionHigh], negatives: [.lesionLow]),
        Pairing(anchors: [.lesionHigh], negatives: [.healthyHigh]),
        Pairing(anchors: [.lesionLow], negatives: [.healthyLow]),
    ]

    /// "CoMCL w/o multi-level" (docs/method.md section 5): lesion against healthy, quality ignored.
    public static let lesionVsHealthy = Pairing(anchors: [.lesionHigh, .lesionLow], negatives: [.healthyHigh, .healthyLow])

    /// Parses `L-L~`, `L-H`, `L~-H~`, `L+L~-H+H~` (a pairing option).
    public init(parsing text: String, weight: Double = 1) throws {
        let sides = text.split(separator: "-", omittingEmptySubsequences: false)
        guard sides.count == 2 else { throw Problem("pairing \"\(text)\": write ANCHORS-NEGATIVES, e.g. L-L~ or L+L~-H+H~") }
        func levels(_ side: Substring) throws -> Set<Level> {
            Set(
                try side.split(separator: "+").map { name in
                    guard let level = Level.allCases.first(where: { $0.description == name }) else {
                        throw Problem("pairing \"\(text)\": unknown level \"\(name)\" (levels: L, L~, H, H~)")
                    }
                    return level
                })
        }
        let (a, n) = (try levels(sides[0]), try levels(sides[1]))
        guard !a.isEmpty, !n.isEmpty, a.isDisjoint(with: n) else {
            throw Problem("pairing \"\(text)\": anchors and negatives must be different levels")
        }
        self.init(anchors: a, negatives: n, weight: weight)
    }
}
