import Encoder
import Foundation
import Testing
import Training

/// Pre-training from given weights: the backbone is the file's, the head keeps its seeded init,
/// a run folder means its latest checkpoint, and a file changed since the run was configured is
/// refused (the config names what decided the result).
@Suite struct InitialWeightsTests {
    static let config = ModelConfig.contrastive(arch: .resnet18, width: 0.0625)

    static func values(_ model: EncoderModel, _ prefix: String) -> [Float] {
        var values: [Float] = []
        for (name, tensor) in model.state() where name.hasPrefix(prefix) {
            if case .parameter(let p) = tensor { values += p.values }
        }
        return values
    }

    @Test func theBackboneComesFromTheFileAndTheHeadFromTheSeed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("init-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = EncoderModel(Self.config, seed: 41)
        let file = folder.appendingPathComponent("source.safetensors")
        try ModelState.encode(source).write(to: file)

        let initial = try InitialWeights.describe(file.path)
        let model = EncoderModel(Self.config, seed: 7)
        let head = Self.values(model, "fc.")
        try initial.load(into: model)
        #expect(Self.values(model, "layer4.") == Self.values(source, "layer4."))
        #expect(Self.values(model, "conv1.") == Self.values(source, "conv1."))
        #expect(Self.values(model, "fc.") == head && head != Self.values(source, "fc."))

        try ModelState.encode(EncoderModel(Self.config, seed: 42)).write(to: file)
        #expect(throws: TrainingError.self) { try initial.load(into: EncoderModel(Self.config, seed: 7)) }
        #expect(throws: TrainingError.self) { try InitialWeights.describe(folder.appendingPathComponent("missing").path) }
        #expect(throws: TrainingError.self) { try InitialWeights.describe(folder.path) }  // a folder without checkpoints
    }
}
