import Foundation

/// A small, fast, seedable generator (SplitMix64, Steele et al. 2014): the same seed gives the
/// same stream on every machine, which Swift's SystemRandomNumberGenerator does not.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }

    /// A generator for one unit of work, derived from the run seed and the unit's coordinates
    /// (e.g. image index, or step / item / view): the stream depends on nothing else, so results
    /// do not depend on how many workers ran or in what order (docs/architecture.md section 6). Each
    /// coordinate passes through the SplitMix64 finaliser, so neighbouring ids give unrelated streams.
    public init(seed: UInt64, _ coordinates: UInt64...) {
        var generator = SeededGenerator(seed: seed)
        var state = generator.next()
        for coordinate in coordinates {
            generator = SeededGenerator(seed: state ^ coordinate &* 0xD1B5_4A32_D192_ED03)
            state = generator.next()
        }
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in [lower, upper).
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double { lower + (upper - lower) * unit() }

    /// Uniform integer in lower...upper (our own formula, not the standard library's, whose
    /// algorithm may change between Swift versions and would change every generated dataset).
    public mutating func integer(_ lower: Int, _ upper: Int) -> Int {
        precondition(upper >= lower)
        return min(upper, lower + Int(unit() * Double(upper - lower + 1)))
    }

    /// Fisher-Yates with our own integers, so a shuffle is the same in every Swift version.
    public mutating func shuffle<T>(_ values: inout [T]) {
        for i in stride(from: values.count - 1, to: 0, by: -1) { values.swapAt(i, integer(0, i)) }
    }

    /// True with probability p.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// Standard normal by Box-Muller (one value per call, so the stream position is simple).
    public mutating func normal() -> Double {
        let u1 = 1 - unit(), u2 = unit()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}
