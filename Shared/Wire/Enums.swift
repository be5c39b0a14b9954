import Domain

// Swift mirrors of the enums in comcl.proto. The proto's *_UNSPECIFIED (0) has no case:
// a decoded 0 becomes nil, and a field that must be set reports it missing.

/// An enum whose raw values are the proto's numbers.
public protocol WireEnum: RawRepresentable, CaseIterable, Sendable where RawValue == Int32 {}

extension WireEnum {
    /// Reads a decoded C enum value: 0 is nil, an unknown number is an error.
    static func lift<C: RawRepresentable>(_ c: C, field: String) throws -> Self? where C.RawValue: BinaryInteger {
        let raw = Int32(truncatingIfNeeded: c.rawValue)
        if raw == 0 { return nil }
        guard let value = Self(rawValue: raw) else { throw WireError.invalidEnum(field: field, value: raw) }
        return value
    }

    static func liftRequired<C: RawRepresentable>(_ c: C, field: String) throws -> Self where C.RawValue: BinaryInteger {
        guard let value = try lift(c, field: field) else { throw WireError.missingField(field) }
        return value
    }
}

/// Converts a Swift enum (or nil = unspecified) to the generated C enum type.
func lower<E: WireEnum, C: RawRepresentable>(_ value: E?) -> C where C.RawValue: BinaryInteger {
    C(rawValue: C.RawValue(truncatingIfNeeded: value?.rawValue ?? 0))!
}

public enum Role: Int32, WireEnum, CustomStringConvertible {
    case detectorCropper = 1, augmenter, embeddingWorker, coordinator, evaluator, detector, control

    public var description: String {
        switch self {
        case .detectorCropper: "detector-cropper"
        case .augmenter: "augmenter"
        case .embeddingWorker: "embedding-worker"
        case .coordinator: "coordinator"
        case .evaluator: "evaluator"
        case .detector: "detector"
        case .control: "control"
        }
    }
}

// Levels are domain vocabulary (Domain); on the wire they are the proto's Level numbers.
extension Level: WireEnum {}

public enum DType: Int32, WireEnum {
    case uint8 = 1, float32, int32, int64, uint16

    public var byteSize: Int {
        switch self {
        case .uint8: 1
        case .uint16: 2
        case .float32, .int32: 4
        case .int64: 8
        }
    }
}

public enum ServiceState: Int32, WireEnum {
    case starting = 1, running, draining, stopped
}

public enum ErrorCode: Int32, WireEnum {
    case protocolVersion = 1, malformed, unknownPeer, wrongRole, badInput, notFound, internalError, unsupported, unavailable, wrongRun
}
