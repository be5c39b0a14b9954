import CProtocol

/// Identifies one unit of work for its whole life; a re-issued item keeps its id, so a
/// result that arrives twice is recognised and kept once (docs/architecture.md section 4).
public struct WorkID: Hashable, Sendable, CustomStringConvertible {
    public var run: String
    public var step: UInt64
    public var item: UInt64

    public init(run: String, step: UInt64, item: UInt64) {
        self.run = run
        self.step = step
        self.item = item
    }

    public var description: String { "\(run)/\(step)/\(item)" }
}

extension WorkID: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__WorkId> {
        let c = arena.message(Comcl__V1__WorkId.self, comcl__v1__work_id__init)
        c.pointee.run = arena.string(run)
        c.pointee.step = step
        c.pointee.item = item
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__WorkId>, field: String) throws {
        run = liftString(c.pointee.run)
        guard !run.isEmpty else { throw WireError.missingField("\(field).run") }
        step = c.pointee.step
        item = c.pointee.item
    }
}

/// A box in pixel coordinates of the image it was found in.
public struct Box: Equatable, Sendable {
    public var x: Float
    public var y: Float
    public var w: Float
    public var h: Float
    public var score: Float
    public var classID: UInt32

    public init(x: Float, y: Float, w: Float, h: Float, score: Float, classID: UInt32 = 0) {
        (self.x, self.y, self.w, self.h, self.score, self.classID) = (x, y, w, h, score, classID)
    }
}

extension Box: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Box> {
        let c = arena.message(Comcl__V1__Box.self, comcl__v1__box__init)
        (c.pointee.x, c.pointee.y, c.pointee.w, c.pointee.h) = (x, y, w, h)
        c.pointee.score = score
        c.pointee.class_id = classID
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Box>, field: String) throws {
        let p = c.pointee
        for (value, name) in [(p.x, "x"), (p.y, "y"), (p.w, "w"), (p.h, "h"), (p.score, "score")] {
            try requireFinite(value, "\(field).\(name)")
        }
        guard p.w >= 0, p.h >= 0 else {
            throw WireError.invalidValue(field: field, reason: "negative size \(p.w) x \(p.h)")
        }
        guard (0...1).contains(p.score) else {
            throw WireError.invalidValue(field: "\(field).score", reason: "\(p.score) is not a confidence in [0, 1]")
        }
        self.init(x: p.x, y: p.y, w: p.w, h: p.h, score: p.score, classID: p.class_id)
    }
}
