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
        try run("adam") { p in
            let o = Adam([p], learningRate: 1e-2, weightDecay: 0.1, decay: .l2); return o.update
        }
    }

    @Test func adamWithDecoupledDecay() throws {
        try run("adamw") { p in
            let o = Adam([p], learningRate: 1e-2, weightDecay: 0.1, decay: .decoupled); return o.update
        }
    }

    @Test func sgdMomentum() throws {
        try run("sgd") { p in
            let o = SGD([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01); return o.update
        }
    }

    @Test func sgdNesterov() throws {
        try run("sgd_nesterov") { p in
            let o = SGD([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true); return o.update
        }
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

@Suite struct OptimizerStateTests {
    /// Saving Adam mid-run and restoring into a fresh optimizer continues bitwise as if uninterrupted.
    @Test func adamResumesExactly() throws {
        func setup() -> (Parameter, Adam) {
            let p = Parameter(shape: [2, 3], trainable: true)
            p.setTorchValues([1, -2, 3, 0.5, 0, -1])
            return (p, Adam([p], learningRate: 0.01, weightDecay: 0.1, decay: .decoupled))
        }
        func step(_ p: Parameter, _ o: Adam, _ s: Int) {
            for i in 0..<6 { p.grad!.pointer[i] = Float(i - s) * 0.3 }
            o.update()
        }
        let (p, o) = setup()
        for s in 0..<5 { step(p, o, s) }
        let (q, r) = setup()
        for s in 0..<3 { step(q, r, s) }
        let saved = try SafeTensors(data: r.encodeState(names: ["w"]))
        let (q2, r2) = setup()
        q2.setTorchValues(q.values)
        try r2.restoreState(saved, names: ["w"])
        #expect(r2.step == 3)
        for s in 3..<5 { step(q2, r2, s) }
        #expect(q2.values == p.values)
        #expect(throws: ModelStateError.missing(["exp_avg.v"])) { try r2.restoreState(saved, names: ["v"]) }
    }
}
