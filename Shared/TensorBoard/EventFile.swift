import Foundation

/// A TensorBoard event file of scalars, framed and encoded as TensorBoard's own writers do, so
/// `tensorboard --logdir` and its readers open it: a sequence of TFRecords (length, its masked
/// CRC-32C, the bytes, their masked CRC-32C), each an `Event` protocol buffer; the first names
/// the format ("brain.Event:2"), each later one holds a step's scalars as `Summary.Value`s with
/// `simple_value`. Only the four fields this needs are encoded (tensorflow/core/util/event.proto
/// and summary.proto field numbers), which is why this is not a generated parser.
public final class EventFileWriter {
    public let url: URL
    private let handle: FileHandle

    /// A new file in `folder` named as TensorBoard's writers name theirs
    /// (events.out.tfevents.<seconds>.<host>.<pid>), so each run start adds its own file.
    public init(folder: URL, now: Date = Date()) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let host = ProcessInfo.processInfo.hostName.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
        url = folder.appendingPathComponent("events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host).\(getpid())")
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path])
        }
        handle = try FileHandle(forWritingTo: url)
        var event = ProtoWriter()
        event.double(1, now.timeIntervalSince1970)
        event.bytes(3, Array("brain.Event:2".utf8))
        try write(record: event.data)
    }

    deinit { try? handle.close() }

    /// One step's scalars (tag, value), stamped `wallTime` (seconds since 1970).
    public func scalars(_ values: [(tag: String, value: Double)], step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        var summary = ProtoWriter()
        for (tag, value) in values {
            var entry = ProtoWriter()
            entry.bytes(1, Array(tag.utf8))
            entry.float(2, Float(value))
            summary.bytes(1, entry.data)
        }
        var event = ProtoWriter()
        event.double(1, wallTime)
        event.varint(2, UInt64(bitPattern: Int64(step)))
        event.bytes(5, summary.data)
        try write(record: event.data)
    }

    /// A TFRecord: what TensorBoard's readers check before they decode.
    private func write(record data: [UInt8]) throws {
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
        var frame = length
        frame += withUnsafeBytes(of: CRC32C.masked(length).littleEndian, Array.init)
        frame += data
        frame += withUnsafeBytes(of: CRC32C.masked(data).littleEndian, Array.init)
        try handle.write(contentsOf: frame)
    }
}

/// The protocol-buffer wire format, for the fields an Event needs.
struct ProtoWriter {
    private(set) var data: [UInt8] = []

    private mutating func rawVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            data.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        data.append(UInt8(v))
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { rawVarint(UInt64(field) << 3 | wireType) }

    mutating func varint(_ field: Int, _ value: UInt64) {
        key(field, 0)
        rawVarint(value)
    }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, 1)
        data += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        data += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, 2)
        rawVarint(UInt64(value.count))
        data += value
    }
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), which TFRecord framing uses; zlib's
/// CRC-32 is another polynomial and Debian 12 ships no crc32c development package, so a table.
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord's masking, so a CRC of data that holds CRCs stays well distributed.
    static func masked(_ bytes: [UInt8]) -> UInt32 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
