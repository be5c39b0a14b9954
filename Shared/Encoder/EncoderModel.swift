import Basics

/// What a model is: backbone depth and width, and its head. Printable and saved beside a
/// checkpoint so a loader can rebuild the same network.
public struct ModelConfig: Equatable, Sendable, CustomStringConvertible {
    public var arch: ResNetArch
    public var width: Double
    public var head: HeadKind

    public init(arch: ResNetArch, width: Double = 1, head: HeadKind = .none) {
        (self.arch, self.width, self.head) = (arch, width, head)
    }

    /// The contrastive model: hidden = feature dimension, 128-d output (prior work: 2048-2048-128
    /// for ResNet-50; SimCLR's 128-d projection).
    public static func contrastive(arch: ResNetArch, width: Double = 1) -> ModelConfig {
        let d = ResNet.featureDimension(arch: arch, width: width)
        return ModelConfig(arch: arch, width: width, head: .projection(hidden: d, output: 128))
    }

    public var description: String { "\(arch.rawValue) width \(width) head \(head)" }

    /// Width multipliers a run may ask for: from 1/16 (a 4-channel stem; narrower ones have
    /// too few channels for a batch-norm group to mean anything) to 4 (16 times ResNet's cost, the
    /// most a 24 GiB machine holds at the paper's batch).
    public static let widths: ClosedRange<Double> = 0.0625...4

    /// Why `width` cannot be built, or nil (NaN, infinities, zero and negatives included).
    public static func widthProblem(_ width: Double) -> String? {
        widths.contains(width)
            ? nil : "width \(width): must be a number from \(widths.lowerBound) to \(widths.upperBound) (1 is torchvision's ResNet)"
    }
}

/// A ResNet backbone with its head: the embedding workers' and the evaluator's network.
public final class EncoderModel: StateHolder {
    public let config: ModelConfig
    public let backbone: ResNet
    public let projection: ProjectionHead?
    public let classifier: Linear?
    /// The last forward pass's pooled backbone features (before the head).
    public private(set) var features: Matrix?

    public init(_ config: ModelConfig, seed: UInt64 = 0) {
        self.config = config
        backbone = ResNet(arch: config.arch, width: config.width)
        let d = backbone.featureDimension
        switch config.head {
        case let .projection(hidden, output): projection = ProjectionHead(input: d, hidden: hidden, output: output); classifier = nil
        case let .classifier(classes): classifier = Linear(d, classes); projection = nil
        case .none: projection = nil; classifier = nil
        }
        parameters = state().compactMap { name, t in
            if case let .parameter(p) = t, p.trainable { return (name, p) }
            return nil
        }
        initialize(seed: seed)
    }

    public func state(prefix: String = "") -> [(String, StateTensor)] {
        backbone.state(prefix: prefix) + (projection?.state(prefix: join(prefix, "fc")) ?? [])
            + (classifier?.state(prefix: join(prefix, "fc")) ?? [])
    }

    /// Trainable parameters in state-dict order (the optimizer's order); the structure is fixed
    /// at init, so the list is built once.
    public private(set) var parameters: [(name: String, parameter: Parameter)] = []

    /// Columns of `forward`'s output.
    public var outputDimension: Int {
        switch config.head {
        case .projection(_, let output): output
        case .classifier(let classes): classes
        case .none: backbone.featureDimension
        }
    }

    public var training: Bool {
        get { backbone.training }
        set { backbone.training = newValue }
    }

    public func zeroGrad() { for (_, p) in parameters { p.zeroGrad() } }

    /// Images -> the head's output (embeddings, logits, or the features when there is no head).
    public func forward(_ images: Tensor4) -> Matrix {
        let f = backbone.forward(images)
        features = f
        if let projection { return projection.forward(f) }
        if let classifier { return classifier.forward(f) }
        return f
    }

    /// Accumulates parameter gradients from the gradient of `forward`'s output.
    public func backward(_ dOutput: Matrix) {
        var d = dOutput
        if let projection { d = projection.backward(d) }
        if let classifier { d = classifier.backward(d) }
        backbone.backward(d)
    }

    /// torchvision's initialisation (torchvision.models.resnet.ResNet.__init__): convolutions
    /// Kaiming-normal with mode fan_out for ReLU, std = sqrt(2 / (out * kh * kw)); batch norm weight
    /// 1, bias 0; linear layers torch.nn.Linear's default U(-1/sqrt(in), 1/sqrt(in)). Drawn in
    /// state-dict order from one seeded stream, so a seed fixes the network.
    public func initialize(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for conv in backbone.convolutions {
            let std = (2.0 / Double(conv.outChannels * conv.kernel * conv.kernel)).squareRoot()
            let w = conv.weight.value.pointer
            for i in 0..<conv.weight.count { w[i] = Float(rng.normal() * std) }
        }
        for bn in backbone.batchNorms {
            bn.weight.value.pointer.update(repeating: 1, count: bn.channels)
            bn.bias.value.pointer.update(repeating: 0, count: bn.channels)
            bn.runningMean.value.pointer.update(repeating: 0, count: bn.channels)
            bn.runningVar.value.pointer.update(repeating: 1, count: bn.channels)
            bn.batchesTracked.value = 0
        }
        for linear in (projection?.linears ?? []) + (classifier.map { [$0] } ?? []) {
            let bound = 1 / Double(linear.inFeatures).squareRoot()
            for p in [linear.weight, linear.bias] {
                for i in 0..<p.count { p.value.pointer[i] = Float((rng.unit() * 2 - 1) * bound) }
            }
        }
    }
}
