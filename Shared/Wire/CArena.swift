import CProtobufC
import Foundation

/// Owns the C memory of one message being encoded. protobuf-c packs from plain C structs
/// holding raw pointers; the arena allocates them (zeroed) and frees everything at once
/// when it goes away, so an encode cannot leak.
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { for block in blocks { free(block) } }

    private func raw(_ bytes: Int) -> UnsafeMutableRawPointer {
        let block = calloc(1, max(bytes, 1))!
        blocks.append(block)
        return block
    }

    /// A zeroed C message, initialised by its generated `*__init` function.
    func message<T>(_: T.Type, _ initialise: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T> {
        let pointer = raw(MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: 1)
        initialise(pointer)
        return pointer
    }

    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        if values.isEmpty { return nil }
        let pointer = raw(MemoryLayout<T>.stride * values.count).bindMemory(to: T.self, capacity: values.count)
        pointer.initialize(from: values, count: values.count)
        return pointer
    }

    func string(_ value: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(value.utf8CString)
        let pointer = raw(utf8.count).bindMemory(to: CChar.self, capacity: utf8.count)
        pointer.initialize(from: utf8, count: utf8.count)
        return pointer
    }

    func bytes(_ value: [UInt8]) -> ProtobufCBinaryData {
        let pointer = raw(value.count).bindMemory(to: UInt8.self, capacity: max(value.count, 1))
        value.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: value.count) }
        return ProtobufCBinaryData(len: value.count, data: value.isEmpty ? nil : pointer)
    }

    /// The `n_x` / `x` pair of a repeated string field.
    func strings(_ values: [String]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        (values.count, array(values.map { Optional(string($0)) }))
    }

    /// The `n_x` / `x` pair of a repeated message field.
    func messages<M: CConvertible>(_ values: [M]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?) {
        (values.count, array(values.map { Optional($0.lower(in: self)) }))
    }
}

/// A Swift message with a protobuf-c twin.
protocol CConvertible {
    associatedtype CMessage
    /// Builds the C struct inside `arena`; valid for the arena's lifetime.
    func lower(in arena: CArena) -> UnsafeMutablePointer<CMessage>
    /// Reads and validates a decoded C struct; `field` names it in errors.
    init(lifting c: UnsafePointer<CMessage>, field: String) throws
}

extension CConvertible {
    static func lift(_ c: UnsafeMutablePointer<CMessage>?, field: String) throws -> Self {
        guard let c else { throw WireError.missingField(field) }
        return try Self(lifting: c, field: field)
    }

    static func liftOptional(_ c: UnsafeMutablePointer<CMessage>?, field: String) throws -> Self? {
        guard let c else { return nil }
        return try Self(lifting: c, field: field)
    }

    static func liftAll(_ count: Int, _ items: UnsafeMutablePointer<UnsafeMutablePointer<CMessage>?>?, field: String) throws -> [Self] {
        guard count > 0 else { return [] }
        guard let items else { throw WireError.missingField(field) }
        return try (0..<count).map { try lift(items[$0], field: "\(field)[\($0)]") }
    }
}

func liftString(_ c: UnsafeMutablePointer<CChar>?) -> String {
    c.map { String(cString: $0) } ?? ""
}

func liftStrings(_ count: Int, _ items: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
    liftScalars(count, items).map(liftString)
}

func liftBytes(_ c: ProtobufCBinaryData) -> [UInt8] {
    guard c.len > 0, let data = c.data else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: c.len))
}

func liftScalars<T>(_ count: Int, _ items: UnsafeMutablePointer<T>?) -> [T] {
    guard count > 0, let items else { return [] }
    return Array(UnsafeBufferPointer(start: items, count: count))
}

/// Rejects NaN and infinities, which no field of ours may carry.
func requireFinite(_ value: Float, _ field: String) throws {
    guard value.isFinite else { throw WireError.invalidValue(field: field, reason: "\(value) is not finite") }
}
