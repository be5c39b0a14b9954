import CProtocol

/// One encoder to evaluate: a run folder or a safetensors file, or from scratch (no path).
public struct EncoderSource: Equatable, Sendable {
    public var name: String
    public var path: String

    public init(name: String, path: String = "") { (self.name, self.path) = (name, path) }

    /// Names become file names (predictions/<name>-<share>.csv), so they are kept plain.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}

extension EncoderSource: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__EncoderSource> {
        let c = arena.message(Comcl__V1__EncoderSource.self, comcl__v1__encoder_source__init)
        c.pointee.name = arena.string(name)
        c.pointee.path = arena.string(path)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__EncoderSource>, field: String) throws {
        (name, path) = (liftString(c.pointee.name), liftString(c.pointee.path))
        guard Self.isValidName(name) else {
            throw WireError.invalidValue(field: "\(field).name", reason: "\"\(name)\" is not 1-64 letters, digits, - or _")
        }
    }
}

/// The coordinator asks an evaluator to score encoders on diagnosis (comcl.proto).
public struct EvaluationRequest: Equatable, Sendable {
    public var id: WorkID
    public var labels: String
    public var format: String
    public var images = ""
    public var quality = ""
    public var testLabels = ""
    public var models: [EncoderSource]
    public var arch = ""
    public var width = 1.0
    /// EvaluationConfig as JSON; empty = its defaults.
    public var config = ""
    public var output: String
    public var embeddingPatches = 0

    public init(id: WorkID, labels: String, format: String, models: [EncoderSource], output: String) {
        (self.id, self.labels, self.format, self.models, self.output) = (id, labels, format, models, output)
    }
}

extension EvaluationRequest: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__EvaluationRequest> {
        let c = arena.message(Comcl__V1__EvaluationRequest.self, comcl__v1__evaluation_request__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.labels = arena.string(labels)
        c.pointee.format = arena.string(format)
        c.pointee.images = arena.string(images)
        c.pointee.quality = arena.string(quality)
        c.pointee.test_labels = arena.string(testLabels)
        (c.pointee.n_models, c.pointee.models) = arena.messages(models)
        c.pointee.arch = arena.string(arch)
        c.pointee.width = width
        c.pointee.config = arena.string(config)
        c.pointee.output = arena.string(output)
        c.pointee.embedding_patches = UInt32(clamping: embeddingPatches)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__EvaluationRequest>, field: String) throws {
        let p = c.pointee
        self.init(
            id: try WorkID.lift(p.id, field: "\(field).id"), labels: liftString(p.labels), format: liftString(p.format),
            models: try EncoderSource.liftAll(p.n_models, p.models, field: "\(field).models"), output: liftString(p.output))
        (images, quality, testLabels) = (liftString(p.images), liftString(p.quality), liftString(p.test_labels))
        (arch, width, config, embeddingPatches) = (liftString(p.arch), p.width, liftString(p.config), Int(p.embedding_patches))
        for (value, name) in [(labels, "labels"), (format, "format"), (output, "output")] where value.isEmpty {
            throw WireError.missingField("\(field).\(name)")
        }
        guard !models.isEmpty else { throw WireError.invalidValue(field: "\(field).models", reason: "no encoder to evaluate") }
        guard Set(models.map(\.name)).count == models.count else {
            throw WireError.invalidValue(field: "\(field).models", reason: "two encoders share a name")
        }
        guard width.isFinite, width > 0, width <= 16 else {
            throw WireError.invalidValue(field: "\(field).width", reason: "\(width) is not in (0, 16]")
        }
        // Each level's patches are embedded and projected by exact t-SNE (quadratic in their number).
        guard embeddingPatches <= 1000 else {
            throw WireError.invalidValue(field: "\(field).embedding_patches", reason: "\(embeddingPatches) exceeds 1000 per level")
        }
    }
}

/// The evaluator's answer: the results as written, the table, where the report is.
public struct EvaluationResult: Equatable, Sendable {
    public var id: WorkID
    /// results.json's text.
    public var results: String
    public var table: String
    public var report: String

    public init(id: WorkID, results: String, table: String, report: String) {
        (self.id, self.results, self.table, self.report) = (id, results, table, report)
    }
}

extension EvaluationResult: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__EvaluationResult> {
        let c = arena.message(Comcl__V1__EvaluationResult.self, comcl__v1__evaluation_result__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.results = arena.string(results)
        c.pointee.table = arena.string(table)
        c.pointee.report = arena.string(report)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__EvaluationResult>, field: String) throws {
        let p = c.pointee
        self.init(
            id: try WorkID.lift(p.id, field: "\(field).id"), results: liftString(p.results), table: liftString(p.table),
            report: liftString(p.report))
    }
}
