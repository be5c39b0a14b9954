import CProtocol

/// Bounds that keep a malformed shape from turning into a huge allocation downstream.
public enum TensorLimits {
    public static let maxRank = 8
    public static let maxDimension = 1 << 31
}

/// A dense little-endian C-order array carried as bytes (docs/architecture.md section 3).
/// The initialisers check that the byte count matches shape and dtype.
public struct Tensor: Equatable, Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let data: [UInt8]

    public init(dtype: DType, shape: [Int], data: [UInt8], field: String = "tensor") throws {
        guard !shape.isEmpty, shape.count <= TensorLimits.maxRank else {
            throw WireError.invalidValue(field: "\(field).shape", reason: "rank \(shape.count) is outside 1...\(TensorLimits.maxRank)")
        }
        var elements = 1
        for (axis, dim) in shape.enumerated() {
            guard dim >= 0, dim <= TensorLimits.maxDimension else {
                throw WireError.invalidValue(field: "\(field).shape[\(axis)]", reason: "dimension \(dim) is out of range")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw WireError.invalidValue(field: "\(field).shape", reason: "element count overflows") }
            elements = product
        }
        let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, expected == data.count else {
            throw WireError.sizeMismatch(field: "\(field).data", expectedBytes: overflow ? Int.max : expected, actualBytes: data.count)
        }
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    public init(float32 values: [Float], shape: [Int]) throws {
        let bytes = values.withUnsafeBytes { Array($0) }
        try self.init(dtype: .float32, shape: shape, data: bytes)
    }

    public init(uint8 values: [UInt8], shape: [Int]) throws {
        try self.init(dtype: .uint8, shape: shape, data: values)
    }

    /// 16-bit values, little-endian as the wire carries them (this code runs little-endian).
    public init(uint16 values: [UInt16], shape: [Int]) throws {
        try self.init(dtype: .uint16, shape: shape, data: values.withUnsafeBytes { Array($0) })
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// The values as Float; nil unless dtype is float32.
    public func floats() -> [Float]? { dtype == .float32 ? values() : nil }

    /// The values as UInt16; nil unless dtype is uint16.
    public func uint16s() -> [UInt16]? { dtype == .uint16 ? values() : nil }

    private func values<Element>() -> [Element] {
        [Element](unsafeUninitializedCapacity: elementCount) { buffer, count in
            data.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            }
            count = elementCount
        }
    }
}

extension Tensor: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Tensor> {
        let c = arena.message(Comcl__V1__Tensor.self, comcl__v1__tensor__init)
        c.pointee.dtype = Wire.lower(dtype)
        c.pointee.n_shape = shape.count
        c.pointee.shape = arena.array(shape.map { UInt64($0) })
        c.pointee.data = arena.bytes(data)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Tensor>, field: String) throws {
        let dtype = try DType.liftRequired(c.pointee.dtype, field: "\(field).dtype")
        let shape = try liftScalars(c.pointee.n_shape, c.pointee.shape).enumerated().map { axis, dim in
            guard dim <= UInt64(TensorLimits.maxDimension) else {
                throw WireError.invalidValue(field: "\(field).shape[\(axis)]", reason: "dimension \(dim) is out of range")
            }
            return Int(dim)
        }
        try self.init(dtype: dtype, shape: shape, data: liftBytes(c.pointee.data), field: field)
    }

    /// Checks dtype and rank (`nil` in `shape` = any size on that axis).
    func require(dtype expected: DType, shape pattern: [Int?], field: String) throws {
        guard dtype == expected else {
            throw WireError.invalidValue(field: "\(field).dtype", reason: "expected \(expected), got \(dtype)")
        }
        guard shape.count == pattern.count,
            zip(shape, pattern).allSatisfy({ dim, want in want.map { $0 == dim } ?? true })
        else {
            let want = pattern.map { $0.map(String.init) ?? "*" }.joined(separator: ", ")
            throw WireError.invalidValue(field: "\(field).shape", reason: "expected [\(want)], got \(shape)")
        }
    }
}

public struct NamedTensor: Equatable, Sendable {
    public var name: String
    public var tensor: Tensor

    public init(name: String, tensor: Tensor) {
        self.name = name
        self.tensor = tensor
    }
}

extension NamedTensor: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__NamedTensor> {
        let c = arena.message(Comcl__V1__NamedTensor.self, comcl__v1__named_tensor__init)
        c.pointee.name = arena.string(name)
        c.pointee.tensor = tensor.lower(in: arena)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__NamedTensor>, field: String) throws {
        name = liftString(c.pointee.name)
        guard !name.isEmpty else { throw WireError.missingField("\(field).name") }
        tensor = try Tensor.lift(c.pointee.tensor, field: "\(field).tensor")
    }
}

/// Tensor names must be unique within one message (they key a state dict).
func requireUniqueNames(_ tensors: [NamedTensor], field: String) throws {
    var seen = Set<String>()
    for (index, named) in tensors.enumerated() where !seen.insert(named.name).inserted {
        throw WireError.invalidValue(field: "\(field)[\(index)].name", reason: "duplicate name \"\(named.name)\"")
    }
}
