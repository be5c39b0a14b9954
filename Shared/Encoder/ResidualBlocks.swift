/// torchvision's two residual blocks (torchvision.models.resnet): BasicBlock for ResNet-18/34 and
/// Bottleneck (stride on the 3x3, "ResNet v1.5") for ResNet-50. BN + ReLU and the residual add are
/// fused into the batch norm layers.
protocol ResidualBlock: AnyObject, StateHolder {
    var outChannels: Int { get }
    /// The main path's convolutions, in order, and the batch norm after each (the last one adds
    /// the shortcut before its ReLU).
    var mainPath: [Conv2d] { get }
    var mainNorms: [BatchNorm2d] { get }
    var downsample: Downsample? { get }
}

extension ResidualBlock {
    /// Main path, then the shortcut's convolution if any (init and state order).
    var convolutions: [Conv2d] { mainPath + (downsample.map { [$0.conv] } ?? []) }
    var batchNorms: [BatchNorm2d] { mainNorms + (downsample.map { [$0.bn] } ?? []) }

    /// torchvision's names: `conv1`, `bn1`, ... along the main path, then `downsample`.
    func state(prefix: String) -> [(String, StateTensor)] {
        zip(mainPath, mainNorms).enumerated().flatMap { i, layers in
            layers.0.state(prefix: join(prefix, "conv\(i + 1)")) + layers.1.state(prefix: join(prefix, "bn\(i + 1)"))
        } + (downsample?.state(prefix: join(prefix, "downsample")) ?? [])
    }

    func forward(_ x: Tensor4) -> Tensor4 {
        let identity = downsample?.forward(x) ?? x
        let (convs, norms, last) = (mainPath, mainNorms, mainPath.count - 1)
        var h = x
        for i in 0..<last { h = norms[i].forward(convs[i].forward(h)) }
        return norms[last].forward(convs[last].forward(h), residual: identity)
    }

    /// Takes the gradient as its own and releases each gradient once used, so TransientBuffers can
    /// reuse it (peak memory): the shortcut first, then the main path, one variable reassigned.
    func backward(_ dy: consuming Tensor4) -> Tensor4 {
        let (convs, norms, last) = (mainPath, mainNorms, mainPath.count - 1)
        var (d, residual) = norms[last].backward(dy)
        _ = consume dy
        let shortcut = shortcutGradient(residual, downsample)
        residual = nil
        for i in stride(from: last, to: 0, by: -1) { d = norms[i - 1].backward(convs[i].backward(d)!).input }
        d = convs[0].backward(d)!
        addInPlace(d, shortcut)
        return d
    }
}

/// The projection shortcut: 1x1 convolution with stride, then batch norm (`downsample.0/1`).
final class Downsample: StateHolder {
    let conv: Conv2d, bn: BatchNorm2d
    init(_ inC: Int, _ outC: Int, stride: Int) {
        conv = Conv2d(inC, outC, kernel: 1, stride: stride)
        bn = BatchNorm2d(outC, relu: false)
    }
    func state(prefix: String) -> [(String, StateTensor)] {
        conv.state(prefix: join(prefix, "0")) + bn.state(prefix: join(prefix, "1"))
    }
    func forward(_ x: Tensor4) -> Tensor4 { bn.forward(conv.forward(x)) }
    func backward(_ dy: Tensor4) -> Tensor4 { conv.backward(bn.backward(dy).input)! }
}

/// dst += src, elementwise.
func addInPlace(_ dst: Tensor4, _ src: Tensor4) {
    precondition(dst.shape == src.shape)
    let d = dst.pointer, s = src.pointer
    parallelParts(dst.shape.count, minPerPart: 16384) { _, part in
        for i in part { d[i] += s[i] }
    }
}

/// The shortcut's gradient: the residual's gradient through the projection, if any.
func shortcutGradient(_ residual: Tensor4?, _ downsample: Downsample?) -> Tensor4 {
    guard let residual else { preconditionFailure("residual block without a residual gradient") }
    return downsample.map { $0.backward(residual) } ?? residual
}

final class BasicBlock: ResidualBlock {
    static let expansion = 1
    let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    let downsample: Downsample?
    let outChannels: Int

    init(inChannels: Int, planes: Int, stride: Int) {
        outChannels = planes
        conv1 = Conv2d(inChannels, planes, kernel: 3, stride: stride, padding: 1)
        bn1 = BatchNorm2d(planes, relu: true)
        conv2 = Conv2d(planes, planes, kernel: 3, padding: 1)
        bn2 = BatchNorm2d(planes, relu: true)
        downsample = (stride != 1 || inChannels != planes) ? Downsample(inChannels, planes, stride: stride) : nil
    }

    var mainPath: [Conv2d] { [conv1, conv2] }
    var mainNorms: [BatchNorm2d] { [bn1, bn2] }
}

final class Bottleneck: ResidualBlock {
    static let expansion = 4
    let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d, conv3: Conv2d, bn3: BatchNorm2d
    let downsample: Downsample?
    let outChannels: Int

    init(inChannels: Int, planes: Int, stride: Int) {
        outChannels = planes * Self.expansion
        conv1 = Conv2d(inChannels, planes, kernel: 1)
        bn1 = BatchNorm2d(planes, relu: true)
        conv2 = Conv2d(planes, planes, kernel: 3, stride: stride, padding: 1)
        bn2 = BatchNorm2d(planes, relu: true)
        conv3 = Conv2d(planes, outChannels, kernel: 1)
        bn3 = BatchNorm2d(outChannels, relu: true)
        downsample = (stride != 1 || inChannels != outChannels) ? Downsample(inChannels, outChannels, stride: stride) : nil
    }

    var mainPath: [Conv2d] { [conv1, conv2, conv3] }
    var mainNorms: [BatchNorm2d] { [bn1, bn2, bn3] }
}
