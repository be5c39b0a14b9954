import Basics
import Encoder
import Testing

/// With fixed batch-norm groups, a batch computed whole or as two shards of whole groups (what
/// one and two embedding workers do) gives the same embeddings, gradients and running statistics,
/// up to the summation order inside the GEMMs (1e-6 absolute on embeddings, 1e-4 of the largest
/// entry on gradients); and a model that only replays the shards' batch-norm group statistics
/// ends with the same running statistics, bit for bit.
@Suite struct DataParallelTests {
    @Test func shardsOfWholeGroupsMatchTheWholeBatch() {
        let config = ModelConfig.contrastive(arch: .resnet18, width: 0.125)
        let whole = EncoderModel(config, seed: 3), sharded = EncoderModel(config, seed: 3)
        whole.backbone.batchNormGroupSize = 2
        sharded.backbone.batchNormGroupSize = 2
        // 64 px, not 32: at 32 px the last stage's maps are 1x1, a group then normalises two values,
        // and that ill-conditioning turns GEMM rounding differences into 4e-4 of the gradient.
        let shape = Shape4(n: 4, h: 64, w: 64, c: 3), half = Shape4(n: 2, h: 64, w: 64, c: 3)
        var g = SeededGenerator(seed: 5)
        let images = (0..<shape.count).map { _ in Float(g.normal()) }
        let dimension = whole.forward(Tensor4(shape: half, values: Array(images[0..<half.count]))).cols
        let whole2 = EncoderModel(config, seed: 3)  // the probe forward above moved whole's running statistics
        whole2.backbone.batchNormGroupSize = 2
        let probe = (0..<(4 * dimension)).map { _ in Float(g.normal()) }

        whole2.zeroGrad()
        let embeddings = whole2.forward(Tensor4(shape: shape, values: images)).values
        whole2.backward(Matrix(rows: 4, cols: dimension, values: probe))
        sharded.zeroGrad()
        // The coordinator's copy: it never runs forward, it replays the shards' group statistics.
        let coordinator = EncoderModel(config, seed: 3)
        var shardEmbeddings: [Float] = []
        for s in 0..<2 {
            shardEmbeddings += sharded.forward(Tensor4(shape: half, values: Array(images[s * half.count..<(s + 1) * half.count]))).values
            coordinator.backbone.replayBatchNormGroupStatistics(sharded.backbone.batchNormGroupStatistics)
            sharded.backward(Matrix(rows: 2, cols: dimension, values: Array(probe[s * 2 * dimension..<(s + 1) * 2 * dimension])))
        }
        let embeddingGap = zip(embeddings, shardEmbeddings).map { abs($0 - $1) }.max()!
        #expect(embeddingGap <= 1e-6, "embeddings differ by \(embeddingGap)")
        for ((name, a), (_, b)) in zip(whole2.parameters, sharded.parameters) {
            let scale = max(a.gradValues.map { abs($0) }.max() ?? 0, 1e-6)
            let gap = zip(a.gradValues, b.gradValues).map { abs($0 - $1) }.max() ?? 0
            #expect(gap <= 1e-4 * scale, "\(name): gradient differs by \(gap) (scale \(scale))")
        }
        for (((name, a), (_, b)), (_, c)) in zip(zip(whole2.state(), sharded.state()), coordinator.state())
        where name.hasSuffix("running_mean") || name.hasSuffix("running_var") {
            guard case .parameter(let pa) = a, case .parameter(let pb) = b, case .parameter(let pc) = c else { continue }
            let gap = zip(pa.values, pb.values).map { abs($0 - $1) }.max()!
            #expect(gap <= 1e-5, "\(name) differs by \(gap)")
            #expect(pc.values == pb.values, "\(name): replayed statistics should equal the worker's own update")
        }
    }
}
