/// FNV-1a 64 over float tensors' bytes, taken 8 bytes at a time: the weights checksum every
/// replica reports each step (docs/training.md). Word-wise because byte-wise FNV-1a runs at
/// about a byte per multiply latency: 70 ms for a ResNet-18, paid several times a step on the
/// critical path; word-wise is 8x fewer multiplies. Order-sensitive; not cryptographic
/// (replicas are not adversaries). Bytes past the last whole word are taken one at a time.
public struct FNV1a64: Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01B3

    public init() {}

    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var h = value
        let words = bytes.count / 8
        for i in 0..<words { h = (h ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))) &* Self.prime }
        for byte in bytes[(words * 8)...] { h = (h ^ UInt64(byte)) &* Self.prime }
        value = h
    }
}
