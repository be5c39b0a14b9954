import Wire

/// How a step's patches are cut into shards (docs/training.md): whole blocks of G patches,
/// contiguous, as even as the block count allows. A block's G first views and its G second views
/// are two batch-norm groups, so no positive pair shares a group's statistics (MoCo's reason for
/// shuffling BN, He et al. 2020, section 3.3) and each group holds every level equally.
public enum Sharding {
    /// Patch ranges for at most `workers` shards, as even as the block count allows.
    public static func shards(batch: Int, group: Int, workers: Int) -> [Range<Int>] {
        shards(batch: batch, group: group, shares: Array(repeating: 1, count: max(1, workers)))
    }

    /// Patch ranges for at most `shares.count` shards (the first ones), shard k's block count in
    /// proportion to `shares[k]` (a worker's measured speed: docs/training.md, "Mixed pools"),
    /// at least one block each, the remainder to the largest fractions. Equal shares give the even
    /// split, block for block.
    public static func shards(batch: Int, group: Int, shares: [Double]) -> [Range<Int>] {
        let blocks = batch / group
        let count = max(1, min(shares.count, blocks))
        let used = shares.prefix(count).map { $0.isFinite && $0 > 0 ? $0 : 0 }
        var sizes: [Int]
        if Set(used).count <= 1 || used.contains(0) {
            sizes = (0..<count).map { s in blocks * (s + 1) / count - blocks * s / count }
        } else {
            let total = used.reduce(0, +)
            let quotas = used.map { Double(blocks - count) * $0 / total }  // beyond the one block each
            sizes = quotas.map { 1 + Int($0) }
            let fraction = quotas.map { $0 - $0.rounded(.down) }
            let order = quotas.indices.sorted { fraction[$0] != fraction[$1] ? fraction[$0] > fraction[$1] : $0 < $1 }
            for k in order.prefix(blocks - sizes.reduce(0, +)) { sizes[k] += 1 }
        }
        var start = 0
        return sizes.map { size in
            defer { start += size * group }
            return start..<(start + size * group)
        }
    }

    /// How a worker lays out a shard of `count` patches, input row by input row: block by block,
    /// the block's G first views, then the same G patches' second views. Each row's patch (its
    /// index in the shard) and view. The coordinator's loss rows and the worker's input follow it.
    public static func layout(count: Int, group: Int) -> [(patch: Int, second: Bool)] {
        let g = group == 0 ? count : group
        return stride(from: 0, to: count, by: g).flatMap { block in
            [false, true].flatMap { second in (block..<min(block + g, count)).map { (patch: $0, second: second) } }
        }
    }

    /// A shard's views (its patches in batch order) and the loss row of each of its 2n inputs in
    /// the worker's `layout`: patch i's first view is loss row i, its second view row B + i.
    public static func sources(_ views: StepViews, patches: Range<Int>, group: Int) -> ([ViewSource], [UInt64]) {
        let b = views.views.count
        let samples = layout(count: patches.count, group: group).map { UInt64(patches.lowerBound + $0.patch + ($0.second ? b : 0)) }
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
