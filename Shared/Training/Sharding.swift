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

    /// A shard's views (its patches in batch order) and the loss row of each of its 2n inputs as
    /// the worker lays them out, block by block: G first views (patch i: row i), then the same
    /// G patches' second views (row B + i).
    public static func sources(_ views: StepViews, patches: Range<Int>, group: Int) -> ([ViewSource], [UInt64]) {
        let b = views.views.count
        var samples: [UInt64] = []
        for block in stride(from: patches.lowerBound, to: patches.upperBound, by: group) {
            samples += (block..<(block + group)).map { UInt64($0) }
            samples += (block..<(block + group)).map { UInt64(b + $0) }
        }
        return (Array(views.views[patches]), samples)
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
