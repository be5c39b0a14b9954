import Wire

/// One filled-in example of every message kind: the round-trip tests' cases and the envelope
/// fuzzer's seeds.
public enum WireSamples {
    public static let id = WorkID(run: "run-7", step: 3, item: 41)
    public static let box = Box(x: 10.5, y: 20, w: 30, h: 40.25, score: 0.875, classID: 2)

    public static func provenance() -> Provenance {
        var p = Provenance(imageID: "img_0001", window: box, fromDetection: true)
        p.imagePath = "train/img_0001.png"
        p.imageWidth = 512
        p.imageHeight = 480
        p.boxIndex = 3
        p.detector = "builtin-dark-bright/1"
        return p
    }

    public static func pixels() throws -> Tensor {
        try Tensor(uint8: (0..<(8 * 6 * 3)).map { UInt8($0 % 251) }, shape: [8, 6, 3])
    }

    public static func floats(_ shape: [Int], offset: Float = 0) throws -> Tensor {
        let count = shape.reduce(1, *)
        return try Tensor(float32: (0..<count).map { Float($0) * 0.25 - 3 + offset }, shape: shape)
    }

    public static func all() throws -> [Body] {
        var status = Status(role: .coordinator, workerID: "coord@host:1", state: .running)
        status.itemsDone = 12
        status.itemsFailed = 1
        status.uptimeSeconds = 3.5
        status.detail = "step 3/10"
        status.peers = [
            PeerStatus(role: .augmenter, workerID: "aug-1", heartbeats: 9, itemsDone: 4, inFlight: 2, lastSeenMsAgo: 120.5),
            PeerStatus(role: .embeddingWorker, workerID: "emb-1", heartbeats: 1, itemsDone: 0, inFlight: 0, lastSeenMsAgo: 3),
        ]
        return [
            .ready(Ready(role: .augmenter, workerID: "aug@host:42", capacity: 4, software: "comcl-augmenter 0.1.0")),
            .heartbeat(Heartbeat(sequence: 99, inFlight: 2)),
            .status(status),
            .statusRequest(StatusRequest()),
            .shutdown(Shutdown(reason: "run finished")),
            .error(ErrorReport(code: .badInput, message: "corrupt PNG: bad CRC", id: id)),
            .error(ErrorReport(code: .unknownPeer, message: "say Ready first")),
            .detectRequest(DetectRequest(id: id, imageID: "img_0001", image: .encoded([0x89, 0x50, 0x4E, 0x47]), width: 512, height: 480)),
            .detectRequest(DetectRequest(id: id, imageID: "img_0002", image: .path("train/img_0002.jpeg"))),
            .detectReply(
                DetectReply(id: id, imageID: "img_0001", boxes: [box, Box(x: 0, y: 0, w: 1, h: 1, score: 0)], detector: "py-template/1")),
            .detectReply(DetectReply(id: id, imageID: "img_0003", boxes: [], detector: "py-template/1")),
            .patchRequest(PatchRequest(id: id, imageID: "img_0001", path: "train/img_0001.png", level: .lesionLow, seed: 1234)),
            .patch(Patch(id: id, pixels: try pixels(), level: .healthyLow, provenance: provenance())),
            .augmentRequest(
                AugmentRequest(
                    patch: Patch(id: id, pixels: try pixels(), level: .lesionHigh, provenance: provenance()), seed: 7,
                    recipe: "{\"ops\": []}")),
            .augmentRequest(
                AugmentRequest(patch: Patch(id: id, pixels: try pixels(), level: .healthyLow, provenance: provenance()), seed: 0)),
            .viewPair(
                ViewPair(
                    id: id, first: try floats([3, 4, 5]), second: try floats([3, 4, 5], offset: 1), level: .lesionHigh,
                    provenance: provenance())),
            .viewPair(ViewPair(id: id, first: try pixels(), second: try pixels(), level: .healthyHigh)),
            .forwardRequest(
                ForwardRequest(
                    id: id,
                    sources: [ViewSource(id: id, .inline(first: try floats([3, 4, 4]), second: try floats([3, 4, 4], offset: 1)))],
                    samples: [5, 9], weightsVersion: 17)),
            .forwardRequest(
                ForwardRequest(
                    id: id,
                    sources: [
                        ViewSource(id: id, .stored(endpoint: "tcp://augmenter-1:41234")),
                        ViewSource(id: WorkID(run: "r", step: 3, item: 9), .stored(endpoint: "tcp://augmenter-2:41234")),
                    ], samples: [0, 1, 4, 5], weightsVersion: 18, batchNormGroup: 2,
                    state: ReplicaState(
                        version: 18,
                        tensors: [
                            NamedTensor(name: "conv1.weight", tensor: try floats([4, 3, 3, 3])),
                            NamedTensor(name: "bn1.running_mean", tensor: try floats([4])),
                        ], checksum: 0xDEAD_BEEF_0BAD_F00D, optimizer: [0x53, 0x54, 0, 1]),
                    model: "resnet18:0.25")),
            .embeddings(
                Embeddings(
                    id: id, embeddings: try floats([2, 8]), samples: [0, 1], weightsVersion: 18, weightsChecksum: 0xFEED,
                    computeSeconds: 0.25)),
            .backwardRequest(BackwardRequest(id: id, embeddingGradient: try floats([3, 128]), weightsVersion: 17)),
            .backwardRequest(
                BackwardRequest(
                    id: id, embeddingGradient: try floats([3, 128]), weightsVersion: 17,
                    peers: ["tcp://10.0.0.8:40001", "tcp://10.0.0.9:40002"],
                    learningRate: 1e-3)),
            .stepApplied(
                StepApplied(id: id, weightsVersion: 18, weightsChecksum: 0xBEEF, samples: 4, computeSeconds: 1.25, exchangeSeconds: 0.5)),
            .gradientPart(
                GradientPart(
                    id: id, sum: true, offset: 1024, values: try floats([96]),
                    batchNorm: [BatchNormStatistics(layer: 0, mean: try floats([2, 4]), variance: try floats([2, 4], offset: 1))])),
            .gradientPart(GradientPart(id: id, sum: false, offset: 0, values: try floats([32]))),
            .stateRequest(StateRequest(id: id)),
            .stateReply(
                StateReply(
                    id: id,
                    state: ReplicaState(
                        version: 3, tensors: [NamedTensor(name: "fc.0.bias", tensor: try floats([8]))], checksum: 0xF00D,
                        optimizer: [1, 2, 3]))),
            .parameterGradients(
                ParameterGradients(
                    id: id, gradients: [NamedTensor(name: "conv1.weight", tensor: try floats([4, 3, 3, 3]))],
                    batchNorm: [
                        BatchNormStatistics(layer: 0, mean: try floats([2, 4]), variance: try floats([2, 4], offset: 1)),
                        BatchNormStatistics(layer: 1, mean: try floats([2, 8]), variance: try floats([2, 8], offset: 2)),
                    ], weightsVersion: 17, samples: 4, computeSeconds: 1.5)),
            .patchStored(PatchStored(id: id, level: .healthyHigh, provenance: provenance(), endpoint: "tcp://10.0.0.5:40111")),
            .augmentRequest(
                AugmentRequest(
                    source: PatchStored(id: id, level: .lesionLow, provenance: provenance(), endpoint: "tcp://10.0.0.5:40111"), seed: 7,
                    keepFromStep: 2)),
            .viewsStored(
                ViewsStored(
                    id: id, level: .lesionLow, provenance: provenance(), endpoint: "tcp://10.0.0.7:41234", digest: 0xABCD, dtype: .float32,
                    shape: [3, 64, 64])),
            .fetch(Fetch(ids: [id, WorkID(run: "r", step: 3, item: 9)])),
            .fetched(
                Fetched(
                    pairs: [ViewPair(id: id, first: try floats([3, 4, 5]), second: try floats([3, 4, 5], offset: 1), level: .lesionHigh)],
                    missing: [WorkID(run: "r", step: 3, item: 9)])),
            .fetched(Fetched(patches: [Patch(id: id, pixels: try pixels(), level: .lesionHigh, provenance: provenance())])),
            .evaluationRequest(evaluationRequest()),
            .evaluationRequest(
                EvaluationRequest(
                    id: id, labels: "labels.csv", format: "generic", models: [EncoderSource(name: "scratch")], output: "eval")),
            .evaluationResult(
                EvaluationResult(id: id, results: "{\"format\": \"comcl-evaluation v1\"}", table: "| model |", report: "/runs/r/report.md")),
        ]
    }

    public static func evaluationRequest() -> EvaluationRequest {
        var r = EvaluationRequest(
            id: id, labels: "/data/labels.csv", format: "eyeq",
            models: [EncoderSource(name: "comcl", path: "/runs/r"), EncoderSource(name: "scratch")], output: "/runs/r/evaluation")
        (r.images, r.quality, r.testLabels) = ("/data/images", "/data/quality.csv", "/data/test.csv")
        (r.arch, r.width, r.config, r.embeddingPatches) = ("resnet18", 0.25, "{\"epochs\": 3}", 20)
        return r
    }
}
