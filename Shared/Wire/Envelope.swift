import CProtocol

/// The version this build speaks (comcl.proto, enum ProtocolVersion).
public let protocolVersion = UInt32(COMCL__V1__PROTOCOL_VERSION__PROTOCOL_VERSION_CURRENT.rawValue)

public enum WireLimits {
    /// Largest message we accept by default. The biggest message we send is a
    /// ReplicaState: torchvision's ResNet-50 is 25.6 M parameters, about 98 MiB in fp32, and
    /// Adam's two moments travel with it (about 290 MiB in all), so 512 MiB leaves headroom
    /// while bounding what a bad peer can make us allocate.
    public static let defaultMaxMessageBytes = 512 << 20
}

/// Every message kind (the `body` oneof of Envelope).
public enum Body: Equatable, Sendable {
    case ready(Ready)
    case heartbeat(Heartbeat)
    case status(Status)
    case statusRequest(StatusRequest)
    case shutdown(Shutdown)
    case error(ErrorReport)
    case detectRequest(DetectRequest)
    case detectReply(DetectReply)
    case patchRequest(PatchRequest)
    case patch(Patch)
    case augmentRequest(AugmentRequest)
    case viewPair(ViewPair)
    case forwardRequest(ForwardRequest)
    case embeddings(Embeddings)
    case backwardRequest(BackwardRequest)
    case parameterGradients(ParameterGradients)
    case viewsStored(ViewsStored)
    case fetch(Fetch)
    case fetched(Fetched)
    case patchStored(PatchStored)
    case stepApplied(StepApplied)
    case gradientPart(GradientPart)
    case stateRequest(StateRequest)
    case stateReply(StateReply)
    case evaluationRequest(EvaluationRequest)
    case evaluationResult(EvaluationResult)

    /// The kind's name, for logs.
    public var kind: String {
        switch self {
        case .ready: "Ready"
        case .heartbeat: "Heartbeat"
        case .status: "Status"
        case .statusRequest: "StatusRequest"
        case .shutdown: "Shutdown"
        case .error: "Error"
        case .detectRequest: "DetectRequest"
        case .detectReply: "DetectReply"
        case .patchRequest: "PatchRequest"
        case .patch: "Patch"
        case .augmentRequest: "AugmentRequest"
        case .viewPair: "ViewPair"
        case .forwardRequest: "ForwardRequest"
        case .embeddings: "Embeddings"
        case .backwardRequest: "BackwardRequest"
        case .parameterGradients: "ParameterGradients"
        case .viewsStored: "ViewsStored"
        case .fetch: "Fetch"
        case .fetched: "Fetched"
        case .patchStored: "PatchStored"
        case .stepApplied: "StepApplied"
        case .gradientPart: "GradientPart"
        case .stateRequest: "StateRequest"
        case .stateReply: "StateReply"
        case .evaluationRequest: "EvaluationRequest"
        case .evaluationResult: "EvaluationResult"
        }
    }

    /// The work item a request or result belongs to, if any.
    public var workID: WorkID? {
        switch self {
        case .detectRequest(let m): m.id
        case .detectReply(let m): m.id
        case .patchRequest(let m): m.id
        case .patch(let m): m.id
        case .augmentRequest(let m): m.id
        case .viewPair(let m): m.id
        case .forwardRequest(let m): m.id
        case .embeddings(let m): m.id
        case .backwardRequest(let m): m.id
        case .parameterGradients(let m): m.id
        case .viewsStored(let m): m.id
        case .patchStored(let m): m.id
        case .stepApplied(let m): m.id
        case .gradientPart(let m): m.id
        case .stateRequest(let m): m.id
        case .stateReply(let m): m.id
        case .evaluationRequest(let m): m.id
        case .evaluationResult(let m): m.id
        case .error(let m): m.id
        case .ready, .heartbeat, .status, .statusRequest, .shutdown, .fetch, .fetched: nil
        }
    }
}

/// One message on the wire: protocol version, sender, body. One ZeroMQ frame each.
public struct Envelope: Equatable, Sendable {
    public var sender: String
    public var body: Body

    public init(sender: String, body: Body) {
        self.sender = sender
        self.body = body
    }

    /// The wire bytes. `version` is for interoperability tests that play a peer of
    /// another protocol version; services always send the current one.
    public func encoded(version: UInt32 = protocolVersion) -> [UInt8] {
        let arena = CArena()
        let c = arena.message(Comcl__V1__Envelope.self, comcl__v1__envelope__init)
        c.pointee.protocol_version = version
        c.pointee.sender = arena.string(sender)
        switch body {
        case .ready(let m): c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_READY; c.pointee.ready = m.lower(in: arena)
        case .heartbeat(let m): c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_HEARTBEAT; c.pointee.heartbeat = m.lower(in: arena)
        case .status(let m): c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_STATUS; c.pointee.status = m.lower(in: arena)
        case .statusRequest(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_STATUS_REQUEST; c.pointee.status_request = m.lower(in: arena)
        case .shutdown(let m): c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_SHUTDOWN; c.pointee.shutdown = m.lower(in: arena)
        case .error(let m): c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_ERROR; c.pointee.error = m.lower(in: arena)
        case .detectRequest(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_DETECT_REQUEST; c.pointee.detect_request = m.lower(in: arena)
        case .detectReply(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_DETECT_REPLY; c.pointee.detect_reply = m.lower(in: arena)
        case .patchRequest(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_PATCH_REQUEST; c.pointee.patch_request = m.lower(in: arena)
        case .patch(let m): c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_PATCH; c.pointee.patch = m.lower(in: arena)
        case .augmentRequest(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_AUGMENT_REQUEST; c.pointee.augment_request = m.lower(in: arena)
        case .viewPair(let m): c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_VIEW_PAIR; c.pointee.view_pair = m.lower(in: arena)
        case .forwardRequest(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_FORWARD_REQUEST; c.pointee.forward_request = m.lower(in: arena)
        case .embeddings(let m): c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_EMBEDDINGS; c.pointee.embeddings = m.lower(in: arena)
        case .backwardRequest(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_BACKWARD_REQUEST; c.pointee.backward_request = m.lower(in: arena)
        case .parameterGradients(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_PARAMETER_GRADIENTS; c.pointee.parameter_gradients = m.lower(in: arena)
        case .viewsStored(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_VIEWS_STORED; c.pointee.views_stored = m.lower(in: arena)
        case .fetch(let m): c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_FETCH; c.pointee.fetch = m.lower(in: arena)
        case .fetched(let m): c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_FETCHED; c.pointee.fetched = m.lower(in: arena)
        case .patchStored(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_PATCH_STORED; c.pointee.patch_stored = m.lower(in: arena)
        case .stepApplied(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_STEP_APPLIED; c.pointee.step_applied = m.lower(in: arena)
        case .gradientPart(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_GRADIENT_PART; c.pointee.gradient_part = m.lower(in: arena)
        case .stateRequest(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_STATE_REQUEST; c.pointee.state_request = m.lower(in: arena)
        case .stateReply(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_STATE_REPLY; c.pointee.state_reply = m.lower(in: arena)
        case .evaluationRequest(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_EVALUATION_REQUEST; c.pointee.evaluation_request = m.lower(in: arena)
        case .evaluationResult(let m):
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_EVALUATION_RESULT; c.pointee.evaluation_result = m.lower(in: arena)
        }
        let size = comcl__v1__envelope__get_packed_size(c)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = comcl__v1__envelope__pack(c, buffer.baseAddress)
        }
    }

    /// A message as a socket delivers it, one frame list per envelope: a batch (several frames,
    /// the first not empty: docs/protocol.md, "Batches") gives each frame as a message of its
    /// own; anything else (one frame, or a REQ socket's empty delimiter first) stays as it is.
    public static func messages(in frames: [[UInt8]]) -> [[[UInt8]]] {
        frames.count > 1 && !frames[0].isEmpty ? frames.map { [$0] } : [frames]
    }

    /// Decodes a message as a socket delivers it: exactly one frame holding one Envelope (what
    /// every link's router and dealer receive). Any failure is a `WireError` to answer with.
    public static func decode(frames: [[UInt8]], maxBytes: Int = WireLimits.defaultMaxMessageBytes) throws(WireError) -> Envelope {
        guard frames.count == 1 else { throw .frames(count: frames.count, emptyFirst: frames.first?.isEmpty == true) }
        do { return try decode(frames[0], maxBytes: maxBytes) } catch let error as WireError { throw error } catch {
            throw .undecodable(bytes: frames[0].count)
        }
    }

    /// Decodes and validates one message. Throws `WireError`: too large, undecodable,
    /// another protocol version (checked before anything else), or a field that fails
    /// validation.
    public static func decode(_ bytes: [UInt8], maxBytes: Int = WireLimits.defaultMaxMessageBytes) throws -> Envelope {
        guard bytes.count <= maxBytes else { throw WireError.tooLarge(bytes: bytes.count, limit: maxBytes) }
        let unpacked = bytes.withUnsafeBufferPointer { comcl__v1__envelope__unpack(nil, $0.count, $0.baseAddress) }
        guard let c = unpacked else { throw WireError.undecodable(bytes: bytes.count) }
        defer { comcl__v1__envelope__free_unpacked(c, nil) }
        guard c.pointee.protocol_version == protocolVersion else {
            throw WireError.protocolVersion(peer: c.pointee.protocol_version, ours: protocolVersion)
        }
        return Envelope(sender: liftString(c.pointee.sender), body: try liftBody(c.pointee))
    }

    private static func liftBody(_ e: Comcl__V1__Envelope) throws -> Body {
        switch e.body_case {
        case COMCL__V1__ENVELOPE__BODY_READY: .ready(try .lift(e.ready, field: "ready"))
        case COMCL__V1__ENVELOPE__BODY_HEARTBEAT: .heartbeat(try .lift(e.heartbeat, field: "heartbeat"))
        case COMCL__V1__ENVELOPE__BODY_STATUS: .status(try .lift(e.status, field: "status"))
        case COMCL__V1__ENVELOPE__BODY_STATUS_REQUEST: .statusRequest(try .lift(e.status_request, field: "status_request"))
        case COMCL__V1__ENVELOPE__BODY_SHUTDOWN: .shutdown(try .lift(e.shutdown, field: "shutdown"))
        case COMCL__V1__ENVELOPE__BODY_ERROR: .error(try .lift(e.error, field: "error"))
        case COMCL__V1__ENVELOPE__BODY_DETECT_REQUEST: .detectRequest(try .lift(e.detect_request, field: "detect_request"))
        case COMCL__V1__ENVELOPE__BODY_DETECT_REPLY: .detectReply(try .lift(e.detect_reply, field: "detect_reply"))
        case COMCL__V1__ENVELOPE__BODY_PATCH_REQUEST: .patchRequest(try .lift(e.patch_request, field: "patch_request"))
        case COMCL__V1__ENVELOPE__BODY_PATCH: .patch(try .lift(e.patch, field: "patch"))
        case COMCL__V1__ENVELOPE__BODY_AUGMENT_REQUEST: .augmentRequest(try .lift(e.augment_request, field: "augment_request"))
        case COMCL__V1__ENVELOPE__BODY_VIEW_PAIR: .viewPair(try .lift(e.view_pair, field: "view_pair"))
        case COMCL__V1__ENVELOPE__BODY_FORWARD_REQUEST: .forwardRequest(try .lift(e.forward_request, field: "forward_request"))
        case COMCL__V1__ENVELOPE__BODY_EMBEDDINGS: .embeddings(try .lift(e.embeddings, field: "embeddings"))
        case COMCL__V1__ENVELOPE__BODY_BACKWARD_REQUEST: .backwardRequest(try .lift(e.backward_request, field: "backward_request"))
        case COMCL__V1__ENVELOPE__BODY_PARAMETER_GRADIENTS:
            .parameterGradients(try .lift(e.parameter_gradients, field: "parameter_gradients"))
        case COMCL__V1__ENVELOPE__BODY_VIEWS_STORED: .viewsStored(try .lift(e.views_stored, field: "views_stored"))
        case COMCL__V1__ENVELOPE__BODY_FETCH: .fetch(try .lift(e.fetch, field: "fetch"))
        case COMCL__V1__ENVELOPE__BODY_FETCHED: .fetched(try .lift(e.fetched, field: "fetched"))
        case COMCL__V1__ENVELOPE__BODY_PATCH_STORED: .patchStored(try .lift(e.patch_stored, field: "patch_stored"))
        case COMCL__V1__ENVELOPE__BODY_STEP_APPLIED: .stepApplied(try .lift(e.step_applied, field: "step_applied"))
        case COMCL__V1__ENVELOPE__BODY_GRADIENT_PART: .gradientPart(try .lift(e.gradient_part, field: "gradient_part"))
        case COMCL__V1__ENVELOPE__BODY_STATE_REQUEST: .stateRequest(try .lift(e.state_request, field: "state_request"))
        case COMCL__V1__ENVELOPE__BODY_STATE_REPLY: .stateReply(try .lift(e.state_reply, field: "state_reply"))
        case COMCL__V1__ENVELOPE__BODY_EVALUATION_REQUEST:
            .evaluationRequest(try .lift(e.evaluation_request, field: "evaluation_request"))
        case COMCL__V1__ENVELOPE__BODY_EVALUATION_RESULT: .evaluationResult(try .lift(e.evaluation_result, field: "evaluation_result"))
        default: throw WireError.missingBody
        }
    }
}
