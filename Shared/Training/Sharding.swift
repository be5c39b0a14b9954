import Wire

/// How a step's patches are cut into shards (docs/training.md): whole blocks of G patches,
/// contiguous, as even as the block count allows. A block's G first views and its G second views
/// are two batch-norm groups, so no positive pair shares a group's statistics (MoCo's reason for
/// shuffling BN, He et al. 2020, section 3.3) and each group holds every level equally.
public enum Sharding {
    /// Patch ranges for at most `workers` shards.
    public static func shards(batch: Int, group: Int, workers: Int) -> [Range<Int>] {
        let blocks = batch / group
        let count = max(1, min(workers, blocks))
        return (0..<count).map { s in (blocks * s / count * group)..<(blocks * (s + 1) / count * group) }
    }

    /// A shard's input [2n, 3, H, W] (block by block: G first views, then G second views) and
    /// each row's place in the loss (first view of patch i: row i; second: B + i).
    public static func inputs(_ views: StepViews, patches: Range<Int>, group: Int) -> (Tensor, [UInt64]) {
        let b = views.first.count
        var data: [UInt8] = []
        var samples: [UInt64] = []
        let shape = views.first[patches.lowerBound].shape
        data.reserveCapacity(patches.count * 2 * views.first[patches.lowerBound].data.count)
        for block in stride(from: patches.lowerBound, to: patches.upperBound, by: group) {
            for i in block..<(block + group) { data += views.first[i].data; samples.append(UInt64(i)) }
            for i in block..<(block + group) { data += views.second[i].data; samples.append(UInt64(b + i)) }
        }
        return (try! Tensor(dtype: .float32, shape: [samples.count] + shape, data: data), samples)
    }

    /// Scatters shards' embeddings into the loss layout (2B x D).
    public static func gather(_ shards: [Embeddings], batch: Int, dimension d: Int) -> [Float] {
        var z = [Float](repeating: 0, count: 2 * batch * d)
        for shard in shards {
            shard.embeddings.data.withUnsafeBytes { raw in
                let rows = raw.bindMemory(to: Float.self)
                for (r, sample) in shard.samples.enumerated() {
                    for c in 0..<d { z[Int(sample) * d + c] = rows[r * d + c] }
                }
            }
        }
        return z
    }

    /// The gradient rows of one shard, in its row order.
    public static func rows(_ gradient: [Float], samples: [UInt64], dimension d: Int) -> Tensor {
        var rows = [Float]()
        rows.reserveCapacity(samples.count * d)
        for sample in samples { rows += gradient[Int(sample) * d..<(Int(sample) + 1) * d] }
        return try! Tensor(float32: rows, shape: [samples.count, d])
    }
}
