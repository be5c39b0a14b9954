/// The ResNet depths torchvision names, with their block layouts (He et al. 2016, table 1).
public enum ResNetArch: String, CaseIterable, Sendable, Codable {
    case resnet18, resnet34, resnet50

    var blocksPerStage: [Int] {
        switch self {
        case .resnet18: [2, 2, 2, 2]
        case .resnet34, .resnet50: [3, 4, 6, 3]
        }
    }
    var usesBottleneck: Bool { self == .resnet50 }
}

/// A torchvision-structured ResNet backbone (stem, four stages, global average pool) with a width
/// multiplier on every stage's channel count, channels-last, any input size. Its state dict uses
/// torchvision's names (`conv1.weight`, `layer1.0.bn1.running_mean`, ...), without `fc`.
public final class ResNet: StateHolder {
    public let arch: ResNetArch
    public let width: Double
    public let featureDimension: Int

    let conv1: Conv2d, bn1: BatchNorm2d, maxpool = MaxPool2d(), pool = GlobalAvgPool()
    let stages: [[any ResidualBlock]]
    /// Gradients and weight copies, shared by every layer (see TransientBuffers).
    public let buffers = TransientBuffers()

    /// Channels of a stage: torchvision's 64/128/256/512 planes times `width`, at least 1.
    public static func planes(_ base: Int, width: Double) -> Int { max(1, Int((Double(base) * width).rounded())) }

    /// The pooled feature size of `arch` at `width`, without building the network (the
    /// coordinator names the model every step; building one allocates every weight).
    public static func featureDimension(arch: ResNetArch, width: Double) -> Int {
        planes(512, width: width) * (arch.usesBottleneck ? Bottleneck.expansion : BasicBlock.expansion)
    }

    public init(arch: ResNetArch, width: Double = 1) {
        precondition(width > 0, "width must be positive")
        self.arch = arch
        self.width = width
        let stem = Self.planes(64, width: width)
        conv1 = Conv2d(3, stem, kernel: 7, stride: 2, padding: 3)
        bn1 = BatchNorm2d(stem, relu: true)
        var inC = stem
        var stages: [[any ResidualBlock]] = []
        for (index, count) in arch.blocksPerStage.enumerated() {
            let planes = Self.planes(64 << index, width: width)
            var blocks: [any ResidualBlock] = []
            for b in 0..<count {
                let stride = (index > 0 && b == 0) ? 2 : 1
                let block: any ResidualBlock =
                    arch.usesBottleneck
                    ? Bottleneck(inChannels: inC, planes: planes, stride: stride)
                    : BasicBlock(inChannels: inC, planes: planes, stride: stride)
                inC = block.outChannels
                blocks.append(block)
            }
            stages.append(blocks)
        }
        self.stages = stages
        featureDimension = inC
        assert(inC == Self.featureDimension(arch: arch, width: width))
        for conv in convolutions { conv.buffers = buffers }
        for bn in batchNorms { bn.buffers = buffers }
        maxpool.buffers = buffers
        pool.buffers = buffers
    }

    public func state(prefix: String) -> [(String, StateTensor)] {
        var out = conv1.state(prefix: join(prefix, "conv1")) + bn1.state(prefix: join(prefix, "bn1"))
        for (s, blocks) in stages.enumerated() {
            for (b, block) in blocks.enumerated() { out += block.state(prefix: join(prefix, "layer\(s + 1).\(b)")) }
        }
        return out
    }

    var batchNorms: [BatchNorm2d] { [bn1] + stages.flatMap { $0.flatMap(\.batchNorms) } }
    var convolutions: [Conv2d] { [conv1] + stages.flatMap { $0.flatMap(\.convolutions) } }

    /// Samples per batch-norm statistics group in training, for every batch norm (0 = the whole
    /// batch). Data-parallel training fixes it so the result does not depend on the worker count.
    public var batchNormGroupSize = 0 {
        didSet { for bn in batchNorms { bn.groupSize = batchNormGroupSize } }
    }

    public var training: Bool = true {
        didSet { for bn in batchNorms { bn.training = training } }
    }

    /// Every batch norm's group statistics from the last training forward, in a fixed layer order
    /// (the same on every replica of an architecture).
    public var batchNormGroupStatistics: [(mean: [Float], variance: [Float])] { batchNorms.map(\.groupStatistics) }

    /// Channels of every batch norm, in `batchNormGroupStatistics` order.
    public var batchNormChannels: [Int] { batchNorms.map(\.channels) }

    /// Replays other replicas' group statistics into the running statistics, layer by layer
    /// (see BatchNorm2d.replayGroupStatistics).
    public func replayBatchNormGroupStatistics(_ statistics: [(mean: [Float], variance: [Float])]) {
        precondition(statistics.count == batchNorms.count, "statistics for \(statistics.count) of \(batchNorms.count) batch norms")
        for (bn, s) in zip(batchNorms, statistics) { bn.replayGroupStatistics(mean: s.mean, variance: s.variance) }
    }

    /// Images (NHWC, normalised) -> pooled features [n, featureDimension].
    public func forward(_ images: Tensor4) -> Matrix {
        precondition(images.shape.c == 3, "the stem expects RGB (3 channels), got \(images.shape)")
        var x = maxpool.forward(bn1.forward(conv1.forward(images)))
        for block in stages.joined() { x = block.forward(x) }
        return pool.forward(x)
    }

    /// Accumulates every parameter's gradient from the features' gradient.
    public func backward(_ dFeatures: Matrix) {
        var d = pool.backward(dFeatures)
        for block in stages.joined().reversed() { d = block.backward(consume d) }
        d = maxpool.backward(d)
        _ = conv1.backward(bn1.backward(d).input, needInputGradient: false)
    }

    /// Every convolution with the input shape it sees for a batch of `n` images of a size, in
    /// forward order (for benchmarks and FLOP counts).
    public func convolutionInputs(n: Int = 1, height: Int, width: Int) -> [(conv: Conv2d, input: Shape4)] {
        var out: [(Conv2d, Shape4)] = [(conv1, Shape4(n: n, h: height, w: width, c: 3))]
        var shape = maxpool.outputShape(conv1.outputShape(out[0].1))
        for block in stages.joined() {
            var s = shape
            for c in block.mainPath { out.append((c, s)); s = c.outputShape(s) }
            // The shortcut reads the block's input.
            if let d = block.downsample { out.append((d.conv, shape)) }
            shape = s
        }
        return out
    }

    /// Multiply-accumulates of the convolutions in one forward pass of one image.
    public func forwardMACs(height: Int, width: Int) -> Double {
        convolutionInputs(height: height, width: width).reduce(0) { $0 + $1.conv.forwardMACs($1.input) }
    }
}
