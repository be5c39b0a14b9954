import Basics
import Encoder
import Foundation
import TestSupport
import Testing
import Training
import Transport
import Wire

/// Examples/pytorch-worker as a real process on a real socket, asked what the coordinator asks,
/// against our replica asked the same in-process (docs/embedding-worker.md): its embeddings,
/// gradients and batch-norm statistics within the engines' rounding, its update and its state
/// bit for bit ours, and its refusals the contract's.
@Suite(.serialized, .enabled(if: TorchPython.available, "needs PyTorch: scripts/torch-venv.sh (scripts/test.sh runs it)"))
struct PyTorchReplicaTests {
    static let model = ModelConfig.contrastive(arch: .resnet18, width: 0.125)
    static let name = TrainingConfig.modelName(model)
    static let patches = 8, group = 4, side = 64

    /// The PyTorch worker, connected to a router of ours that plays the coordinator.
    final class Remote {
        let context = ZMQContext()
        let router: ZMQRouter
        let worker: ChildProcess
        private(set) var peer: PeerID = []

        init() throws {
            router = try ZMQRouter(context, bind: "tcp://127.0.0.1:*")
            worker = try TorchPython.pytorchWorker(
                ["--coordinator", try router.socket.lastEndpoint, "--data-endpoint", "off", "--worker-id", "py"], name: "pytorch-worker")
            guard case .ready(let ready)? = try next(timeout: 120).map(\.body) else {
                throw PyTorchWorkerFailure("the PyTorch worker did not say Ready:\n\(worker.output)")
            }
            #expect(ready.role == .embeddingWorker && ready.capacity == 1 && ready.dataEndpoint.isEmpty)
            #expect(ready.software.hasPrefix("comcl-pytorch-worker"))
        }

        /// The next message other than a heartbeat.
        private func next(timeout: Double) throws -> Envelope? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                guard let message = try router.receive(timeout: 0.2) else { continue }
                let envelope = try Envelope.decode(frames: message.frames)
                peer = message.peer
                if case .heartbeat = envelope.body { continue }
                return envelope
            }
            return nil
        }

        func ask(_ body: Body) throws -> Body {
            try router.send(Envelope(sender: "test", body: body).encoded(), to: peer)
            guard let reply = try next(timeout: 120) else { throw PyTorchWorkerFailure("no answer to \(body.kind):\n\(worker.output)") }
            return reply.body
        }

        deinit {
            try? router.send(Envelope(sender: "test", body: .shutdown(Shutdown(reason: "test over"))).encoded(), to: peer)
            if worker.wait(timeout: 10) == nil { worker.signal(SIGKILL) }
        }
    }

    static func id(_ phase: ShardID.Phase, step: Int = 0) -> WorkID {
        ShardID(run: "t", step: step, attempt: 0, shard: 0, phase: phase).workID
    }

    static func forward(state: ReplicaState?, version: UInt64 = 0) -> ForwardRequest {
        var rng = SeededGenerator(seed: 7)
        func view() -> Tensor { try! Tensor(float32: (0..<(3 * side * side)).map { _ in Float(rng.normal()) }, shape: [3, side, side]) }
        let sources = (0..<patches).map {
            ViewSource(id: WorkID(run: "t", step: 0, item: UInt64($0)), .inline(first: view(), second: view()))
        }
        return ForwardRequest(
            id: id(.forward), sources: sources, samples: (0..<UInt64(2 * patches)).map { $0 }, weightsVersion: version,
            batchNormGroup: group, state: state, model: name)
    }

    /// The largest difference of two equally shaped float tensors, relative to the second's largest value.
    static func relative(_ a: Tensor, _ b: Tensor) -> Double {
        let (x, y) = (a.floats()!, b.floats()!)
        #expect(a.shape == b.shape)
        let diff = zip(x, y).map { Double(abs($0 - $1)) }.max() ?? 0
        return diff / max(y.map { Double(abs($0)) }.max() ?? 0, 1e-12)
    }

    @Test func aStepAgreesWithOursAndItsUpdateAndStateAreOursBitForBit() throws {
        let remote = try Remote()
        let master = MasterModel(Self.model, seed: 5, learningRate: 1e-3, weightDecay: 1e-4)
        let ours = EmbeddingReplica(Self.model)
        let request = Self.forward(state: master.state)

        // Forward: the same checksum for the loaded state; unit embeddings within 1e-4 (measured 2.0e-6).
        guard case .embeddings(let mine) = try ours.handle(.forwardRequest(request)),
            case .embeddings(let theirs) = try remote.ask(.forwardRequest(request))
        else { throw PyTorchWorkerFailure("no embeddings:\n\(remote.worker.output)") }
        #expect(theirs.weightsChecksum == mine.weightsChecksum && theirs.samples == mine.samples)
        #expect(Self.relative(theirs.embeddings, mine.embeddings) < 1e-4)

        // Backward, relayed: each parameter's gradient and each group's statistics.
        var rng = SeededGenerator(seed: 8)
        let dz = try Tensor(
            float32: (0..<(2 * Self.patches * 128)).map { _ in Float(rng.normal() * 0.05) }, shape: [2 * Self.patches, 128])
        let backward = BackwardRequest(id: Self.id(.backward), embeddingGradient: dz, weightsVersion: 0, learningRate: 1e-3)
        guard case .parameterGradients(let ourGradients) = try ours.handle(.backwardRequest(backward)),
            case .parameterGradients(let theirGradients) = try remote.ask(.backwardRequest(backward))
        else { throw PyTorchWorkerFailure("no gradients:\n\(remote.worker.output)") }
        #expect(theirGradients.gradients.map(\.name) == ourGradients.gradients.map(\.name))
        // Float32 sums in other orders: within 1e-4 of each tensor's largest gradient (measured
        // 4.6e-6), and each group's mean and unbiased variance within 1e-4 (measured 2.0e-6).
        let worst = zip(theirGradients.gradients, ourGradients.gradients).map { (Self.relative($0.tensor, $1.tensor), $1.name) }
            .max { $0.0 < $1.0 }!
        #expect(worst.0 < 1e-4, "gradient of \(worst.1): \(worst.0) of its scale")
        #expect(theirGradients.batchNorm.count == ourGradients.batchNorm.count)
        for (a, b) in zip(theirGradients.batchNorm, ourGradients.batchNorm) {
            #expect(a.layer == b.layer && a.mean.shape == [2 * Self.patches / Self.group, b.mean.shape[1]])
            #expect(Self.relative(a.mean, b.mean) < 1e-4 && Self.relative(a.variance, b.variance) < 1e-4, "layer \(b.layer)")
        }

        // The update from one sum: the same checksum, the same state to the last bit (one
        // reassociated product in its Adam, (1 - b2) * (g * g), already breaks both).
        let sum = try Tensor(
            float32: ourGradients.gradients.flatMap { $0.tensor.floats()! },
            shape: [ourGradients.gradients.reduce(0) { $0 + $1.tensor.shape.reduce(1, *) }])
        let apply = GradientPart(id: Self.id(.apply), sum: true, offset: 0, values: sum, batchNorm: ourGradients.batchNorm)
        guard case .stepApplied(let ourStep) = try ours.handle(.gradientPart(apply)),
            case .stepApplied(let theirStep) = try remote.ask(.gradientPart(apply))
        else { throw PyTorchWorkerFailure("no step:\n\(remote.worker.output)") }
        #expect(theirStep.weightsVersion == 1 && ourStep.weightsVersion == 1)
        #expect(theirStep.weightsChecksum == ourStep.weightsChecksum)
        let stateID = ShardID(run: "t", step: 1, attempt: 0, shard: 1, phase: .state).workID
        guard case .stateReply(let ourState) = try ours.handle(.stateRequest(StateRequest(id: stateID))),
            case .stateReply(let theirState) = try remote.ask(.stateRequest(StateRequest(id: stateID)))
        else { throw PyTorchWorkerFailure("no state:\n\(remote.worker.output)") }
        #expect(theirState.state.tensors == ourState.state.tensors && theirState.state.checksum == ourState.state.checksum)
        let (a, b) = (try SafeTensors(data: Data(theirState.state.optimizer)), try SafeTensors(data: Data(ourState.state.optimizer)))
        #expect(a.metadata["step"] == "1" && a.metadata["decay"] == b.metadata["decay"])
        for name in b.names { #expect(try a.floats(name) == b.floats(name), "\(name)") }
        // The coordinator takes a checkpoint from it as from ours.
        master.advanced(to: 1, checksum: ourStep.weightsChecksum)
        try master.load(theirState.state, from: "py")
        #expect(master.holdsCurrent)
    }

    @Test func itRefusesWhatItCannotServeAndServesOn() throws {
        let remote = try Remote()
        let master = MasterModel(Self.model, seed: 5, learningRate: 1e-3, weightDecay: 0)
        func code(_ body: Body) throws -> ErrorCode? {
            if case .error(let report) = try remote.ask(body) { return report.code }
            return nil
        }
        var corrupt = master.state
        corrupt.checksum ^= 1
        #expect(try code(.forwardRequest(Self.forward(state: corrupt))) == .badInput)
        // No state held, none sent: it needs the state (another worker could serve), not an error in the request.
        #expect(try code(.forwardRequest(Self.forward(state: nil))) == .unavailable)
        var unknown = Self.forward(state: master.state)
        unknown.model = "resnet99:1"
        #expect(try code(.forwardRequest(unknown)) == .badInput)
        let dz = try Tensor(float32: Array(repeating: 0, count: 2 * Self.patches * 128), shape: [2 * Self.patches, 128])
        #expect(
            try code(.backwardRequest(BackwardRequest(id: Self.id(.backward), embeddingGradient: dz, weightsVersion: 0))) == .unavailable)
        // After all that, a good request is served.
        guard case .embeddings = try remote.ask(.forwardRequest(Self.forward(state: master.state))) else {
            throw PyTorchWorkerFailure("a good forward after refusals failed:\n\(remote.worker.output)")
        }
    }
}

struct PyTorchWorkerFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
