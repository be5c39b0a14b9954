import Basics
@testable import Encoder
import Foundation
import Testing

@Suite struct SafeTensorsTests {
    func sample() -> Data {
        var w = SafeTensorsWriter()
        w.metadata = ["k": "v \"quoted\""]
        w.add("a", floats: [1, 2, 3, 4, 5, 6], shape: [2, 3])
        w.add("b.count", integers: [7], shape: [])
        return w.data()
    }

    @Test func roundTrip() throws {
        let f = try SafeTensors(data: sample())
        #expect(f.names == ["a", "b.count"])
        #expect(try f.floats("a") == [1, 2, 3, 4, 5, 6])
        #expect(try f.entry("a").shape == [2, 3])
        #expect(try f.integers("b.count") == [7])
        #expect(f.metadata["k"] == "v \"quoted\"")
        #expect(throws: SafeTensorsError.missing("c")) { try f.floats("c") }
        #expect(throws: SafeTensorsError.wrongType(name: "b.count", expected: "F32 or F64", found: "I64")) { try f.floats("b.count") }
    }

    /// Header bytes with a given JSON and body.
    func file(_ json: String, body: Int) -> Data {
        var d = Data()
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(json.utf8))
        d.append(Data(count: body))
        return d
    }

    @Test func rejectsMalformedFiles() {
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "truncated"),
            (sample().prefix(40), "truncated"),
            (sample().dropLast(4), "outside"),
            (sample() + Data([0, 0, 0, 0]), "tensors cover"),
            (file("[1,2]", body: 0), "JSON object"),
            (file("{\"a\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}", body: 4), "unknown dtype"),
            (file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", body: 4), "needs 8 bytes"),
            (file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", body: 4), "outside"),
            (file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", body: 4), "bad shape"),
            (
                file(
                    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                    body: 4), "overlap"
            ),
            (file("{\"__metadata__\":{\"a\":1}}", body: 0), "strings"),
            (file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", body: 4), "bad shape"),
        ]
        for (data, expected) in cases {
            do {
                _ = try SafeTensors(data: data)
                Issue.record("accepted a malformed file (expected '\(expected)')")
            } catch {
                #expect("\(error)".contains(expected), "error '\(error)' should mention '\(expected)'")
            }
        }
        var huge = Data()
        withUnsafeBytes(of: UInt64(1) << 40) { huge.append(contentsOf: $0) }
        #expect(throws: SafeTensorsError.badHeader("header length 1099511627776 exceeds 67108864")) { try SafeTensors(data: huge) }
        // A torch.save file (zip since PyTorch 1.6; pickle protocol 2 before) is named as such.
        for start: [UInt8] in [[0x50, 0x4B, 0x03, 0x04], [0x80, 0x02, 0x8A, 0x0A]] {
            #expect { try SafeTensors(data: Data(start + [UInt8](repeating: 0, count: 60))) } throws: {
                "\($0)".hasPrefix("a PyTorch checkpoint (torch.save's zip or pickle): convert its state_dict first")
            }
        }
    }
}

@Suite struct ModelStateTests {
    let config = ModelConfig.contrastive(arch: .resnet18, width: 0.0625)

    @Test func saveLoadRoundTripIsExact() throws {
        let a = EncoderModel(config, seed: 1), b = EncoderModel(config, seed: 2)
        a.backbone.bn1.batchesTracked.value = 42
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-state-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelState.save(a, to: url)
        try ModelState.load(contentsOf: url, into: b)
        for ((n, ta), (_, tb)) in zip(a.state(), b.state()) {
            switch (ta, tb) {
            case let (.parameter(p), .parameter(q)): #expect(p.values == q.values, "\(n)")
            case let (.counter(p), .counter(q)): #expect(p.value == q.value, "\(n)")
            default: Issue.record("\(n): kinds differ")
            }
        }
        // PyTorch's layout on disk: conv weights [out, in, kh, kw], counters int64.
        let file = try SafeTensors(contentsOf: url)
        #expect(try file.entry("layer1.0.conv1.weight").shape == [4, 4, 3, 3])
        #expect(try file.entry("bn1.num_batches_tracked").dtype == .i64)
        #expect(try file.floats("conv1.weight") == a.backbone.conv1.weight.torchValues())
    }

    @Test func clearErrorsForWeightsThatDoNotFit() throws {
        let small = EncoderModel(config)
        let wide = ModelState.encode(EncoderModel(.contrastive(arch: .resnet18, width: 0.125)))
        #expect(throws: ModelStateError.shape(name: "conv1.weight", model: [4, 3, 7, 7], file: [8, 3, 7, 7])) {
            try ModelState.load(try SafeTensors(data: wide), into: small)
        }
        let deeper = ModelState.encode(EncoderModel(.contrastive(arch: .resnet34, width: 0.0625)))
        do {
            try ModelState.load(try SafeTensors(data: deeper), into: small)
            Issue.record("loaded resnet34 weights into resnet18")
        } catch let ModelStateError.unexpected(names) {
            #expect(names.contains("layer1.2.conv1.weight"))
        }
        let bare = ModelState.encode(EncoderModel(ModelConfig(arch: .resnet18, width: 0.0625)))
        #expect(throws: ModelStateError.missing(["fc.0.weight", "fc.0.bias", "fc.2.weight", "fc.2.bias"])) {
            try ModelState.load(try SafeTensors(data: bare), into: small)
        }
        // The backbone scope ignores heads on both sides (pre-trained encoder -> classifier).
        let classifier = EncoderModel(ModelConfig(arch: .resnet18, width: 0.0625, head: .classifier(classes: 5)))
        try ModelState.load(try SafeTensors(data: ModelState.encode(small)), into: classifier, scope: .backbone)
        #expect(classifier.backbone.conv1.weight.values == small.backbone.conv1.weight.values)
        #expect(throws: ModelStateError.self) {
            try ModelState.load(contentsOf: URL(fileURLWithPath: "/nonexistent.safetensors"), into: small)
        }
    }

    /// Same seed, same network; and a training step twice from the same state gives bitwise the
    /// same gradients (fixed summation order for a given thread count).
    @Test func deterministic() {
        let a = EncoderModel(config, seed: 9), b = EncoderModel(config, seed: 9), c = EncoderModel(config, seed: 10)
        #expect(a.backbone.conv1.weight.values == b.backbone.conv1.weight.values)
        #expect(a.backbone.conv1.weight.values != c.backbone.conv1.weight.values)
        var rng = SeededGenerator(seed: 3)
        let x = Tensor4(shape: Shape4(n: 4, h: 40, w: 40, c: 3), values: (0..<(4 * 40 * 40 * 3)).map { _ in Float(rng.normal()) })
        func grads(_ m: EncoderModel) -> [[Float]] {
            m.zeroGrad()
            let z = m.forward(x)
            m.backward(Matrix(rows: z.rows, cols: z.cols, values: Array(repeating: 0.1, count: z.count)))
            return m.parameters.map { $0.parameter.gradValues }
        }
        #expect(grads(a) == grads(b))
    }

    /// torchvision's init statistics: conv std sqrt(2 / fan_out), linear U(+-1/sqrt(fan_in)).
    @Test func kaimingInitialisation() {
        let m = EncoderModel(.contrastive(arch: .resnet18, width: 0.5), seed: 4)
        let conv = m.backbone.stages[3][0].convolutions[1]  // 256 -> 256, 3x3
        let v = conv.weight.values.map(Double.init)
        let std = (v.map { $0 * $0 }.reduce(0, +) / Double(v.count)).squareRoot()
        #expect(abs(std - (2.0 / Double(256 * 9)).squareRoot()) < 0.02 * std)
        let fc = m.projection!.linears[0]
        let bound = 1 / Double(fc.inFeatures).squareRoot()
        #expect(fc.weight.values.allSatisfy { abs(Double($0)) <= bound })
        #expect(fc.weight.values.map { abs(Double($0)) }.max()! > 0.95 * bound)
    }
}
