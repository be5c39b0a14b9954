import Basics
import Foundation

/// NumPy's `.npy` format, version 1.0 (numpy.lib.format): magic, a Python-dict header padded to 64
/// bytes, little-endian data in C order. Enough for float32 matrices and integer vectors.
public enum NumPyFile {
    public struct FormatError: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "not a usable .npy file: \(reason)" }
    }

    public static func encode(float32 values: UnsafeBufferPointer<Float>, shape: [Int]) -> Data {
        precondition(values.count == shape.reduce(1, *))
        var data = header(descr: "<f4", shape: shape)
        data.reserveCapacity(data.count + values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    public static func write(float32 values: [Float], shape: [Int], to url: URL) throws {
        try values.withUnsafeBufferPointer { try AtomicFile.write(encode(float32: $0, shape: shape), to: url) }
    }

    static func header(descr: String, shape: [Int]) -> Data {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(\(shape.map(String.init).joined(separator: ", ")))"
        var text = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        let unpadded = 10 + text.utf8.count + 1  // magic + version + length, text, newline
        text += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        withUnsafeBytes(of: UInt16(text.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(text.utf8))
        return data
    }

    /// Reads a float32 (`<f4`) array: its values and shape.
    public static func readFloat32(_ data: Data) throws -> (values: [Float], shape: [Int]) {
        let (descr, shape, offset) = try parseHeader(data)
        guard descr == "<f4" else { throw FormatError(reason: "dtype \(descr), expected float32 '<f4'") }
        let count = try elementCount(shape, itemSize: 4, available: data.count - offset)
        let values = data.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + $0 * 4, as: UInt32.self))) }
        }
        return (values, shape)
    }

    /// Reads an int32 or int64 (`<i4`, `<i8`) array as Int: its values and shape.
    public static func readIntegers(_ data: Data) throws -> (values: [Int], shape: [Int]) {
        let (descr, shape, offset) = try parseHeader(data)
        guard descr == "<i4" || descr == "<i8" else { throw FormatError(reason: "dtype \(descr), expected int32 '<i4' or int64 '<i8'") }
        let size = descr == "<i4" ? 4 : 8
        let count = try elementCount(shape, itemSize: size, available: data.count - offset)
        let values = data.withUnsafeBytes { raw in
            (0..<count).map { i -> Int in
                size == 4
                    ? Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + i * 4, as: Int32.self)))
                    : Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + i * 8, as: Int64.self)))
            }
        }
        return (values, shape)
    }

    /// The element count of `shape`, checked against the bytes the file holds (and overflow).
    private static func elementCount(_ shape: [Int], itemSize: Int, available: Int) throws -> Int {
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= available else {
                throw FormatError(reason: "shape \(shape) needs more than the \(available) data bytes")
            }
            count = product
        }
        guard count * itemSize == available else { throw FormatError(reason: "\(available) data bytes for shape \(shape)") }
        return count
    }

    static func parseHeader(_ data: Data) throws -> (descr: String, shape: [Int], dataOffset: Int) {
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw FormatError(reason: "no NUMPY magic")
        }
        let (lengthSize, start) = bytes[6] == 1 ? (2, 10) : (4, 12)
        guard bytes.count >= start else { throw FormatError(reason: "truncated header") }
        let length = (0..<lengthSize).reduce(0) { $0 | Int(bytes[6 + 2 + $1]) << (8 * $1) }
        guard data.count >= start + length else { throw FormatError(reason: "header of \(length) bytes is truncated") }
        let text = String(decoding: data[(data.startIndex + start)..<(data.startIndex + start + length)], as: UTF8.self)
        func field(_ key: String, until end: Character) throws -> Substring {
            guard let r = text.range(of: "'\(key)': ") else { throw FormatError(reason: "header lacks '\(key)'") }
            let rest = text[r.upperBound...]
            guard let e = rest.dropFirst().firstIndex(of: end) else { throw FormatError(reason: "malformed '\(key)'") }
            return rest[rest.startIndex...e]
        }
        let descr = try field("descr", until: "'").trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        guard try field("fortran_order", until: ",").hasPrefix("False") else { throw FormatError(reason: "Fortran order is not supported") }
        let dims = try field("shape", until: ")").trimmingCharacters(in: CharacterSet(charactersIn: "()"))
        let shape = try dims.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map {
            guard let v = Int($0), v >= 0 else { throw FormatError(reason: "bad shape (\(dims))") }
            return v
        }
        return (descr, shape, start + length)
    }
}
