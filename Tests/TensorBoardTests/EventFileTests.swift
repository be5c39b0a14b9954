import Foundation
import Testing

@testable import TensorBoard

/// The event file's framing: CRC-32C against its published check value, and a record read back
/// by length and checksums as TensorBoard's reader reads it (TensorBoardTests in ServicesTests
/// opens a real run's file with TensorBoard itself).
@Suite struct EventFileTests {
    @Test func crc32cMatchesTheCheckValue() {
        // RFC 3720 (iSCSI), B.4: CRC-32C of "123456789" is 0xE3069283.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    }

    @Test func recordsAreFramedWithTheirChecksums() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("events-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try EventFileWriter(folder: folder, now: Date(timeIntervalSince1970: 1_700_000_000))
        try writer.scalars([("loss", 0.5)], step: 3, wallTime: 1_700_000_001)
        let bytes = [UInt8](try Data(contentsOf: writer.url))
        var offset = 0
        var records: [[UInt8]] = []
        while offset < bytes.count {
            let header = Array(bytes[offset..<offset + 8])
            let length = Int(header.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
            let headerCRC = bytes[(offset + 8)..<(offset + 12)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }.littleEndian
            #expect(headerCRC == CRC32C.masked(header))
            let data = Array(bytes[(offset + 12)..<(offset + 12 + length)])
            let dataCRC = bytes[(offset + 12 + length)..<(offset + 16 + length)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
                .littleEndian
            #expect(dataCRC == CRC32C.masked(data))
            records.append(data)
            offset += 16 + length
        }
        #expect(records.count == 2)
        // The first names the format; the second holds tag "loss" and 0.5 as a float32 (0x3F000000).
        #expect(String(decoding: records[0], as: UTF8.self).contains("brain.Event:2"))
        #expect(String(decoding: records[1], as: UTF8.self).contains("loss"))
        #expect(records[1].suffix(5) == [0x15, 0x00, 0x00, 0x00, 0x3F])
    }
}
