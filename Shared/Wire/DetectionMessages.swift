import CProtocol

/// How a detect request carries its image.
public enum ImageSource: Equatable, Sendable {
    case encoded([UInt8])  // PNG or JPEG file bytes
    case path(String)  // relative to the data root both sides share
}

/// Checks a path meant to resolve under a shared data root: relative and without `..`,
/// so a peer cannot make a service read outside that root.
func requireRelativePath(_ path: String, field: String) throws {
    guard !path.isEmpty else { throw WireError.missingField(field) }
    guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
        throw WireError.invalidValue(field: field, reason: "\"\(path)\" must be relative to the data root, without \"..\"")
    }
}

/// What a replaceable detector receives (docs/architecture.md section 3).
public struct DetectRequest: Equatable, Sendable {
    public var id: WorkID
    public var imageID: String
    public var image: ImageSource
    public var width: Int
    public var height: Int

    public init(id: WorkID, imageID: String, image: ImageSource, width: Int = 0, height: Int = 0) {
        (self.id, self.imageID, self.image, self.width, self.height) = (id, imageID, image, width, height)
    }
}

extension DetectRequest: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__DetectRequest> {
        let c = arena.message(Comcl__V1__DetectRequest.self, comcl__v1__detect_request__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.image_id = arena.string(imageID)
        switch image {
        case .encoded(let bytes):
            c.pointee.image_case = COMCL__V1__DETECT_REQUEST__IMAGE_ENCODED
            c.pointee.encoded = arena.bytes(bytes)
        case .path(let path):
            c.pointee.image_case = COMCL__V1__DETECT_REQUEST__IMAGE_PATH
            c.pointee.path = arena.string(path)
        }
        c.pointee.width = UInt32(clamping: width)
        c.pointee.height = UInt32(clamping: height)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__DetectRequest>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        imageID = liftString(p.image_id)
        switch p.image_case {
        case COMCL__V1__DETECT_REQUEST__IMAGE_ENCODED:
            let bytes = liftBytes(p.encoded)
            guard !bytes.isEmpty else { throw WireError.missingField("\(field).encoded") }
            image = .encoded(bytes)
        case COMCL__V1__DETECT_REQUEST__IMAGE_PATH:
            let path = liftString(p.path)
            try requireRelativePath(path, field: "\(field).path")
            image = .path(path)
        default:
            throw WireError.missingField("\(field).image (encoded or path)")
        }
        width = Int(p.width)
        height = Int(p.height)
    }
}

public struct DetectReply: Equatable, Sendable {
    public var id: WorkID
    public var imageID: String
    public var boxes: [Box]
    public var detector: String

    public init(id: WorkID, imageID: String, boxes: [Box], detector: String) {
        (self.id, self.imageID, self.boxes, self.detector) = (id, imageID, boxes, detector)
    }
}

extension DetectReply: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__DetectReply> {
        let c = arena.message(Comcl__V1__DetectReply.self, comcl__v1__detect_reply__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.image_id = arena.string(imageID)
        (c.pointee.n_boxes, c.pointee.boxes) = arena.messages(boxes)
        c.pointee.detector = arena.string(detector)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__DetectReply>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        imageID = liftString(p.image_id)
        boxes = try Box.liftAll(p.n_boxes, p.boxes, field: "\(field).boxes")
        detector = liftString(p.detector)
        guard !detector.isEmpty else { throw WireError.missingField("\(field).detector") }
    }
}
