import CEngineKernels
import Foundation

/// Adam (Kingma & Ba 2015) exactly as torch.optim.Adam / AdamW compute it.
///
/// Weight decay: `.l2` adds `decay * w` to the gradient before the moments (torch.optim.Adam's
/// `weight_decay`, what the lesion-based CL code CoMCL follows used); `.decoupled` shrinks the
/// weights by `lr * decay` outside the moments (AdamW, Loshchilov & Hutter 2019). Pre-training uses
/// `.l2` by default to match the prior code; both are tested against PyTorch.
public final class Adam {
    public enum Decay: String, Sendable { case l2, decoupled }
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decay: Decay
    public internal(set) var step = 0
    let parameters: [Parameter]
    let firstMoments: [FloatBuffer], secondMoments: [FloatBuffer]

    /// Defaults: beta 0.9 / 0.999, eps 1e-8 (Kingma & Ba; torch defaults); lr 1e-3 (CoMCL paper).
    public init(
        _ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        eps: Float = 1e-8, weightDecay: Float = 0, decay: Decay = .l2
    ) {
        precondition(parameters.allSatisfy(\.trainable), "Adam over a non-trainable tensor")
        self.parameters = parameters
        (self.learningRate, self.beta1, self.beta2, self.eps, self.weightDecay, self.decay) =
            (learningRate, beta1, beta2, eps, weightDecay, decay)
        firstMoments = parameters.map {
            let b = FloatBuffer(count: $0.count); b.zero($0.count); return b
        }
        secondMoments = parameters.map {
            let b = FloatBuffer(count: $0.count); b.zero($0.count); return b
        }
    }

    public func update() {
        step += 1
        let t = Double(step)
        let correction1 = 1 - pow(Double(beta1), t), correction2Root = (1 - pow(Double(beta2), t)).squareRoot()
        let stepSize = Float(Double(learningRate) / correction1)
        let (b1, b2, eps, lr, wd, decoupled) = (beta1, beta2, eps, learningRate, weightDecay, decay == .decoupled)
        for (index, p) in parameters.enumerated() {
            let w = p.value.pointer, g = p.grad!.pointer
            let m = firstMoments[index].pointer, v = secondMoments[index].pointer
            let c2 = Float(correction2Root)
            // One vectorised pass over each parameter (CEngineKernels); L2 decay joins the gradient,
            // decoupled decay shrinks the weight.
            let l2: Float = decoupled ? 0 : wd, shrink: Float = decoupled ? 1 - lr * wd : 1
            parallelParts(p.count, minPerPart: 32768) { _, part in
                let i = part.lowerBound
                comcl_adam(w + i, g + i, m + i, v + i, part.count, b1, b2, l2, shrink, stepSize, c2, eps)
            }
        }
    }

}

/// SGD with momentum as torch.optim.SGD computes it (L2 weight decay in the gradient; the first
/// step seeds the momentum buffer with the gradient; optional Nesterov), for fine-tuning.
public final class SGD {
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float, nesterov: Bool
    public private(set) var step = 0
    let parameters: [Parameter]
    let buffers: [FloatBuffer]

    public init(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0, nesterov: Bool = false) {
        self.parameters = parameters
        (self.learningRate, self.momentum, self.weightDecay, self.nesterov) = (learningRate, momentum, weightDecay, nesterov)
        buffers = parameters.map { FloatBuffer(count: $0.count) }
    }

    public func update() {
        let first = step == 0
        step += 1
        let (lr, mu, wd, nesterov) = (learningRate, momentum, weightDecay, nesterov)
        for (index, p) in parameters.enumerated() {
            let w = p.value.pointer, g = p.grad!.pointer, b = buffers[index].pointer
            for i in 0..<p.count {
                var d = g[i] + wd * w[i]
                if mu != 0 {
                    b[i] = first ? d : mu * b[i] + d
                    d = nesterov ? d + mu * b[i] : b[i]
                }
                w[i] -= lr * d
            }
        }
    }

}

/// Cosine learning-rate decay (Loshchilov & Hutter 2017, SGDR without restarts), with an optional
/// linear warm-up: lr(t) = min + (base - min) * (1 + cos(pi * t' / T')) / 2.
public struct CosineSchedule: Sendable {
    public var base: Double, minimum: Double, totalSteps: Int, warmupSteps: Int
    public init(base: Double, totalSteps: Int, warmupSteps: Int = 0, minimum: Double = 0) {
        (self.base, self.totalSteps, self.warmupSteps, self.minimum) = (base, totalSteps, warmupSteps, minimum)
    }
    public func rate(at step: Int) -> Double {
        if step < warmupSteps { return base * Double(step + 1) / Double(warmupSteps) }
        let span = max(totalSteps - warmupSteps, 1)
        let progress = min(Double(step - warmupSteps) / Double(span), 1)
        return minimum + (base - minimum) * (1 + cos(Double.pi * progress)) / 2
    }
}
