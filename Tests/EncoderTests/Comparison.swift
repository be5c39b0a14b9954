import Encoder
import Foundation
import Testing

/// The fixtures written by Tests/Fixtures/encoder/make_encoder_fixtures.py (PyTorch).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/encoder")

    static func load(_ name: String) throws -> SafeTensors {
        let file = try SafeTensors(contentsOf: directory.appendingPathComponent(name))
        try #require(
            file.metadata["format"] == "comcl-encoder-fixture" && file.metadata["version"] == "1",
            "\(name): unexpected fixture format/version \(file.metadata)")
        return file
    }
}

/// Max absolute difference, and that difference relative to the reference's largest magnitude
/// (so near-zero entries do not blow the ratio up), as llm.c reports its checks.
struct Difference: CustomStringConvertible {
    let maxAbs: Double, rel: Double
    init(_ mine: [Float], _ reference: [Float]) {
        precondition(mine.count == reference.count, "\(mine.count) vs \(reference.count) values")
        var d = 0.0, scale = 0.0
        for (a, b) in zip(mine, reference) {
            d = max(d, abs(Double(a) - Double(b)))
            scale = max(scale, abs(Double(b)))
        }
        maxAbs = d
        rel = d / max(scale, 1e-12)
    }
    var description: String { String(format: "max abs %.3g, rel %.3g", maxAbs, rel) }
}

/// Compares and records one tensor; the test fails naming the tensor and its difference.
func expectClose(
    _ name: String, _ mine: [Float], _ reference: [Float], rel tolerance: Double,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard mine.count == reference.count else {
        Issue.record("\(name): \(mine.count) values vs \(reference.count) in the reference", sourceLocation: sourceLocation)
        return
    }
    let d = Difference(mine, reference)
    #expect(d.rel <= tolerance, "\(name): \(d) exceeds rel \(tolerance)", sourceLocation: sourceLocation)
}

/// NCHW (PyTorch) -> NHWC (ours).
func channelsLast(_ v: [Float], n: Int, c: Int, h: Int, w: Int) -> Tensor4 {
    let x = Tensor4(shape: Shape4(n: n, h: h, w: w, c: c))
    v.withUnsafeBufferPointer { x.setChannelsFirst($0) }
    return x
}
