import Basics
import Foundation

/// Times the contrastive training step the embedding workers run (forward, backward, Adam) on a
/// random batch, for `comcl bench encoder`.
public struct TrainingStepTimer {
    public let config: ModelConfig, batch: Int, size: Int

    public init(config: ModelConfig, batch: Int, size: Int) {
        (self.config, self.batch, self.size) = (config, batch, size)
    }

    /// Seconds per step over `steps` timed steps after two warm-up steps, and the split of the
    /// last step (forward, backward, optimizer).
    public func run(steps: Int) -> (secondsPerStep: Double, split: [String: Double]) {
        let model = EncoderModel(config, seed: 0)
        let adam = Adam(model.parameters.map(\.parameter))
        var rng = SeededGenerator(seed: 1)
        let shape = Shape4(n: batch, h: size, w: size, c: 3)
        let images = Tensor4(shape: shape)
        for i in 0..<shape.count { images.pointer[i] = Float(rng.normal()) }
        var gradient: Matrix?
        var total = 0.0, split: [String: Double] = [:]
        for i in 0..<(steps + 2) {
            let t0 = Date()
            model.zeroGrad()
            let z = model.forward(images)
            let t1 = Date()
            if gradient == nil { gradient = Matrix(rows: z.rows, cols: z.cols, values: Array(repeating: 0.01, count: z.count)) }
            model.backward(gradient!)
            let t2 = Date()
            adam.update()
            let t3 = Date()
            if i >= 2 {
                total += t3.timeIntervalSince(t0)
                split = [
                    "forward": t1.timeIntervalSince(t0), "backward": t2.timeIntervalSince(t1), "optimizer": t3.timeIntervalSince(t2),
                    "transient_mb": Double(model.backbone.buffers.capacity * 4) / 1e6,
                ]
            }
        }
        return (total / Double(steps), split)
    }

    /// Convolution FLOPs of one training step: forward, weight gradient and input gradient, each
    /// the forward's cost, except the stem's input gradient, which is never computed.
    public var flopsPerStep: Double {
        let convolutions = ResNet(arch: config.arch, width: config.width).convolutionInputs(n: batch, height: size, width: size)
        return convolutions.enumerated().reduce(0) { sum, item in
            sum + (item.offset == 0 ? 2 : 3) * 2 * item.element.conv.forwardMACs(item.element.input)
        }
    }
}
