@testable import Encoder
import Foundation
import Testing

/// Optimizers against torch.optim on a fixed gradient sequence (optim.safetensors), every step.
/// Tolerance 1e-6 relative: the same fp32 formulas, up to operation order.
@Suite struct OptimizerTests {
    func run(_ name: String, _ make: (Parameter) -> () -> Void) throws {
        let fixture = try Fixtures.load("optim.safetensors")
        let start = try fixture.floats("start"), grads = try fixture.floats("grads"), expected = try fixture.floats(name)
        let n = start.count, steps = grads.count / n
        let p = Parameter(shape: [n], trainable: true)
        p.setTorchValues(start)
        let update = make(p)
        for s in 0..<steps {
            for i in 0..<n { p.grad!.pointer[i] = grads[s * n + i] }
            update()
            expectClose("\(name) step \(s + 1)", p.values, Array(expected[(s * n)..<((s + 1) * n)]), rel: 1e-6)
        }
    }

    @Test func adamWithL2Decay() throws {
        try run("adam") { p in let o = Adam([p], learningRate: 1e-2, weightDecay: 0.1, decay: .l2); return o.update }
    }

    @Test func adamWithDecoupledDecay() throws {
        try run("adamw") { p in let o = Adam([p], learningRate: 1e-2, weightDecay: 0.1, decay: .decoupled); return o.update }
    }

    @Test func sgdMomentum() throws {
        try run("sgd") { p in let o = SGD([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01); return o.update }
    }

    @Test func sgdNesterov() throws {
        try run("sgd_nesterov") { p in let o = SGD([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true); return o.update }
    }

    /// torch.optim.lr_scheduler.CosineAnnealingLR's closed form, with and without warm-up.
    @Test func cosineSchedule() {
        let s = CosineSchedule(base: 0.1, totalSteps: 100, minimum: 0.001)
        #expect(s.rate(at: 0) == 0.1)
        #expect(abs(s.rate(at: 50) - 0.0505) < 1e-12)
        #expect(abs(s.rate(at: 100) - 0.001) < 1e-12)
        #expect(abs(s.rate(at: 25) - (0.001 + 0.099 * (1 + cos(Double.pi / 4)) / 2)) < 1e-12)
        let w = CosineSchedule(base: 0.1, totalSteps: 110, warmupSteps: 10)
        #expect(abs(w.rate(at: 0) - 0.01) < 1e-12 && abs(w.rate(at: 9) - 0.1) < 1e-12 && w.rate(at: 10) == 0.1)
    }
}
