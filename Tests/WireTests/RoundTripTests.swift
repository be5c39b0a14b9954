import CProtocol
import Fuzzing
import Testing
import Wire

@Suite struct RoundTripTests {
    @Test func everyMessageKindSurvivesEncodeDecode() throws {
        let bodies = try WireSamples.all()
        // Every kind of the oneof appears at least once in the samples (the envelope's fields
        // are the version, the sender, and one per kind).
        #expect(Set(bodies.map(\.kind)).count == Int(comcl__v1__envelope__descriptor.n_fields) - 2)
        for body in bodies {
            let envelope = Envelope(sender: "tester", body: body)
            let decoded = try Envelope.decode(envelope.encoded())
            #expect(decoded == envelope, "\(body.kind) changed in a round trip")
        }
    }

    @Test func tensorBytesAreExact() throws {
        let values: [Float] = [0, -0.0, 1e-38, .greatestFiniteMagnitude, -3.5, .pi]
        let body = Body.embeddings(
            Embeddings(
                id: WireSamples.id, embeddings: try Tensor(float32: values, shape: [2, 3]), samples: [0, 1], weightsVersion: 1,
                weightsChecksum: 7))
        guard case .embeddings(let batch) = try Envelope.decode(Envelope(sender: "t", body: body).encoded()).body else {
            Issue.record("wrong kind")
            return
        }
        #expect(batch.embeddings.floats()!.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func workIDIsReportedForWorkItems() throws {
        for body in try WireSamples.all() {
            switch body {
            case .ready, .heartbeat, .status, .statusRequest, .shutdown, .fetch, .fetched:
                #expect(body.workID == nil)
            case .error(let e): #expect(body.workID == e.id)
            default: #expect(body.workID == WireSamples.id)
            }
        }
    }

    /// A large tensor (the size of a narrow ResNet's weights) round-trips intact.
    @Test func largePayload() throws {
        let count = 4 << 20
        let tensor = try Tensor(float32: (0..<count).map { Float($0 % 1000) }, shape: [count])
        let state = ReplicaState(version: 1, tensors: [NamedTensor(name: "w", tensor: tensor)], checksum: 1)
        let request = ForwardRequest(
            id: WireSamples.id, sources: [ViewSource(id: WireSamples.id, .stored(endpoint: "tcp://127.0.0.1:4000"))], samples: [0, 1],
            weightsVersion: 1, state: state)
        let bytes = Envelope(sender: "t", body: .forwardRequest(request)).encoded()
        #expect(bytes.count > count * 4)
        #expect(try Envelope.decode(bytes).body == .forwardRequest(request))
    }
}
