import Basics

/// Seeded mutations of a valid input, in the spirit of AFL's havoc stage (Zalewski, AFL
/// technical details): bit flips, byte and word overwrites with boundary values, deletions,
/// duplications, insertions, truncation and splicing with another seed. No coverage feedback
/// (the README's Reliability section says why), so every input is a few edits from a valid one: deep enough to
/// pass magic numbers and headers, and to hit length fields, checksums and structure.
public struct Mutator {
    /// Boundary values AFL uses: sign and size edges that length and count fields trip over.
    static let interesting8: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 16, 32, 64, 100]
    static let interesting32: [UInt32] = [
        0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
    ]
    /// Bytes that matter in the text formats (CSV, JSON) and in protobuf's wire format.
    static let tokens: [[UInt8]] = [",", "\"", "\n", "\r\n", "\"\"", "{", "}", "[", "]", ":", "-", "1e309", "NaN", "\u{FEFF}", "|"].map {
        Array($0.utf8)
    }

    public init() {}

    /// 1 to 4 stacked edits of `input` (another seed may be spliced in).
    public func mutate(_ input: [UInt8], seeds: [[UInt8]], rng: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<rng.integer(1, 4) { edit(&bytes, seeds: seeds, rng: &rng) }
        return bytes
    }

    /// An index into `count` bytes (0 when there are none).
    static func position(_ count: Int, _ rng: inout SeededGenerator) -> Int { count == 0 ? 0 : rng.integer(0, count - 1) }

    private func edit(_ bytes: inout [UInt8], seeds: [[UInt8]], rng: inout SeededGenerator) {
        switch rng.integer(0, 9) {
        case 0 where !bytes.isEmpty:  // flip one bit
            bytes[Self.position(bytes.count, &rng)] ^= UInt8(1) << UInt8(rng.integer(0, 7))
        case 1 where !bytes.isEmpty:  // a random byte
            bytes[Self.position(bytes.count, &rng)] = UInt8(truncatingIfNeeded: rng.next())
        case 2 where !bytes.isEmpty:  // a boundary byte
            bytes[Self.position(bytes.count, &rng)] = Self.interesting8[rng.integer(0, Self.interesting8.count - 1)]
        case 3 where bytes.count >= 4:  // a boundary 32-bit word, either byte order
            let at = rng.integer(0, bytes.count - 4)
            var value = Self.interesting32[rng.integer(0, Self.interesting32.count - 1)]
            if rng.chance(0.5) { value = value.byteSwapped }
            for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
        case 4 where !bytes.isEmpty:  // delete a run
            let at = Self.position(bytes.count, &rng)
            bytes.removeSubrange(at..<min(bytes.count, at + rng.integer(1, 32)))
        case 5 where !bytes.isEmpty:  // duplicate a run in place
            let at = Self.position(bytes.count, &rng)
            let run = Array(bytes[at..<min(bytes.count, at + rng.integer(1, 64))])
            bytes.insert(contentsOf: run, at: rng.integer(0, bytes.count))
        case 6:  // insert random bytes
            bytes.insert(
                contentsOf: (0..<rng.integer(1, 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: rng.integer(0, bytes.count))
        case 7 where !bytes.isEmpty:  // truncate
            bytes.removeSubrange(Self.position(bytes.count, &rng)...)
        case 8 where !seeds.isEmpty:  // splice: our head, another seed's tail
            let other = seeds[rng.integer(0, seeds.count - 1)]
            guard !other.isEmpty else { return }
            bytes = Array(bytes.prefix(Self.position(bytes.count, &rng))) + other.suffix(from: rng.integer(0, other.count - 1))
        default:  // a token of the text formats
            bytes.insert(contentsOf: Self.tokens[rng.integer(0, Self.tokens.count - 1)], at: rng.integer(0, bytes.count))
        }
    }
}
