import CProtocol
import Fuzzing
import Testing
@testable import Wire

/// Decoding rejects what a buggy or hostile peer could send, with a specific error.
@Suite struct ValidationTests {
    /// Encodes a hand-built C envelope, bypassing the Swift-side checks.
    private func rawEnvelope(
        version: UInt32 = protocolVersion, _ fill: (CArena, UnsafeMutablePointer<Comcl__V1__Envelope>) -> Void
    ) -> [UInt8] {
        let arena = CArena()
        let c = arena.message(Comcl__V1__Envelope.self, comcl__v1__envelope__init)
        c.pointee.protocol_version = version
        fill(arena, c)
        let size = comcl__v1__envelope__get_packed_size(c)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in count = comcl__v1__envelope__pack(c, buffer.baseAddress) }
    }

    private func expectError(_ expected: WireError, _ bytes: [UInt8], maxBytes: Int = WireLimits.defaultMaxMessageBytes) {
        #expect(throws: expected) { _ = try Envelope.decode(bytes, maxBytes: maxBytes) }
    }

    private func patchBytes(_ edit: (CArena, UnsafeMutablePointer<Comcl__V1__Patch>) -> Void) throws -> [UInt8] {
        let patch = Patch(id: WireSamples.id, pixels: try WireSamples.pixels(), level: .lesionHigh, provenance: WireSamples.provenance())
        return rawEnvelope { arena, c in
            let p = patch.lower(in: arena)
            edit(arena, p)
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_PATCH
            c.pointee.patch = p
        }
    }

    @Test func otherProtocolVersionIsRejectedFirst() {
        let bytes = rawEnvelope(version: 1) { _, _ in }
        expectError(.protocolVersion(peer: 1, ours: 3), bytes)
        #expect(WireError.protocolVersion(peer: 1, ours: 3).code == .protocolVersion)
        #expect("\(WireError.protocolVersion(peer: 1, ours: 3))".contains("version 1"))
        expectError(.protocolVersion(peer: 0, ours: 3), rawEnvelope(version: 0) { _, _ in })
    }

    @Test func garbageAndTruncationAreUndecodable() {
        expectError(.undecodable(bytes: 4), [0xFF, 0xFF, 0xFF, 0xFF])
        let good = Envelope(sender: "t", body: .heartbeat(Heartbeat(sequence: 300))).encoded()
        expectError(.undecodable(bytes: good.count - 1), Array(good.dropLast()))
    }

    @Test func oversizedMessageIsRejectedBeforeDecoding() {
        expectError(.tooLarge(bytes: 100, limit: 64), [UInt8](repeating: 0, count: 100), maxBytes: 64)
    }

    @Test func emptyEnvelopeHasNoBody() {
        expectError(.missingBody, rawEnvelope { _, _ in })
    }

    @Test func pixelBytesMustMatchShape() throws {
        let bytes = try patchBytes { arena, p in p.pointee.pixels.pointee.data = arena.bytes([1, 2, 3]) }
        expectError(.sizeMismatch(field: "patch.pixels.data", expectedBytes: 144, actualBytes: 3), bytes)
    }

    @Test func patchPixelsMustBeRGB() throws {
        let bytes = try patchBytes { arena, p in
            p.pointee.pixels = (try! Tensor(uint8: [UInt8](repeating: 0, count: 16), shape: [4, 4, 1])).lower(in: arena)
        }
        expectError(.invalidValue(field: "patch.pixels.shape", reason: "expected [*, *, 3], got [4, 4, 1]"), bytes)
    }

    @Test func unknownEnumValuesAreRejected() throws {
        let badLevel = try patchBytes { _, p in p.pointee.level = Comcl__V1__Level(rawValue: 9) }
        expectError(.invalidEnum(field: "patch.level", value: 9), badLevel)
        let noLevel = try patchBytes { _, p in p.pointee.level = Comcl__V1__Level(rawValue: 0) }
        expectError(.missingField("patch.level"), noLevel)
        let badDType = try patchBytes { _, p in p.pointee.pixels.pointee.dtype = Comcl__V1__DType(rawValue: 77) }
        expectError(.invalidEnum(field: "patch.pixels.dtype", value: 77), badDType)
    }

    @Test func missingSubmessageIsNamed() throws {
        expectError(.missingField("patch.id"), try patchBytes { _, p in p.pointee.id = nil })
        expectError(.missingField("patch.provenance"), try patchBytes { _, p in p.pointee.provenance = nil })
    }

    @Test func hugeShapeDoesNotOverflow() throws {
        let bytes = try patchBytes { arena, p in
            p.pointee.pixels.pointee.n_shape = 3
            p.pointee.pixels.pointee.shape = arena.array([UInt64(1) << 31, UInt64(1) << 31, 3])
        }
        #expect(throws: WireError.self) { _ = try Envelope.decode(bytes) }
    }

    @Test func boxesMustBeFiniteConfidences() throws {
        for (box, field) in [
            (Box(x: .nan, y: 0, w: 1, h: 1, score: 0.5), "detect_reply.boxes[0].x"),
            (Box(x: 0, y: 0, w: 1, h: 1, score: 1.5), "detect_reply.boxes[0].score"),
        ] {
            let bytes = Envelope(
                sender: "t", body: .detectReply(DetectReply(id: WireSamples.id, imageID: "i", boxes: [box], detector: "d"))
            ).encoded()
            #expect { _ = try Envelope.decode(bytes) } throws: { error in
                guard case .invalidValue(let f, _) = error as? WireError else { return false }
                return f == field
            }
        }
    }

    @Test func pathsMustStayUnderTheDataRoot() {
        for path in ["/etc/passwd", "../secret.png", "a/../../b.png"] {
            let bytes = Envelope(sender: "t", body: .detectRequest(DetectRequest(id: WireSamples.id, imageID: "i", image: .path(path))))
                .encoded()
            #expect(throws: WireError.self, "\(path) accepted") { _ = try Envelope.decode(bytes) }
        }
    }

    @Test func readyNeedsRoleAndCapacity() {
        let noCapacity = Envelope(sender: "t", body: .ready(Ready(role: .augmenter, workerID: "w", capacity: 0))).encoded()
        expectError(.invalidValue(field: "ready.capacity", reason: "0 is outside 1...4096"), noCapacity)
        let noRole = rawEnvelope { arena, c in
            c.pointee.body_case = COMCL__V1__ENVELOPE__BODY_READY
            c.pointee.ready = Ready(role: .augmenter, workerID: "w").lower(in: arena)
            c.pointee.ready.pointee.role = Comcl__V1__Role(rawValue: 0)
        }
        expectError(.missingField("ready.role"), noRole)
    }

    @Test func viewsMustAgree() throws {
        let pair = ViewPair(
            id: WireSamples.id, first: try WireSamples.floats([3, 4, 4]), second: try WireSamples.floats([3, 4, 5]), level: .lesionHigh)
        #expect(throws: WireError.self) { _ = try Envelope.decode(Envelope(sender: "t", body: .viewPair(pair)).encoded()) }
    }

    @Test func sampleIndicesMustMatchRows() throws {
        let reply = Embeddings(
            id: WireSamples.id, embeddings: try WireSamples.floats([3, 8]), samples: [0, 1], weightsVersion: 0, weightsChecksum: 0)
        expectError(
            .invalidValue(field: "embeddings.sample", reason: "2 sample indices for 3 rows"),
            Envelope(sender: "t", body: .embeddings(reply)).encoded())
    }

    @Test func shardsAreWholeBatchNormGroups() throws {
        let view = try WireSamples.floats([3, 4, 4])
        let sources = (0..<3).map { ViewSource(id: WorkID(run: "r", step: 0, item: UInt64($0)), .inline(first: view, second: view)) }
        let request = ForwardRequest(
            id: WireSamples.id, sources: sources, samples: [0, 1, 2, 3, 4, 5], weightsVersion: 0, batchNormGroup: 2)
        expectError(
            .invalidValue(field: "forward_request.bn_group", reason: "3 patches are not whole groups of 2"),
            Envelope(sender: "t", body: .forwardRequest(request)).encoded())
    }

    @Test func forwardViewsAreImagesAtOnePlace() throws {
        func request(_ place: ViewSource.Place, samples: [UInt64] = [0, 1]) -> [UInt8] {
            Envelope(
                sender: "t",
                body: .forwardRequest(
                    ForwardRequest(
                        id: WireSamples.id, sources: [ViewSource(id: WireSamples.id, place)], samples: samples, weightsVersion: 0))
            ).encoded()
        }
        let flat = try WireSamples.floats([2, 8])
        expectError(
            .invalidValue(field: "forward_request.sources[0].first.shape", reason: "expected [3, *, *], got [2, 8]"),
            request(.inline(first: flat, second: flat)))
        let view = try WireSamples.floats([3, 4, 4])
        expectError(
            .invalidValue(field: "forward_request.sources[0].second.shape", reason: "expected [3, 4, 4], got [3, 4, 5]"),
            request(.inline(first: view, second: try WireSamples.floats([3, 4, 5]))))
        expectError(
            .invalidValue(field: "forward_request.sample", reason: "1 sample indices for 2 rows"),
            request(.stored(endpoint: "tcp://10.0.0.7:4000"), samples: [0]))
    }

    @Test func anAugmentRequestHasItsPatchInlineOrKeptNotBoth() throws {
        var request = AugmentRequest(
            source: PatchStored(
                id: WireSamples.id, level: .lesionLow, provenance: WireSamples.provenance(), endpoint: "tcp://10.0.0.5:4000"),
            seed: 1)
        request.patch = Patch(id: WireSamples.id, pixels: try WireSamples.pixels(), level: .lesionLow, provenance: WireSamples.provenance())
        expectError(
            .invalidValue(field: "augment_request.patch", reason: "give the patch inline or where it is kept, exactly one"),
            Envelope(sender: "t", body: .augmentRequest(request)).encoded())
    }

    @Test func storedViewsNameWhereTheyAre() throws {
        let stored = ViewsStored(id: WireSamples.id, level: .healthyLow, endpoint: "", digest: 1, dtype: .float32, shape: [3, 8, 8])
        expectError(.missingField("views_stored.endpoint"), Envelope(sender: "t", body: .viewsStored(stored)).encoded())
        var flat = stored
        (flat.endpoint, flat.shape) = ("tcp://10.0.0.7:4000", [8, 8])
        expectError(
            .invalidValue(
                field: "views_stored.shape", reason: "a view is [C, H, W] or [H, W, C] with sides in 1...65536, got [8, 8]"),
            Envelope(sender: "t", body: .viewsStored(flat)).encoded())
    }

    @Test func computeTimesAreDurations() throws {
        let reply = Embeddings(
            id: WireSamples.id, embeddings: try WireSamples.floats([2, 8]), samples: [0, 1], weightsVersion: 0, weightsChecksum: 0,
            computeSeconds: -1)
        expectError(
            .invalidValue(field: "embeddings.compute_s", reason: "-1.0 is not a duration in seconds"),
            Envelope(sender: "t", body: .embeddings(reply)).encoded())
    }

    @Test func tensorNamesMustBeUnique() throws {
        let t = try WireSamples.floats([2])
        let state = ReplicaState(version: 1, tensors: [NamedTensor(name: "w", tensor: t), NamedTensor(name: "w", tensor: t)], checksum: 0)
        let request = ForwardRequest(
            id: WireSamples.id, sources: [ViewSource(id: WireSamples.id, .stored(endpoint: "tcp://127.0.0.1:4000"))], samples: [0, 1],
            weightsVersion: 1, state: state)
        expectError(
            .invalidValue(field: "forward_request.state.tensors[1].name", reason: "duplicate name \"w\""),
            Envelope(sender: "t", body: .forwardRequest(request)).encoded())
    }

    @Test func batchNormStatisticsAreInLayerOrderAndAgree() throws {
        func reply(_ statistics: [BatchNormStatistics]) -> [UInt8] {
            Envelope(
                sender: "t",
                body: .parameterGradients(
                    ParameterGradients(id: WireSamples.id, gradients: [], batchNorm: statistics, weightsVersion: 0, samples: 2))
            ).encoded()
        }
        let mean = try WireSamples.floats([2, 4])
        expectError(
            .invalidValue(field: "parameter_gradients.batch_norm[0].layer", reason: "layer 1 out of model order"),
            reply([BatchNormStatistics(layer: 1, mean: mean, variance: mean)]))
        expectError(
            .invalidValue(field: "parameter_gradients.batch_norm[0].variance.shape", reason: "expected [2, 4], got [2, 5]"),
            reply([BatchNormStatistics(layer: 0, mean: mean, variance: try WireSamples.floats([2, 5]))]))
    }

    @Test func evaluationRequestsNameTheirProblem() {
        func bytes(_ edit: (inout EvaluationRequest) -> Void) -> [UInt8] {
            var request = WireSamples.evaluationRequest()
            edit(&request)
            return Envelope(sender: "t", body: .evaluationRequest(request)).encoded()
        }
        expectError(.missingField("evaluation_request.output"), bytes { $0.output = "" })
        expectError(.missingField("evaluation_request.labels"), bytes { $0.labels = "" })
        expectError(.invalidValue(field: "evaluation_request.models", reason: "no encoder to evaluate"), bytes { $0.models = [] })
        expectError(
            .invalidValue(field: "evaluation_request.models", reason: "two encoders share a name"),
            bytes { $0.models = [EncoderSource(name: "a"), EncoderSource(name: "a", path: "/x")] })
        expectError(
            .invalidValue(field: "evaluation_request.models[0].name", reason: "\"../x\" is not 1-64 letters, digits, - or _"),
            bytes { $0.models = [EncoderSource(name: "../x")] })
        expectError(.invalidValue(field: "evaluation_request.width", reason: "nan is not in (0, 16]"), bytes { $0.width = .nan })
        expectError(
            .invalidValue(field: "evaluation_request.embedding_patches", reason: "5000 exceeds 1000 per level"),
            bytes { $0.embeddingPatches = 5000 })
    }

    @Test func swiftSideTensorChecks() {
        #expect(throws: WireError.self) { _ = try Tensor(uint8: [1, 2], shape: [3]) }
        #expect(throws: WireError.self) { _ = try Tensor(uint8: [], shape: []) }
        #expect(throws: WireError.self) { _ = try Tensor(uint8: [1], shape: [-1]) }
    }
}
