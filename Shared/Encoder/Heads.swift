/// What sits on the pooled features. Both take torchvision's `fc` name, so a checkpoint loads into
/// a torchvision ResNet whose `fc` is the same module: `fc` for a classifier, and for contrastive
/// pre-training `fc = Sequential(Linear, ReLU, Linear)` (`fc.0`, `fc.2`), as the lesion-based CL
/// code that CoMCL builds on replaces `fc` with its MLP.
public enum HeadKind: Equatable, Sendable {
    /// Linear-ReLU-Linear, then L2 normalisation (SimCLR; prior work: 2048-2048-128 on ResNet-50).
    case projection(hidden: Int, output: Int)
    case classifier(classes: Int)
    case none
}

/// The contrastive projection head.
public final class ProjectionHead: StateHolder {
    let fc0: Linear, relu = ReLU(), fc2: Linear, normalize = L2Normalize()
    public init(input: Int, hidden: Int, output: Int) {
        fc0 = Linear(input, hidden)
        fc2 = Linear(hidden, output)
    }
    public func state(prefix: String) -> [(String, StateTensor)] {
        fc0.state(prefix: join(prefix, "0")) + fc2.state(prefix: join(prefix, "2"))
    }
    public func forward(_ x: Matrix) -> Matrix { normalize.forward(fc2.forward(relu.forward(fc0.forward(x)))) }
    public func backward(_ dz: Matrix) -> Matrix { fc0.backward(relu.backward(fc2.backward(normalize.backward(dz)))) }
    var linears: [Linear] { [fc0, fc2] }
}
