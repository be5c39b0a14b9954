import Foundation

/// Why a safetensors file could not be read.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case truncated(String)
    case badHeader(String)
    case badEntry(name: String, reason: String)
    case missing(String)
    case wrongType(name: String, expected: String, found: String)
    /// A file of another kind (a PyTorch checkpoint, most often).
    case otherFormat(String)

    public var description: String {
        switch self {
        case let .truncated(why): "truncated safetensors file: \(why)"
        case let .badHeader(why): "malformed safetensors header: \(why)"
        case let .badEntry(name, reason): "malformed safetensors entry '\(name)': \(reason)"
        case let .missing(name): "no tensor named '\(name)'"
        case let .wrongType(name, expected, found): "tensor '\(name)' is \(found), expected \(expected)"
        case let .otherFormat(what): "\(what), not a safetensors file"
        }
    }
}

/// A safetensors file (huggingface/safetensors format): u64 little-endian header length, a JSON
/// header `{name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}`, then the bytes.
/// Every offset, size and shape is checked before anything is read.
public struct SafeTensors {
    public enum DType: String, Sendable {
        case f32 = "F32", f64 = "F64", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", u8 = "U8"
        var size: Int {
            switch self {
            case .f64, .i64: 8
            case .f32, .i32: 4
            case .f16, .bf16: 2
            case .u8: 1
            }
        }
    }

    public struct Entry: Sendable {
        public let dtype: DType
        public let shape: [Int]
        let range: Range<Int>
        public var count: Int { shape.reduce(1, *) }
    }

    /// Largest header we parse: far above any model's (a few hundred KB for ResNet-50).
    public static let maxHeaderBytes = 64 << 20

    public let metadata: [String: String]
    /// Entries in file order.
    public let names: [String]
    public let entries: [String: Entry]
    private let body: Data

    public init(contentsOf url: URL) throws {
        try self.init(data: try Data(contentsOf: url))
    }

    public init(data: Data) throws {
        guard data.count >= 8 else { throw SafeTensorsError.truncated("\(data.count) bytes, less than the 8-byte header length") }
        // torch.save writes a zip archive (since PyTorch 1.6) or, before, a pickle stream.
        if data.starts(with: [0x50, 0x4B, 0x03, 0x04]) || data.starts(with: [0x80, 0x02]) {
            throw SafeTensorsError.otherFormat(
                "a PyTorch checkpoint (torch.save's zip or pickle): convert its state_dict first, e.g. python -c \"import torch, safetensors.torch as s; s.save_file(torch.load('in.pth'), 'out.safetensors')\""
            )
        }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(Self.maxHeaderBytes) else {
            throw SafeTensorsError.badHeader("header length \(n) exceeds \(Self.maxHeaderBytes)")
        }
        guard UInt64(data.count - 8) >= n else {
            throw SafeTensorsError.truncated("header says \(n) bytes, file has \(data.count - 8) after the length")
        }
        let headerData = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(n)))
        guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
            throw SafeTensorsError.badHeader("not a JSON object")
        }
        body = data.subdata(in: (data.startIndex + 8 + Int(n))..<data.endIndex)

        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let m = raw as? [String: String] else { throw SafeTensorsError.badHeader("__metadata__ must map strings to strings") }
            metadata = m
        }
        var entries: [String: Entry] = [:]
        for (name, raw) in header where name != "__metadata__" {
            entries[name] = try Self.entry(name, raw, bodySize: body.count)
        }
        // The format stores tensors back to back: no overlap, no gap, nothing after the last one.
        let ordered = entries.sorted {
            ($0.value.range.lowerBound, $0.value.range.upperBound) < ($1.value.range.lowerBound, $1.value.range.upperBound)
        }
        var end = 0
        for (name, e) in ordered {
            guard e.range.lowerBound == end else {
                throw SafeTensorsError.badEntry(
                    name: name, reason: "data starts at \(e.range.lowerBound), expected \(end) (overlap or gap)")
            }
            end = e.range.upperBound
        }
        guard end == body.count else { throw SafeTensorsError.badHeader("tensors cover \(end) bytes of a \(body.count)-byte body") }
        self.metadata = metadata
        self.entries = entries
        names = ordered.map(\.key)
    }

    private static func entry(_ name: String, _ raw: Any, bodySize: Int) throws -> Entry {
        guard let e = raw as? [String: Any] else { throw SafeTensorsError.badEntry(name: name, reason: "not an object") }
        guard let d = e["dtype"] as? String, let dtype = DType(rawValue: d) else {
            throw SafeTensorsError.badEntry(name: name, reason: "unknown dtype \(e["dtype"].map { "\($0)" } ?? "(none)")")
        }
        guard let shapeValues = e["shape"] as? [NSNumber], shapeValues.count <= 8 else {
            throw SafeTensorsError.badEntry(name: name, reason: "shape must be a list of at most 8 sizes")
        }
        let shape = shapeValues.map(\.intValue)
        guard shape.allSatisfy({ $0 >= 0 && $0 <= Int(Int32.max) }) else {
            throw SafeTensorsError.badEntry(name: name, reason: "bad shape \(shape)")
        }
        guard let offsets = e["data_offsets"] as? [NSNumber], offsets.count == 2 else {
            throw SafeTensorsError.badEntry(name: name, reason: "data_offsets must be [begin, end]")
        }
        let (begin, end) = (offsets[0].intValue, offsets[1].intValue)
        guard begin >= 0, begin <= end, end <= bodySize else {
            throw SafeTensorsError.badEntry(name: name, reason: "data_offsets [\(begin), \(end)] outside the \(bodySize)-byte body")
        }
        let (count, overflow) = shape.reduce((1, false)) { acc, s in
            let r = acc.0.multipliedReportingOverflow(by: s)
            return (r.partialValue, acc.1 || r.overflow)
        }
        guard !overflow, count.multipliedReportingOverflow(by: dtype.size) == (count * dtype.size, false),
            count * dtype.size == end - begin
        else {
            throw SafeTensorsError.badEntry(
                name: name, reason: "shape \(shape) of \(dtype.rawValue) needs \(count &* dtype.size) bytes, offsets give \(end - begin)")
        }
        return Entry(dtype: dtype, shape: shape, range: begin..<end)
    }

    public func entry(_ name: String) throws -> Entry {
        guard let e = entries[name] else { throw SafeTensorsError.missing(name) }
        return e
    }

    /// Float values (F32 as stored; F64 rounded to Float).
    public func floats(_ name: String) throws -> [Float] {
        let e = try entry(name)
        let bytes = body[body.startIndex + e.range.lowerBound..<body.startIndex + e.range.upperBound]
        switch e.dtype {
        case .f32:
            return bytes.withUnsafeBytes { raw in
                (0..<e.count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
        case .f64:
            return bytes.withUnsafeBytes { raw in
                (0..<e.count).map {
                    Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))))
                }
            }
        default: throw SafeTensorsError.wrongType(name: name, expected: "F32 or F64", found: e.dtype.rawValue)
        }
    }

    /// Integer values (I64 or I32).
    public func integers(_ name: String) throws -> [Int64] {
        let e = try entry(name)
        let bytes = body[body.startIndex + e.range.lowerBound..<body.startIndex + e.range.upperBound]
        switch e.dtype {
        case .i64:
            return bytes.withUnsafeBytes { raw in
                (0..<e.count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            }
        case .i32:
            return bytes.withUnsafeBytes { raw in
                (0..<e.count).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            }
        default: throw SafeTensorsError.wrongType(name: name, expected: "I64 or I32", found: e.dtype.rawValue)
        }
    }
}

/// Builds a safetensors file in memory, tensors in the order added.
public struct SafeTensorsWriter {
    private var header: [(String, String)] = []
    private var body = Data()
    public var metadata: [String: String] = [:]

    public init() {}

    public mutating func add(_ name: String, floats: UnsafeBufferPointer<Float>, shape: [Int]) {
        precondition(floats.count == shape.reduce(1, *), "\(name): \(floats.count) values for shape \(shape)")
        appendEntry(name, dtype: .f32, shape: shape) { data in
            #if _endian(little)
                data.append(contentsOf: UnsafeRawBufferPointer(floats))  // one copy: 3 s -> 0.1 s for a ResNet-18 checkpoint
            #else
                for v in floats { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            #endif
        }
    }

    public mutating func add(_ name: String, floats: [Float], shape: [Int]) {
        floats.withUnsafeBufferPointer { add(name, floats: $0, shape: shape) }
    }

    public mutating func add(_ name: String, integers: [Int64], shape: [Int]) {
        precondition(integers.count == shape.reduce(1, *), "\(name): \(integers.count) values for shape \(shape)")
        appendEntry(name, dtype: .i64, shape: shape) { data in
            for v in integers { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        }
    }

    private mutating func appendEntry(_ name: String, dtype: SafeTensors.DType, shape: [Int], _ fill: (inout Data) -> Void) {
        let begin = body.count
        fill(&body)
        header.append(
            (
                name,
                "{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(body.count)]}"
            ))
    }

    /// The file's bytes.
    public func data() -> Data {
        var fields = header.map { "\(Self.quoted($0.0)):\($0.1)" }
        if !metadata.isEmpty {
            let m = metadata.sorted { $0.key < $1.key }.map { "\(Self.quoted($0.key)):\(Self.quoted($0.value))" }
            fields.insert("\"__metadata__\":{\(m.joined(separator: ","))}", at: 0)
        }
        var json = Data("{\(fields.joined(separator: ","))}".utf8)
        json.append(contentsOf: Array(repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))  // spec: pad to 8 with spaces
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(body)
        return out
    }

    /// A JSON string literal.
    static func quoted(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
