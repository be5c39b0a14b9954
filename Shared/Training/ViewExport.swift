import Basics
import Domain
import Encoder
import Foundation
import Transport
import Wire

/// Writes what the encoder sees each step, so another implementation can train on the very same
/// inputs (the PyTorch twin, Tests/Fixtures/training/make_twin_fixture.py): `initial.safetensors`
/// (the weights before step 1, torchvision names) and `step-NNNNNN.safetensors` per step with
/// `first` and `second` ([B, 3, H, W], float32: patch i's two views), `levels` ([B], 0-3 for
/// L, L~, H, H~) and the batch digest and batch-norm group size in the metadata. A developer
/// tool: a run of 100 ResNet-18 steps at batch 400 writes about 15 GB. Views kept at augmenters
/// are fetched from there, as an embedding worker would.
struct ViewExport {
    let folder: URL
    let client: DataClient

    init(folder: URL) {
        self.folder = folder
        client = DataClient(ZMQContext(), name: "coordinator-export")
    }

    func initial(_ model: EncoderModel) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try ModelState.save(model, to: folder.appendingPathComponent("initial.safetensors"))
    }

    func write(_ views: StepViews, bnGroup: Int) throws {
        var writer = SafeTensorsWriter()
        writer.metadata = [
            "format": "comcl-step-views", "version": "1", "step": "\(views.step)", "bn_group": "\(bnGroup)",
            "digest": String(views.digest, radix: 16),
        ]
        var stored: [String: [WorkID]] = [:]
        for source in views.views { if case .stored(let endpoint) = source.place { stored[endpoint, default: []].append(source.id) } }
        let fetched = try client.fetch(stored)
        let pairs = views.views.map { source in
            switch source.place {
            case .inline(let first, let second): (first, second)
            case .stored: (fetched[source.id]!.first, fetched[source.id]!.second)
            }
        }
        let shape = pairs[0].0.shape
        for (name, tensors) in [("first", pairs.map(\.0)), ("second", pairs.map(\.1))] {
            var values: [Float] = []
            values.reserveCapacity(tensors.count * shape.reduce(1, *))
            for t in tensors { values += t.floats()! }
            writer.add(name, floats: values, shape: [tensors.count] + shape)
        }
        writer.add("levels", integers: views.levels.map { Int64(Level.allCases.firstIndex(of: $0)!) }, shape: [views.levels.count])
        try AtomicFile.write(writer.data(), to: folder.appendingPathComponent(String(format: "step-%06d.safetensors", views.step)))
    }
}
