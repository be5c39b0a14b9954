/// A 128-bit content key: two FNV-1a 64 hashes with different offsets, plus the length. Not
/// cryptographic (nothing here is adversarial); collisions among a dataset's images are
/// vanishingly unlikely.
public enum ContentHash {
    public static func hex(_ bytes: [UInt8]) -> String {
        var a: UInt64 = 0xCBF2_9CE4_8422_2325, b: UInt64 = 0x8422_2325_CBF2_9CE4
        for byte in bytes {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte ^ 0x5A)) &* 0x0000_0100_0000_01B3
        }
        return String(a, radix: 16) + String(b, radix: 16) + "-" + String(bytes.count, radix: 16)
    }
}
