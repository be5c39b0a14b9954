import Basics
import Domain
import Wire

/// One patch of a step's plan.
public struct PlannedPatch: Equatable, Sendable {
    public var image: String
    public var level: Level
}

/// Which images each step's patches come from (docs/training.md): B/4 per level, in the
/// interleaved order L, L~, H, H~, L, ... so that every batch-norm group of 4k patches holds
/// each level equally (a group of one level would let batch statistics tell levels apart).
/// Each level's images are drawn through seeded permutations, one per pass over the level, so
/// a step's plan is a function of (seed, step) alone, whatever the workers and restarts.
/// A level with fewer images than B/4 goes round its images more than once per step (the patches
/// still differ: crops and views are drawn per item); the caller logs that shortfall.
public final class BatchPlanner {
    public let batch: Int
    public let seed: UInt64
    /// The levels a batch cycles through, and each one's images.
    public let levels: [Level]
    private let images: [Level: [String]]
    private var permutations: [Level: (pass: Int, order: [Int])] = [:]

    /// `entries`: (image path, level) of the training split. `needed`: levels the loss uses; a
    /// needed level with no image is an error; levels with no image are otherwise left out.
    public init(entries: [(image: String, level: Level)], needed: [Level], batch: Int, seed: UInt64) throws(TrainingError) {
        var byLevel: [Level: [String]] = [:]
        for entry in entries { byLevel[entry.level, default: []].append(entry.image) }
        let missing = needed.filter { byLevel[$0] == nil }
        guard missing.isEmpty else {
            throw .config(
                "no \(missing.map(\.description).joined(separator: ", ")) images in the training set, and the loss needs them (its pairings name them)"
            )
        }
        levels = Level.allCases.filter { byLevel[$0] != nil }
        guard !levels.isEmpty else { throw .config("the training set has no images") }
        guard batch % levels.count == 0 else { throw .config("batch \(batch) is not a multiple of the \(levels.count) levels present") }
        (images, self.batch, self.seed) = (byLevel, batch, seed)
    }

    public var perLevel: Int { batch / levels.count }

    /// Levels whose images are fewer than a step takes from them.
    public var shortLevels: [(level: Level, images: Int)] {
        levels.compactMap { images[$0]!.count < perLevel ? ($0, images[$0]!.count) : nil }
    }

    /// The step's B patches, in batch order.
    public func plan(step: Int) -> [PlannedPatch] {
        (0..<batch).map { item in
            let level = levels[item % levels.count]
            return PlannedPatch(image: draw(level, position: step * perLevel + item / levels.count), level: level)
        }
    }

    /// Another image of the same level for an item whose patch failed (attempt 1, 2...).
    public func replacement(step: Int, item: Int, attempt: Int) -> PlannedPatch {
        let level = levels[item % levels.count]
        var rng = SeededGenerator(seed: seed, 0x5EED_0F_AB, UInt64(step), UInt64(item), UInt64(attempt))
        let pool = images[level]!
        return PlannedPatch(image: pool[rng.integer(0, pool.count - 1)], level: level)
    }

    /// The `position`-th draw from a level: position / n picks the pass, whose permutation of
    /// the level's images is seeded by (seed, level, pass).
    private func draw(_ level: Level, position: Int) -> String {
        let pool = images[level]!
        let pass = position / pool.count
        if permutations[level]?.pass != pass {
            var order = Array(pool.indices)
            var rng = SeededGenerator(seed: seed, 0x91A4, UInt64(level.rawValue), UInt64(pass))
            rng.shuffle(&order)
            permutations[level] = (pass, order)
        }
        return pool[permutations[level]!.order[position % pool.count]]
    }
}
