import Foundation

/// How SPL picks anchors (docs/method.md section 4).
public enum SPLThreshold: String, Sendable, CaseIterable, Codable {
    /// Keep anchors with loss at or below the rho_t-quantile of the batch's anchor losses (our default).
    case quantile
    /// The paper's closed form: keep anchors with loss below 1 / K_t.
    case paper
}

/// The self-paced curriculum of docs/method.md section 4: K_t hardest negatives per anchor, shrinking
/// from all of them to K_min over training, and which anchors take part.
public struct SelfPacedSchedule: Sendable, Equatable {
    /// Floor of K_t (docs/method.md: default 1).
    public var kMin = 1
    public var threshold = SPLThreshold.quantile
    /// rho_0, the quantile at the start of training in `quantile` mode (docs/method.md: 0.5).
    public var rho0 = 0.5

    public init(kMin: Int = 1, threshold: SPLThreshold = .quantile, rho0: Double = 0.5) {
        (self.kMin, self.threshold, self.rho0) = (kMin, threshold, rho0)
    }

    /// K_t = floor(delta cos(pi t / (2 T))), clamped to [K_min, delta]; t is clamped to [0, T].
    public func hardNegatives(available delta: Int, step t: Int, totalSteps total: Int) -> Int {
        let progress = Double(min(max(t, 0), total)) / Double(max(total, 1))
        let k = Int((Double(delta) * cos(Double.pi * progress / 2)).rounded(.down))
        return min(delta, max(kMin, k))
    }

    /// Which anchors (by position in `losses`) take part, given K_t of `delta` negatives.
    public func selected(losses: [Double], k: Int, delta: Int) -> [Bool] {
        switch threshold {
        case .paper:
            return losses.map { $0 < 1 / Double(k) }
        case .quantile:
            let rho = 1 - (1 - rho0) * Double(k) / Double(delta)
            let cut = Self.quantile(losses, rho)
            return losses.map { $0 <= cut }
        }
    }

    /// NumPy's default ("linear") quantile, with its two-sided interpolation so the result
    /// equals NumPy's to the last bit (a tie at the threshold then selects the same anchors).
    public static func quantile(_ values: [Double], _ q: Double) -> Double {
        precondition(!values.isEmpty, "quantile of nothing")
        let sorted = values.sorted()
        let position = Double(sorted.count - 1) * q
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        let t = position - Double(below)
        let (a, b) = (sorted[below], sorted[above])
        let difference = b - a
        return t >= 0.5 ? b - difference * (1 - t) : a + difference * t
    }
}
