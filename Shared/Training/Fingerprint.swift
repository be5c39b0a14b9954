/// FNV-1a 64 over float tensors' bytes: the weights checksum every replica reports each step
/// (docs/training.md). Cheap and order-sensitive; not cryptographic (replicas are not adversaries).
public struct FNV1a64: Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var h = value
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        value = h
    }
}
