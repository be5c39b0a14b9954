import Basics
import CDNNL
import Foundation
@testable import Encoder
import Testing

/// Finite-difference checks of every layer's backward pass: for a loss `sum(out * probe)`, the
/// analytic gradient of each input and parameter entry against a central difference.
///
/// fp32 forward passes limit the difference quotient's accuracy to about eps_fp32 * |loss| / h;
/// with h = 1e-2 on O(1) values and small tensors that is ~1e-4, and the second-order term of the
/// smooth layers is ~h^2. Entries near a ReLU/max-pool kink are avoided by random inputs whose
/// ties and zeros have probability ~0 at this size. Tolerance: 1e-2 relative to max(1, |grad|).
struct GradientCheck {
    var rng = SeededGenerator(seed: 1234)
    var h: Float = 1e-2

    mutating func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.normal()) } }

    /// Checks `analytic` against finite differences of `loss` over up to 24 entries of `buffer`.
    mutating func check(
        _ what: String, buffer: UnsafeMutablePointer<Float>, count: Int, analytic: [Float],
        loss: () -> Double, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var worst = 0.0
        let picks = count <= 24 ? Array(0..<count) : (0..<24).map { _ in Int(rng.next() % UInt64(count)) }
        for i in picks {
            let saved = buffer[i]
            buffer[i] = saved + h; let up = loss()
            buffer[i] = saved - h; let down = loss()
            buffer[i] = saved
            let numeric = (up - down) / (2 * Double(h))
            worst = max(worst, abs(numeric - Double(analytic[i])) / max(1, abs(Double(analytic[i]))))
        }
        #expect(worst <= 1e-2, "\(what): finite-difference mismatch \(worst)", sourceLocation: sourceLocation)
    }
}

func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

@Suite struct GradientCheckTests {
    @Test(arguments: [(3, 2, 1), (1, 1, 0), (1, 2, 0), (7, 2, 3), (3, 1, 1)])
    func conv2d(_ geometry: (Int, Int, Int)) {
        let (k, stride, pad) = geometry
        var gc = GradientCheck()
        let conv = Conv2d(3, 4, kernel: k, stride: stride, padding: pad)
        let wv = gc.values(conv.weight.count)
        wv.withUnsafeBufferPointer { conv.weight.value.pointer.update(from: $0.baseAddress!, count: wv.count) }
        let x = Tensor4(shape: Shape4(n: 2, h: 7, w: 6, c: 3), values: gc.values(2 * 7 * 6 * 3))
        let probe = gc.values(conv.outputShape(x.shape).count)
        let loss = { dot(conv.forward(x).values, probe) }
        let y = conv.forward(x)
        conv.weight.zeroGrad()
        let dx = conv.backward(Tensor4(shape: y.shape, values: probe))!.values
        gc.check("conv k\(k) s\(stride) input", buffer: x.pointer, count: x.shape.count, analytic: dx, loss: loss)
        gc.check(
            "conv k\(k) s\(stride) weight", buffer: conv.weight.value.pointer, count: conv.weight.count,
            analytic: conv.weight.gradValues, loss: loss)
    }

    /// oneDNN primitives are cached per input shape: switching batch sizes and back gives what a
    /// fresh layer gives, and the weight gradient accumulates across backward calls.
    @Test func convPlansPerShape() {
        var gc = GradientCheck()
        let conv = Conv2d(5, 6, kernel: 3, stride: 2, padding: 1), fresh = Conv2d(5, 6, kernel: 3, stride: 2, padding: 1)
        let wv = gc.values(conv.weight.count)
        for c in [conv, fresh] { wv.withUnsafeBufferPointer { c.weight.value.pointer.update(from: $0.baseAddress!, count: wv.count) } }
        let big = Tensor4(shape: Shape4(n: 3, h: 9, w: 7, c: 5), values: gc.values(3 * 9 * 7 * 5))
        let small = Tensor4(shape: Shape4(n: 1, h: 5, w: 5, c: 5), values: gc.values(5 * 5 * 5))
        let probe = Tensor4(shape: conv.outputShape(big.shape), values: gc.values(conv.outputShape(big.shape).count))
        func run(_ c: Conv2d, _ x: Tensor4, _ dy: Tensor4) -> ([Float], [Float]) {
            let y = c.forward(x).values
            return (y, c.backward(dy)!.values)
        }
        let expected = run(fresh, big, probe)
        _ = run(conv, big, probe)
        _ = run(conv, small, Tensor4(shape: conv.outputShape(small.shape), values: gc.values(conv.outputShape(small.shape).count)))
        conv.weight.zeroGrad(); fresh.weight.zeroGrad()
        let again = run(conv, big, probe)
        _ = run(fresh, big, probe)
        #expect(again.0 == expected.0 && again.1 == expected.1)
        #expect(conv.weight.gradValues == fresh.weight.gradValues)
        _ = run(conv, big, probe)
        #expect(Difference(conv.weight.gradValues, fresh.weight.gradValues.map { 2 * $0 }).rel < 1e-6, "the weight gradient accumulates")
    }

    /// OpenMP keeps its thread count per thread, and the services build and run the engine on
    /// threads of their own: a convolution made and run on a thread whose OpenMP count differs
    /// must use ours, at its creation too (oneDNN fixes a primitive's team size when it describes
    /// it: the demo's workers of one thread each ran teams of two, 12 % slower a step). The
    /// team's threads are counted by name (a thread's name passes to the threads it starts).
    @Test func convUsesOurThreadCountOnAnyThread() {
        nonisolated(unsafe) var (seen, team): (Int32, Int) = (-1, -1)
        let done = DispatchSemaphore(value: 0)
        let name = "omp-team-probe"
        let thread = Thread {
            try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            omp_set_num_threads(Int32(EngineThreads.count + 3))  // this thread's own, different count
            let conv = Conv2d(32, 32, kernel: 3, padding: 1)
            _ = conv.forward(Tensor4(shape: Shape4(n: 4, h: 16, w: 16, c: 32)))
            seen = omp_get_max_threads()
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            team =
                tasks.filter { task in
                    let comm = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
                    return comm?.trimmingCharacters(in: .whitespacesAndNewlines) == name
                }.count
            done.signal()
        }
        thread.start()
        done.wait()
        #expect(Int(seen) == EngineThreads.count)
        #expect(team == EngineThreads.count, "the convolution ran a team of \(team) threads; ours is \(EngineThreads.count)")
    }

    /// oneDNN falls back to reference kernels (`ref:any`, under 1 GFLOP/s) when a primitive is
    /// forced into a layout its fast kernels do not take; every ResNet shape must get a fast one.
    @Test func convUsesFastKernels() throws {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        try #require(cpu.contains(" avx2"), "oneDNN's JIT kernels need AVX2 or better")
        for (conv, input) in ResNet(arch: .resnet50, width: 0.25).convolutionInputs(n: 2, height: 64, width: 64) {
            let x = Tensor4(shape: input)
            let y = conv.forward(x)
            _ = conv.backward(y)
            for name in conv.implementations(input) { #expect(!name.hasPrefix("ref"), "\(input) k\(conv.kernel): \(name)") }
        }
    }

    @Test(arguments: [(false, false), (true, false), (true, true), (false, true)])
    func batchNorm(_ variant: (Bool, Bool)) {
        let (relu, withResidual) = variant
        var gc = GradientCheck()
        let bn = BatchNorm2d(3, relu: relu)
        for i in 0..<3 { bn.weight.value.pointer[i] = 0.5 + Float(i) * 0.4; bn.bias.value.pointer[i] = 0.1 * Float(i) - 0.1 }
        let shape = Shape4(n: 2, h: 3, w: 4, c: 3)
        let x = Tensor4(shape: shape, values: gc.values(shape.count).map { $0 * 2 + 0.5 })
        let residual = withResidual ? Tensor4(shape: shape, values: gc.values(shape.count)) : nil
        let probe = gc.values(shape.count)
        let loss = { dot(bn.forward(x, residual: residual).values, probe) }
        _ = bn.forward(x, residual: residual)
        let (dx, dr) = bn.backward(Tensor4(shape: shape, values: probe))
        let dxv = dx.values, drv = dr?.values
        let name = "bn relu:\(relu) residual:\(withResidual)"
        gc.check("\(name) input", buffer: x.pointer, count: shape.count, analytic: dxv, loss: loss)
        gc.check("\(name) weight", buffer: bn.weight.value.pointer, count: 3, analytic: bn.weight.gradValues, loss: loss)
        gc.check("\(name) bias", buffer: bn.bias.value.pointer, count: 3, analytic: bn.bias.gradValues, loss: loss)
        if let residual, let drv { gc.check("\(name) residual", buffer: residual.pointer, count: shape.count, analytic: drv, loss: loss) }
    }

    @Test func batchNormGroups() {
        var gc = GradientCheck()
        let bn = BatchNorm2d(3, relu: true)
        bn.groupSize = 2
        for i in 0..<3 { bn.weight.value.pointer[i] = 0.5 + Float(i) * 0.4; bn.bias.value.pointer[i] = 0.1 * Float(i) - 0.1 }
        let shape = Shape4(n: 4, h: 3, w: 2, c: 3)
        let x = Tensor4(shape: shape, values: gc.values(shape.count).map { $0 * 2 + 0.5 })
        let residual = Tensor4(shape: shape, values: gc.values(shape.count))
        let probe = gc.values(shape.count)
        let loss = { dot(bn.forward(x, residual: residual).values, probe) }
        _ = bn.forward(x, residual: residual)
        let (dx, dr) = bn.backward(Tensor4(shape: shape, values: probe))
        let dxv = dx.values, drv = dr!.values
        gc.check("bn groups input", buffer: x.pointer, count: shape.count, analytic: dxv, loss: loss)
        gc.check("bn groups weight", buffer: bn.weight.value.pointer, count: 3, analytic: bn.weight.gradValues, loss: loss)
        gc.check("bn groups bias", buffer: bn.bias.value.pointer, count: 3, analytic: bn.bias.gradValues, loss: loss)
        gc.check("bn groups residual", buffer: residual.pointer, count: shape.count, analytic: drv, loss: loss)
    }

    /// A group's output, input gradient and running-statistics update are those of a batch holding
    /// only that group: what lets data-parallel workers holding whole groups agree with one worker.
    @Test func batchNormGroupsActAlone() {
        var gc = GradientCheck()
        let shape = Shape4(n: 4, h: 5, w: 4, c: 6), half = Shape4(n: 2, h: 5, w: 4, c: 6)
        let values = gc.values(shape.count).map { $0 * 3 + 1 }, probe = gc.values(shape.count)
        let grouped = BatchNorm2d(6, relu: true), alone = BatchNorm2d(6, relu: true)
        grouped.groupSize = 2
        let y = grouped.forward(Tensor4(shape: shape, values: values)).values
        let dx = grouped.backward(Tensor4(shape: shape, values: probe)).input.values
        var yAlone: [Float] = [], dxAlone: [Float] = []
        for g in 0..<2 {
            let part = g * half.count..<(g + 1) * half.count
            yAlone += alone.forward(Tensor4(shape: half, values: Array(values[part]))).values
            dxAlone += alone.backward(Tensor4(shape: half, values: Array(probe[part]))).input.values
        }
        #expect(y == yAlone)
        #expect(dx == dxAlone)
        #expect(grouped.runningMean.values == alone.runningMean.values && grouped.runningVar.values == alone.runningVar.values)
        #expect(grouped.weight.gradValues.elementsEqual(alone.weight.gradValues) { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }

    @Test func batchNormEval() {
        var gc = GradientCheck()
        let bn = BatchNorm2d(4, relu: false)
        bn.training = false
        for i in 0..<4 { bn.runningMean.value.pointer[i] = Float(i) * 0.1; bn.runningVar.value.pointer[i] = 1 + Float(i) }
        let shape = Shape4(n: 2, h: 2, w: 3, c: 4)
        let x = Tensor4(shape: shape, values: gc.values(shape.count))
        let probe = gc.values(shape.count)
        let loss = { dot(bn.forward(x).values, probe) }
        _ = bn.forward(x)
        let dx = bn.backward(Tensor4(shape: shape, values: probe)).input.values
        gc.check("bn eval input", buffer: x.pointer, count: shape.count, analytic: dx, loss: loss)
        gc.check("bn eval weight", buffer: bn.weight.value.pointer, count: 4, analytic: bn.weight.gradValues, loss: loss)
    }

    @Test func maxPoolAndAveragePool() {
        var gc = GradientCheck()
        let pool = MaxPool2d(), avg = GlobalAvgPool()
        let shape = Shape4(n: 2, h: 7, w: 8, c: 3)
        let x = Tensor4(shape: shape, values: gc.values(shape.count))
        let probe = gc.values(pool.outputShape(shape).count)
        let loss = { dot(pool.forward(x).values, probe) }
        let y = pool.forward(x)
        let dx = pool.backward(Tensor4(shape: y.shape, values: probe)).values
        gc.check("maxpool", buffer: x.pointer, count: shape.count, analytic: dx, loss: loss)

        let probe2 = gc.values(2 * 3)
        let loss2 = { dot(avg.forward(x).values, probe2) }
        _ = avg.forward(x)
        let dx2 = avg.backward(Matrix(rows: 2, cols: 3, values: probe2)).values
        gc.check("avgpool", buffer: x.pointer, count: shape.count, analytic: dx2, loss: loss2)
    }

    @Test func linearReluNormalize() {
        var gc = GradientCheck()
        let head = ProjectionHead(input: 5, hidden: 6, output: 4)
        for l in head.linears {
            for p in [l.weight, l.bias] {
                let v = gc.values(p.count)
                v.withUnsafeBufferPointer { p.value.pointer.update(from: $0.baseAddress!, count: p.count) }
            }
        }
        let x = Matrix(rows: 3, cols: 5, values: gc.values(15))
        let probe = gc.values(12)
        let loss = { dot(head.forward(x).values, probe) }
        _ = head.forward(x)
        let dx = head.backward(Matrix(rows: 3, cols: 4, values: probe)).values
        gc.check("head input", buffer: x.pointer, count: 15, analytic: dx, loss: loss)
        for (i, l) in head.linears.enumerated() {
            gc.check("fc.\(2 * i).weight", buffer: l.weight.value.pointer, count: l.weight.count, analytic: l.weight.gradValues, loss: loss)
            gc.check("fc.\(2 * i).bias", buffer: l.bias.value.pointer, count: l.bias.count, analytic: l.bias.gradValues, loss: loss)
        }
    }

    /// Both block types end to end, including the shortcut with its own conv + BN.
    @Test(arguments: [false, true])
    func residualBlocks(_ bottleneck: Bool) {
        // A smaller step: the block's ReLUs sit on batch-normalised values, so a 1e-2 step
        // pushes some of them across the kink.
        var gc = GradientCheck(h: 1e-3)
        let block: any ResidualBlock =
            bottleneck
            ? Bottleneck(inChannels: 4, planes: 2, stride: 2) : BasicBlock(inChannels: 4, planes: 6, stride: 2)
        for conv in block.convolutions {
            let v = gc.values(conv.weight.count).map { $0 * 0.5 }
            v.withUnsafeBufferPointer { conv.weight.value.pointer.update(from: $0.baseAddress!, count: v.count) }
        }
        let shape = Shape4(n: 2, h: 6, w: 5, c: 4)
        let x = Tensor4(shape: shape, values: gc.values(shape.count))
        let y = block.forward(x)
        let probe = gc.values(y.shape.count)
        let loss = { dot(block.forward(x).values, probe) }
        _ = block.forward(x)
        let dx = block.backward(Tensor4(shape: y.shape, values: probe)).values
        gc.check("block input", buffer: x.pointer, count: shape.count, analytic: dx, loss: loss)
        for (i, conv) in block.convolutions.enumerated() {
            gc.check(
                "block conv \(i)", buffer: conv.weight.value.pointer, count: conv.weight.count, analytic: conv.weight.gradValues, loss: loss
            )
        }
    }
}
