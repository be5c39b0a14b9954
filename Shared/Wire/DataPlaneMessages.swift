import Basics
import Domain
import CProtocol

// The data plane (docs/protocol.md): a cropper with a data endpoint keeps its patches and says
// so to the coordinator (PatchStored); the augmenter that makes their views fetches them there
// (Fetch -> Fetched). An augmenter keeps its views the same way (ViewsStored); the embedding
// worker fetches them (Fetch -> Fetched). The pixels never pass through the coordinator.

/// Detector/cropper -> coordinator: a patch cut and kept at `endpoint`; the coordinator passes it
/// on in the `AugmentRequest` (`source`), and the augmenter fetches the patch there.
public struct PatchStored: Equatable, Sendable {
    public var id: WorkID
    public var level: Level
    public var provenance: Provenance
    public var endpoint: String

    public init(id: WorkID, level: Level, provenance: Provenance, endpoint: String) {
        (self.id, self.level, self.provenance, self.endpoint) = (id, level, provenance, endpoint)
    }
}

extension PatchStored: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__PatchStored> {
        let c = arena.message(Comcl__V1__PatchStored.self, comcl__v1__patch_stored__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.level = Wire.lower(level)
        c.pointee.provenance = provenance.lower(in: arena)
        c.pointee.endpoint = arena.string(endpoint)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__PatchStored>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        level = try Level.liftRequired(p.level, field: "\(field).level")
        provenance = try Provenance.lift(p.provenance, field: "\(field).provenance")
        endpoint = liftString(p.endpoint)
        guard !endpoint.isEmpty else { throw WireError.missingField("\(field).endpoint") }
    }
}

/// Augmenter -> coordinator: views made and kept at `endpoint`.
public struct ViewsStored: Equatable, Sendable {
    public var id: WorkID
    public var level: Level
    public var provenance: Provenance?
    public var endpoint: String
    /// FNV-1a 64 of the first view's bytes, then the second's (`ViewsDigest`).
    public var digest: UInt64
    public var dtype: DType
    public var shape: [Int]

    public init(
        id: WorkID, level: Level, provenance: Provenance? = nil, endpoint: String, digest: UInt64, dtype: DType, shape: [Int]
    ) {
        (self.id, self.level, self.provenance, self.endpoint) = (id, level, provenance, endpoint)
        (self.digest, self.dtype, self.shape) = (digest, dtype, shape)
    }
}

extension ViewsStored: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__ViewsStored> {
        let c = arena.message(Comcl__V1__ViewsStored.self, comcl__v1__views_stored__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.level = Wire.lower(level)
        c.pointee.provenance = provenance?.lower(in: arena)
        c.pointee.endpoint = arena.string(endpoint)
        c.pointee.digest = digest
        c.pointee.dtype = Wire.lower(dtype)
        (c.pointee.n_shape, c.pointee.shape) = (shape.count, arena.array(shape.map { UInt64($0) }))
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__ViewsStored>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        level = try Level.liftRequired(p.level, field: "\(field).level")
        provenance = try Provenance.liftOptional(p.provenance, field: "\(field).provenance")
        endpoint = liftString(p.endpoint)
        guard !endpoint.isEmpty else { throw WireError.missingField("\(field).endpoint") }
        digest = p.digest
        dtype = try DType.liftRequired(p.dtype, field: "\(field).dtype")
        let dims: [UInt64] = liftScalars(p.n_shape, p.shape)
        guard dims.count == 3, dims.allSatisfy({ (1...65536).contains($0) }) else {
            throw WireError.invalidValue(
                field: "\(field).shape", reason: "a view is [C, H, W] or [H, W, C] with sides in 1...65536, got \(dims)")
        }
        shape = dims.map { Int($0) }
    }
}

/// A worker -> another's data endpoint: what it keeps for these items (patches from a cropper,
/// view pairs from an augmenter).
public struct Fetch: Equatable, Sendable {
    public var ids: [WorkID]

    public init(ids: [WorkID]) { self.ids = ids }
}

extension Fetch: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Fetch> {
        let c = arena.message(Comcl__V1__Fetch.self, comcl__v1__fetch__init)
        (c.pointee.n_ids, c.pointee.ids) = arena.messages(ids)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Fetch>, field: String) throws {
        ids = try WorkID.liftAll(c.pointee.n_ids, c.pointee.ids, field: "\(field).ids")
    }
}

/// The answer to a `Fetch`: what the endpoint keeps of those items, and the ids it does not.
public struct Fetched: Equatable, Sendable {
    public var patches: [Patch]
    public var pairs: [ViewPair]
    public var missing: [WorkID]

    public init(patches: [Patch] = [], pairs: [ViewPair] = [], missing: [WorkID] = []) {
        (self.patches, self.pairs, self.missing) = (patches, pairs, missing)
    }
}

extension Fetched: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Fetched> {
        let c = arena.message(Comcl__V1__Fetched.self, comcl__v1__fetched__init)
        (c.pointee.n_patches, c.pointee.patches) = arena.messages(patches)
        (c.pointee.n_pairs, c.pointee.pairs) = arena.messages(pairs)
        (c.pointee.n_missing, c.pointee.missing) = arena.messages(missing)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Fetched>, field: String) throws {
        patches = try Patch.liftAll(c.pointee.n_patches, c.pointee.patches, field: "\(field).patches")
        pairs = try ViewPair.liftAll(c.pointee.n_pairs, c.pointee.pairs, field: "\(field).pairs")
        missing = try WorkID.liftAll(c.pointee.n_missing, c.pointee.missing, field: "\(field).missing")
    }
}

/// One patch's two views for a forward: kept at an augmenter's data endpoint, or inline.
public struct ViewSource: Equatable, Sendable {
    public enum Place: Equatable, Sendable {
        case stored(endpoint: String)
        case inline(first: Tensor, second: Tensor)
    }

    public var id: WorkID
    public var place: Place

    public init(id: WorkID, _ place: Place) { (self.id, self.place) = (id, place) }
}

extension ViewSource: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__ViewSource> {
        let c = arena.message(Comcl__V1__ViewSource.self, comcl__v1__view_source__init)
        c.pointee.id = id.lower(in: arena)
        switch place {
        case .stored(let endpoint): c.pointee.endpoint = arena.string(endpoint)
        case .inline(let first, let second): (c.pointee.first, c.pointee.second) = (first.lower(in: arena), second.lower(in: arena))
        }
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__ViewSource>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        let endpoint = liftString(p.endpoint)
        if !endpoint.isEmpty {
            guard p.first == nil, p.second == nil else {
                throw WireError.invalidValue(field: "\(field).first", reason: "views are either at an endpoint or inline, not both")
            }
            place = .stored(endpoint: endpoint)
        } else {
            let first = try Tensor.lift(p.first, field: "\(field).first")
            let second = try Tensor.lift(p.second, field: "\(field).second")
            try first.require(dtype: .float32, shape: [3, nil, nil], field: "\(field).first")
            try second.require(dtype: .float32, shape: first.shape.map { Optional($0) }, field: "\(field).second")
            place = .inline(first: first, second: second)
        }
    }
}

/// FNV-1a 64 (word-wise, `FNV1a64`) of a view pair's bytes, first view then second: the same
/// number whether the augmenter (ViewsStored) or the coordinator (inline views) computes it.
public enum ViewsDigest {
    public static func of(_ first: Tensor, _ second: Tensor) -> UInt64 {
        var hash = FNV1a64()
        first.data.withUnsafeBytes { hash.add($0) }
        second.data.withUnsafeBytes { hash.add($0) }
        return hash.value
    }
}
