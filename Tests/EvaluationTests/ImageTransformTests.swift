import Encoder
import Evaluation
import Foundation
import Testing

/// The fine-tune's rotation and flips against torchvision's F.rotate (bilinear, zero padding) and
/// flips (Tests/Fixtures/evaluation/make_rotation_fixture.py).
@Suite struct ImageTransformTests {
    nonisolated(unsafe) static let fixture: SafeTensors = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/evaluation/rotation.safetensors")
        let file = try! SafeTensors(contentsOf: url)
        precondition(
            file.metadata["format"] == "comcl-rotation-fixture" && file.metadata["version"] == "1", "unexpected fixture \(file.metadata)")
        return file
    }()

    /// With mean 0 and std 1/255 the normalisation leaves the 0-255 values as they are.
    static let identityScale = Normalization(mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255])

    @Test(arguments: ["ccw30", "cw123", "quarter", "near_half", "small"])
    func matchesTorchvision(_ name: String) throws {
        let cases = try JSONSerialization.jsonObject(with: Data(Self.fixture.metadata["cases"]!.utf8)) as! [String: [String: Any]]
        let c = try #require(cases[name])
        let pixels = try Self.fixture.floats("image").map { UInt8($0) }
        let transform = ImageTransform(flipHorizontal: c["h"] as! Bool, flipVertical: c["v"] as! Bool, degrees: c["degrees"] as! Double)
        let batch = Tensor4(shape: Shape4(n: 1, h: 20, w: 20, c: 3))
        transform.write(pixels, into: batch, index: 0, normalization: Self.identityScale)
        let expected = try Self.fixture.floats(name)
        let worst = (0..<expected.count).map { abs(batch.pointer[$0] - expected[$0]) }.max()!
        // torchvision builds its grid in float32 from a rounded matrix: a few 1e-3 of a level.
        #expect(worst < 0.05, "\(name): worst difference \(worst) of 255")
    }

    @Test func identityIsTheNormalisation() {
        let pixels = (0..<(8 * 8 * 3)).map { UInt8($0 % 256) }
        let a = Tensor4(shape: Shape4(n: 1, h: 8, w: 8, c: 3)), b = Tensor4(shape: Shape4(n: 1, h: 8, w: 8, c: 3))
        ImageTransform.identity.write(pixels, into: a, index: 0, normalization: .imageNet)
        Normalization.imageNet.write(rgb: pixels, into: b, index: 0)
        #expect((0..<a.shape.count).allSatisfy { a.pointer[$0] == b.pointer[$0] })
    }
}
