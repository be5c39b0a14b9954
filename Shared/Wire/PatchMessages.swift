import CProtocol
import Domain

/// Where a patch came from, so any patch can be traced back and re-cut.
public struct Provenance: Equatable, Sendable {
    public var imageID: String
    public var imagePath: String = ""
    public var imageWidth: Int = 0
    public var imageHeight: Int = 0
    public var window: Box
    public var fromDetection: Bool
    public var boxIndex: Int = -1
    public var detector: String = ""

    public init(imageID: String, window: Box, fromDetection: Bool) {
        (self.imageID, self.window, self.fromDetection) = (imageID, window, fromDetection)
    }
}

extension Provenance: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Provenance> {
        let c = arena.message(Comcl__V1__Provenance.self, comcl__v1__provenance__init)
        c.pointee.image_id = arena.string(imageID)
        c.pointee.image_path = arena.string(imagePath)
        c.pointee.image_width = UInt32(clamping: imageWidth)
        c.pointee.image_height = UInt32(clamping: imageHeight)
        c.pointee.window = window.lower(in: arena)
        c.pointee.from_detection = fromDetection ? 1 : 0
        c.pointee.box_index = Int32(clamping: boxIndex)
        c.pointee.detector = arena.string(detector)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Provenance>, field: String) throws {
        let p = c.pointee
        self.init(
            imageID: liftString(p.image_id), window: try Box.lift(p.window, field: "\(field).window"),
            fromDetection: p.from_detection != 0)
        imagePath = liftString(p.image_path)
        imageWidth = Int(p.image_width)
        imageHeight = Int(p.image_height)
        boxIndex = Int(p.box_index)
        detector = liftString(p.detector)
    }
}

/// The coordinator asks a detector/cropper for one patch of one image.
public struct PatchRequest: Equatable, Sendable {
    public var id: WorkID
    public var imageID: String
    public var path: String
    public var level: Level
    public var seed: UInt64
    /// Patches kept for earlier steps may be dropped (a cropper with a data endpoint).
    public var keepFromStep: UInt64

    public init(id: WorkID, imageID: String, path: String, level: Level, seed: UInt64, keepFromStep: UInt64 = 0) {
        (self.id, self.imageID, self.path, self.level, self.seed, self.keepFromStep) = (id, imageID, path, level, seed, keepFromStep)
    }
}

extension PatchRequest: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__PatchRequest> {
        let c = arena.message(Comcl__V1__PatchRequest.self, comcl__v1__patch_request__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.image_id = arena.string(imageID)
        c.pointee.path = arena.string(path)
        c.pointee.level = Wire.lower(level)
        c.pointee.seed = seed
        c.pointee.keep_from_step = keepFromStep
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__PatchRequest>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        imageID = liftString(p.image_id)
        path = liftString(p.path)
        try requireRelativePath(path, field: "\(field).path")
        level = try Level.liftRequired(p.level, field: "\(field).level")
        seed = p.seed
        keepFromStep = p.keep_from_step
    }
}

/// A cut patch: pixels of shape [H, W, 3], uint8, or uint16 when cut from a 16-bit source.
public struct Patch: Equatable, Sendable {
    public var id: WorkID
    public var pixels: Tensor
    public var level: Level
    public var provenance: Provenance

    public init(id: WorkID, pixels: Tensor, level: Level, provenance: Provenance) {
        (self.id, self.pixels, self.level, self.provenance) = (id, pixels, level, provenance)
    }
}

extension Patch: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Patch> {
        let c = arena.message(Comcl__V1__Patch.self, comcl__v1__patch__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.pixels = pixels.lower(in: arena)
        c.pointee.level = Wire.lower(level)
        c.pointee.provenance = provenance.lower(in: arena)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Patch>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        pixels = try Tensor.lift(p.pixels, field: "\(field).pixels")
        try pixels.require(dtype: pixels.dtype == .uint16 ? .uint16 : .uint8, shape: [nil, nil, 3], field: "\(field).pixels")
        level = try Level.liftRequired(p.level, field: "\(field).level")
        provenance = try Provenance.lift(p.provenance, field: "\(field).provenance")
    }
}

/// A patch for an augmenter (inline, or where a cropper keeps it), with the run seed and the
/// recipe (JSON) its views follow. Exactly one of `patch` and `source` is set.
public struct AugmentRequest: Equatable, Sendable {
    public var patch: Patch?
    public var source: PatchStored?
    public var seed: UInt64
    /// The augmentation recipe as JSON; empty means the augmenter's default.
    public var recipe: String
    /// Views kept for earlier steps may be dropped (an augmenter with a data endpoint).
    public var keepFromStep: UInt64

    public var id: WorkID { patch?.id ?? source!.id }

    public init(patch: Patch, seed: UInt64, recipe: String = "", keepFromStep: UInt64 = 0) {
        (self.patch, self.seed, self.recipe, self.keepFromStep) = (patch, seed, recipe, keepFromStep)
    }

    public init(source: PatchStored, seed: UInt64, recipe: String = "", keepFromStep: UInt64 = 0) {
        (self.source, self.seed, self.recipe, self.keepFromStep) = (source, seed, recipe, keepFromStep)
    }
}

extension AugmentRequest: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__AugmentRequest> {
        let c = arena.message(Comcl__V1__AugmentRequest.self, comcl__v1__augment_request__init)
        c.pointee.patch = patch?.lower(in: arena)
        c.pointee.source = source?.lower(in: arena)
        c.pointee.seed = seed
        c.pointee.recipe = arena.string(recipe)
        c.pointee.keep_from_step = keepFromStep
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__AugmentRequest>, field: String) throws {
        let p = c.pointee
        patch = try Patch.liftOptional(p.patch, field: "\(field).patch")
        source = try PatchStored.liftOptional(p.source, field: "\(field).source")
        guard (patch == nil) != (source == nil) else {
            throw WireError.invalidValue(field: "\(field).patch", reason: "give the patch inline or where it is kept, exactly one")
        }
        seed = p.seed
        recipe = liftString(p.recipe)
        keepFromStep = p.keep_from_step
    }
}

/// Two augmented views of one patch: float32 [3, H, W] (normalised) or uint8 [H, W, 3].
public struct ViewPair: Equatable, Sendable {
    public var id: WorkID
    public var first: Tensor
    public var second: Tensor
    public var level: Level
    public var provenance: Provenance?

    public init(id: WorkID, first: Tensor, second: Tensor, level: Level, provenance: Provenance? = nil) {
        (self.id, self.first, self.second, self.level, self.provenance) = (id, first, second, level, provenance)
    }
}

extension ViewPair: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__ViewPair> {
        let c = arena.message(Comcl__V1__ViewPair.self, comcl__v1__view_pair__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.first = first.lower(in: arena)
        c.pointee.second = second.lower(in: arena)
        c.pointee.level = Wire.lower(level)
        c.pointee.provenance = provenance?.lower(in: arena)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__ViewPair>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        first = try Tensor.lift(p.first, field: "\(field).first")
        second = try Tensor.lift(p.second, field: "\(field).second")
        let layout: [Int?] = first.dtype == .float32 ? [3, nil, nil] : [nil, nil, 3]
        try first.require(dtype: first.dtype == .float32 ? .float32 : .uint8, shape: layout, field: "\(field).first")
        guard second.dtype == first.dtype, second.shape == first.shape else {
            throw WireError.invalidValue(
                field: "\(field).second", reason: "\(second.dtype) \(second.shape) differs from first view \(first.dtype) \(first.shape)")
        }
        level = try Level.liftRequired(p.level, field: "\(field).level")
        provenance = try Provenance.liftOptional(p.provenance, field: "\(field).provenance")
    }
}
